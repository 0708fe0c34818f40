"""The flagship's long-only spot variant runs on spot candles a user brings.

Real ``freqtrade backtesting`` of ``CentaurEnsembleSpot`` with the project's spot configs:
the 2021-22 spot set (1h, six pairs from the bull top into the bear market; markets from the
recorded BINANCE.0 exchangeInfo of 2021-10-12) and the 2025-26 5m BTC/ETH spot candles. Every
trade is a long, unlevered, charged no funding; the futures-only signals abstain and say so
once; equity counts the coins an open trade holds (a spot entry is not a day's loss).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from centaur.offline.markets import load_snapshot
from strategies.CentaurEnsembleSpot import CentaurEnsembleSpot
from strategies.signals import REGISTRY
from tests.support.freqtrade_run import backtest, load_project_config, write_config
from tests.support.paths import DATA, RECORDINGS

pytestmark = pytest.mark.slow

FUTURES_ONLY = {"basis", "funding"}  # the signals that need perpetual-futures data


def _spot_config(directory: Path, name: str, datadir: Path) -> Path:
    path = write_config(directory, name)
    config = json.loads(path.read_text())
    config["datadir"] = str(datadir)  # write_config points every config at binance/
    path.write_text(json.dumps(config, indent=2))
    return path


@pytest.fixture(scope="module")
def period_2021(tmp_path_factory):
    directory = tmp_path_factory.mktemp("spot_2021")
    config = _spot_config(directory, "backtest-spot-2021.json", DATA / "binance-2021-22q1")
    timerange = load_project_config("backtest-spot-2021.json")["timerange"]
    return backtest(directory, config, timerange=timerange)


@pytest.fixture(scope="module")
def period_2025(tmp_path_factory):
    directory = tmp_path_factory.mktemp("spot_2025")
    config = _spot_config(directory, "backtest-spot.json", DATA / "binance")
    return backtest(directory, config, timerange="20250101-20250401")


def _voters(trade) -> set[str]:
    return set(trade["enter_tag"].split("+"))


def test_the_2021_22_spot_set_trades_long_only_unlevered_without_funding(period_2021):
    stats, trades = period_2021.stats, period_2021.trades
    assert period_2021.strategy == "CentaurEnsembleSpot"
    assert (stats["trading_mode"], stats["timeframe"]) == ("spot", "1h")
    assert len(trades) >= 10
    assert not any(t["is_short"] for t in trades)
    assert {t["leverage"] for t in trades} == {1.0}
    assert all(t["funding_fees"] == 0 for t in trades)
    whitelist = set(load_project_config("backtest-spot-2021.json")["exchange"]["pair_whitelist"])
    assert {t["pair"] for t in trades} <= whitelist
    for trade in trades:
        assert _voters(trade) <= set(REGISTRY) - FUTURES_ONLY, trade["enter_tag"]


def test_a_spot_entry_is_not_read_as_a_day_loss(period_2021):
    """Spot equity adds back what open trades hold: entries do not trip the daily-drawdown
    breaker (before spot equity counted the coins held, every entry 'lost' its stake and was
    flattened)."""
    exits = {t["exit_reason"] for t in period_2021.trades}
    assert "DAILY_DRAWDOWN" not in exits
    output = period_2021.process.stdout + period_2021.process.stderr
    assert "[DAILY_DRAWDOWN]" not in output


def test_the_futures_only_signals_say_once_that_they_abstain(period_2021):
    output = period_2021.process.stdout + period_2021.process.stderr
    lines = [line for line in output.splitlines() if "on spot markets: signals" in line]
    assert len(lines) == 1
    assert all(name in lines[0] for name in FUTURES_ONLY)
    assert "funding_rate" not in output.split("on spot markets: signals")[1]  # never asked


def test_the_2025_26_5m_spot_candles_run_long_only(period_2025):
    stats = period_2025.stats
    assert (stats["trading_mode"], stats["timeframe"]) == ("spot", "5m")
    assert stats["backtest_start"].startswith("2025-01")
    assert not any(t["is_short"] for t in period_2025.trades)


@pytest.mark.parametrize("name", ["backtest-spot.json", "backtest-spot-2021.json"])
def test_the_configured_pairs_are_in_the_recorded_spot_markets(name):
    """Offline markets come from BINANCE.0 (2021-10-12): every configured pair is listed
    there (of the 34 pairs of the 2021-22 set only APE, listed 2022-03-17, is not)."""
    pairs = load_project_config(name)["exchange"]["pair_whitelist"]
    snapshot = load_snapshot("binance", RECORDINGS)
    assert snapshot.missing(pairs) == []
    assert all(snapshot.markets[p]["spot"] for p in pairs)


def test_the_spot_variant_cannot_short():
    assert CentaurEnsembleSpot.can_short is False
