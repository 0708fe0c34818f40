"""Offline markets: the recorded exchangeInfo responses, parsed by ccxt's own code."""

from __future__ import annotations

import json

import pytest

from centaur.offline.markets import load_snapshot
from centaur.offline.recordings import first_response
from centaur.settings import CentaurConfigError
from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import RECORDINGS


def _recorded_filters(file_name: str, url_path: str, symbol: str) -> dict[str, dict]:
    info = first_response(RECORDINGS / file_name, url_path).json()
    entry = next(s for s in info["symbols"] if s["symbol"] == symbol)
    return {f["filterType"]: f for f in entry["filters"]}


def test_snapshot_markets_carry_the_recorded_precision_and_limits():
    snapshot = load_snapshot("binance", RECORDINGS)
    for pair, symbol, file_name, path in (
        ("BTC/USDT:USDT", "BTCUSDT", "BINANCE_FUTURES.0", "/fapi/v1/exchangeInfo"),
        ("ETH/USDT", "ETHUSDT", "BINANCE.0", "/api/v3/exchangeInfo"),
    ):
        market = snapshot.markets[pair]
        filters = _recorded_filters(file_name, path, symbol)
        assert market["id"] == symbol
        assert market["precision"]["price"] == float(filters["PRICE_FILTER"]["tickSize"])
        assert market["precision"]["amount"] == float(filters["LOT_SIZE"]["stepSize"])
        assert market["limits"]["amount"]["min"] == float(filters["LOT_SIZE"]["minQty"])
    assert snapshot.markets["BTC/USDT:USDT"]["linear"] is True
    assert snapshot.markets["BTC/USDT:USDT"]["swap"] is True
    assert snapshot.markets["ETH/USDT"]["spot"] is True


def test_unknown_exchange_and_missing_recordings_are_clear_errors(tmp_path):
    with pytest.raises(CentaurConfigError, match="No offline markets recording for exchange"):
        load_snapshot("kraken", RECORDINGS)
    with pytest.raises(CentaurConfigError, match="recordings_dir .* does not exist"):
        load_snapshot("binance", tmp_path / "nowhere")


@pytest.mark.slow
def test_pair_missing_from_the_snapshot_names_the_pair_and_the_fix(tmp_path):
    config = write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "HYPE/USDT:USDT"]}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250601-20250602"])
    output = process.stdout + process.stderr
    assert process.returncode == 2, output[-3000:]
    assert "HYPE/USDT:USDT not in the offline markets snapshot" in output
    assert "Fix: remove them from exchange.pair_whitelist" in output


@pytest.mark.slow
def test_backtest_config_runs_offline_on_the_snapshot(tmp_path):
    """The shipped backtest config loads markets without any network (the test has none)."""
    config = write_config(tmp_path, "backtest.json", {"exchange": {"pair_whitelist":
                                                                   ["BTC/USDT:USDT"]}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250601-20250603",
                             "--export", "none"])
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert json.loads(config.read_text())["centaur"]["exchange"]["offline_markets"]["enabled"]
