"""The flagship's signals in ``freqtrade trade --dry-run`` against the local venue: spot candles
(the basis), funding history and the 1h informatives arrive through freqtrade's DataProvider
over ccxt, the tracker warms up from the downloaded history, and the REST API serves the
ensemble columns FreqUI plots and the tracker's state in the suite's status route."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from freqtrade_client import FtRestClient

from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from strategies.signals import REGISTRY
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, free_port, wait_until


pytestmark = pytest.mark.slow

ANCHOR = datetime(2025, 6, 12, 9, tzinfo=UTC)
PAIR = "BTC/USDT:USDT"
USER, PASSWORD = "centaur", "ensemble-dry-run-password"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ensemble_dry_run")
    api_port = free_port()
    settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS, anchor=ANCHOR)
    with running_venue(settings) as venue:
        config = write_config(directory, "dry-run.json", {
            "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
            "exchange": {"pair_whitelist": [PAIR, "ETH/USDT:USDT"],
                         "ccxt_config": venue_ccxt_config(venue.url)},
            "api_server": {"listen_port": api_port},
        })
        process = TradeProcess(config, directory / "freqtrade.log", env={
            "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "k" * 40,
            "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-tests"})
        client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD)
        try:
            wait_until(lambda: client.ping() == {"status": "pong"}, 120, "the REST API", process)
            answer = wait_until(lambda: _analysed(client), 180, "analysed candles", process)
            candles = pd.DataFrame(answer["data"], columns=answer["columns"])
            yield {"client": client, "venue": venue, "candles": candles, "process": process}
        finally:
            process.stop()


def _analysed(client: FtRestClient) -> dict | None:
    answer = client.pair_candles(PAIR, "5m", limit=400)
    return answer if answer and "ens_score" in answer.get("columns", []) else None


def _expected_basis_z(bot) -> float:
    last = bot["candles"].iloc[-1]
    data_time = bot["venue"].state.clock.to_data(pd.Timestamp(last["date"]).to_pydatetime())
    hour = (pd.Timestamp(data_time) + pd.Timedelta(minutes=5)).floor("1h") - pd.Timedelta(hours=1)
    perp = pd.read_feather(BINANCE_DATA / "futures" / "BTC_USDT_USDT-1h-futures.feather")
    spot = pd.read_feather(BINANCE_DATA / "BTC_USDT-1h.feather")
    basis = (perp.set_index("date")["close"] / spot.set_index("date")["close"] - 1).dropna()
    window = basis.loc[:hour].iloc[-24:]
    return (window.iloc[-1] - window.mean()) / window.std()


def test_the_basis_is_computed_from_spot_candles_served_over_ccxt(bot):
    last = bot["candles"].iloc[-1]
    assert last["basis_z_1h"] == pytest.approx(_expected_basis_z(bot), rel=1e-6)
    assert last["sig_basis_available"]


def test_funding_and_hourly_columns_are_live_and_the_ensemble_is_plotted(bot):
    last = bot["candles"].iloc[-1]
    assert np.isfinite(last["funding_z"]) and np.isfinite(last["adx_1h"])
    plot = bot["client"].plot_config()
    assert "ens_score" in plot["subplots"]["Ensemble"]
    assert all(f"ens_w_{name}" in bot["candles"] for name in REGISTRY)


def test_the_tracker_read_its_window_from_the_downloaded_history(bot):
    status = bot["client"]._get("centaur/status")["strategy_status"]
    signals = status["signals"]
    assert set(signals) == set(REGISTRY)
    assert sum(s["calls"] for s in signals.values()) > 0
    assert signals["ranker"]["status"] == "probation" and signals["ranker"]["calls"] == 0
    assert status["tracker_covered_from"] is not None  # 2,400 start-up candles cover it


def test_the_configured_pipeline_is_in_the_status(bot):
    status = bot["client"]._get("centaur/status")["strategy_status"]
    pipeline = status["pipeline"]
    assert pipeline["gates"][0] == "halts"
    assert "order_book" in pipeline["gates"]  # trading: the live book is a gate
    assert pipeline["sizer"] == ["position_sizing"]
    assert isinstance(status["denials"], dict)
