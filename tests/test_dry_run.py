"""``freqtrade trade --dry-run`` offline against the local venue, queried like an operator would.

The venue replays the real candles through ccxt's own ``binance`` class. The flagship bot is
driven through ``freqtrade-client`` (REST: ping, status, plot_config, pair candles, a forced
entry sized by the risk layer, the suite's status route) and Telegram (a local Bot API server);
a scenario strategy that signals on every candle shows a strategy's own signal opening a trade.
(The flagship's ensemble state depends on the whole history it has seen, so the moment of its
next signal cannot be placed within a test's minutes; its live analysis is covered in
``tests/test_ensemble_dry_run.py``.)
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
import pytest
from freqtrade_client import FtRestClient

from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS, TEST_STRATEGIES
from tests.support.processes import TradeProcess, as_list, free_port, wait_until


pytestmark = pytest.mark.slow

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
CHAT_ID = 424242
OTHER_CHAT = 999
TOKEN = "123456:CENTAUR-TEST-TOKEN"
USER, PASSWORD = "centaur", "dry-run-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "j" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-tests",
    "FREQTRADE__TELEGRAM__TOKEN": TOKEN,
    "FREQTRADE__TELEGRAM__CHAT_ID": str(CHAT_ID),
}


@contextmanager
def dry_run_bot(directory, venue, overrides: dict, telegram_url: str | None = None):
    """A ``freqtrade trade`` process on config/dry-run.json, pointed at ``venue``."""
    api_port = free_port()
    config = write_config(directory, "dry-run.json", {
        "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
        "exchange": {"ccxt_config": venue_ccxt_config(venue.url)},
        "api_server": {"listen_port": api_port},
        "telegram": {"enabled": telegram_url is not None},
        "centaur": {"telegram": {"base_url": telegram_url}},
        **overrides,
    })
    process = TradeProcess(config, directory / "freqtrade.log", env=ENV)
    client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=120)
    try:
        wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API", process)
        yield client, process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def venue():
    with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                     anchor=ANCHOR)) as running:
        yield running


@pytest.fixture(scope="module")
def bot(venue, tmp_path_factory):
    telegram, stop_telegram = start_fake_bot_api(TOKEN)
    try:
        with dry_run_bot(tmp_path_factory.mktemp("dry_run"), venue, {}, telegram.url) as (
                client, process):
            # Entries need the analysis (the risk layer denies without it: DATA_GAP).
            wait_until(lambda: client.pair_candles("ETH/USDT:USDT", "5m", limit=5).get("data"),
                       240, "the first analysis", process, 2)
            yield {"client": client, "process": process, "venue": venue, "telegram": telegram}
    finally:
        stop_telegram()


def test_a_strategy_signal_opens_a_trade(venue, tmp_path_factory):
    overrides = {"strategy": "RiskScenarioEveryCandle", "strategy_path": str(TEST_STRATEGIES)}
    with dry_run_bot(tmp_path_factory.mktemp("signal"), venue, overrides) as (client, process):
        trades = wait_until(lambda: as_list(client.status()), 240, "a dry-run trade", process, 2)
    trade = trades[0]
    assert trade["is_open"] and trade["strategy"] == "RiskScenarioEveryCandle"
    assert not trade["enter_tag"] and not trade["is_short"]  # the strategy's own long
    assert trade["amount"] > 0 and trade["open_rate"] > 0
    assert trade["stake_amount"] <= 0.05 * 10_000 * (1 + 1e-9)  # the risk layer sized it


def test_the_flagship_opens_a_forced_trade_sized_by_its_risk_layer(bot):
    client, process = bot["client"], bot["process"]
    client.forceenter("ETH/USDT:USDT", "short")
    trade, = wait_until(lambda: [t for t in as_list(client.status())  # not the ensemble's own
                                 if t["enter_tag"] == "force_entry"], 60, "the forced entry",
                        process)
    assert trade["pair"] == "ETH/USDT:USDT" and trade["is_short"]
    assert trade["strategy"] == "CentaurEnsemble" and trade["enter_tag"] == "force_entry"
    assert 0 < trade["stake_amount"] <= 0.05 * 10_000 * (1 + 1e-9)
    assert 1.0 <= trade["leverage"] <= 10.0
    mid = bot["venue"].state.mid(bot["venue"].state.futures["ETHUSDT"])
    assert trade["open_rate"] == pytest.approx(mid, rel=0.002)  # filled at the replayed book
    # The decision trail on the trade itself (FreqUI's trade detail reads custom_data).
    found = wait_until(lambda: _custom_data(client, trade["trade_id"], "centaur_entry"), 30,
                       "the entry's decision trail", process)
    trail = found[0]
    assert trail["proposal"]["pair"] == "ETH/USDT:USDT" and trail["proposal"]["side"] == "short"
    assert trail["proposal"]["tag"] == "force_entry"
    assert trail["gates_passed"]  # the risk layer's gates, in order
    assert trail["sizing"]["stake_usd"] == pytest.approx(trade["stake_amount"], rel=0.02)
    assert trail["sizing"]["risk_basis"] and trail["sizing"]["binding_cap"]  # why this size
    assert trail["order"]["notional_usd"] == pytest.approx(
        trade["amount"] * trade["open_rate"], rel=0.01)


def _custom_data(client, trade_id: int, key: str) -> list:
    answer = client.list_custom_data(trade_id, key)
    if not isinstance(answer, list):
        return []
    return [entry["value"] for trade in answer for entry in trade["custom_data"]
            if entry["key"] == key]


def test_rest_api_serves_ping_plot_config_and_replayed_candles(bot):
    from strategies.CentaurEnsemble import CentaurEnsemble

    client, venue = bot["client"], bot["venue"]
    assert client.ping() == {"status": "pong"}
    assert client.plot_config() == json.loads(json.dumps(CentaurEnsemble.plot_config.fget(None)))
    candles = client.pair_candles("BTC/USDT:USDT", "5m", limit=50)
    columns = candles["columns"]
    assert {"ens_score", "funding_rate", "ema_fast_1h", "risk_atr"} <= set(columns)
    last = dict(zip(columns, candles["data"][-1], strict=True))
    data_time = venue.state.clock.to_data(pd.Timestamp(last["date"]).to_pydatetime())
    recorded = pd.read_feather(BINANCE_DATA / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    recorded_close = recorded.loc[recorded["date"] == pd.Timestamp(data_time), "close"]
    assert float(recorded_close.iloc[0]) == pytest.approx(last["close"])


def test_suite_status_route_reports_the_suite_plugins_in_use(bot):
    status = bot["client"]._get("centaur/status")
    assert status["exchange_class"] == "CentaurBinance"
    assert status["protections"] == ["LossStreakGuard"]
    assert status["strategy"] == "CentaurEnsemble"


def test_telegram_command_answers_only_the_authorised_chat(bot):
    telegram = bot["telegram"]
    wait_until(lambda: telegram.polls > 0, 60, "Telegram polling", bot["process"])
    telegram.send_command(OTHER_CHAT, 1, "/centaur")
    telegram.send_command(CHAT_ID, 1, "/centaur")
    answers = telegram.wait_for(lambda m: "CentaurBinance" in m["text"], 60)
    assert answers, bot["process"].log()[-3000:]
    assert all(m["chat_id"] == CHAT_ID for m in telegram.sent)
    assert len(answers) == 1, "the unauthorised chat's command was answered too"
