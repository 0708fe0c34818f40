"""The suite protection, loaded by plain freqtrade, locks and entries stop (real backtests)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support.freqtrade_run import backtest, write_config


pytestmark = pytest.mark.slow

PAIR = "BTC/USDT:USDT"
TIMERANGE = "20250301-20250308"


def _config(tmp_path, enable_protections: bool):
    return write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": [PAIR]},
        "max_open_trades": 1,
        "enable_protections": enable_protections,
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
    }, name=f"config-{enable_protections}.json")


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("loss_streak")
    on = backtest(directory, _config(directory, True), timerange=TIMERANGE,
                  strategy="LossStreakScenario")
    off = backtest(directory, _config(directory, False), timerange=TIMERANGE,
                   strategy="LossStreakScenario")
    return on, off


def test_suite_protection_locks_after_the_streak(runs):
    on, _ = runs
    streak_locks = [lock for lock in on.locks if lock["reason"].startswith("[LOSS_STREAK]")]
    assert streak_locks, "LossStreakGuard never locked"
    trades = sorted(on.trades, key=lambda t: t["close_date"])
    for lock in streak_locks:
        start = datetime.fromtimestamp(lock["lock_timestamp"] / 1000).astimezone()
        closed_before = [t for t in trades if _ts(t["close_date"]) <= start]
        assert len(closed_before) >= 3
        assert all(t["profit_abs"] < 0 for t in closed_before[-3:]), "lock without a 3-loss streak"
        assert lock["lock_end_timestamp"] > lock["lock_timestamp"], "lock ends before its cause"


def test_no_entry_while_locked_and_entries_resume(runs):
    on, _ = runs
    windows = [(lock["lock_timestamp"], lock["lock_end_timestamp"]) for lock in on.locks]
    opens = [t["open_timestamp"] for t in on.trades]
    inside = [o for o in opens if any(start <= o < end for start, end in windows)]
    assert inside == [], "entries opened while the suite protection had all pairs locked"
    last_end = max(end for _, end in windows)
    assert any(o >= min(end for _, end in windows) for o in opens), "entries never resumed"
    assert last_end > 0


def test_without_protections_the_same_windows_would_have_trades(runs):
    on, off = runs
    windows = [(lock["lock_timestamp"], lock["lock_end_timestamp"]) for lock in on.locks]
    blocked = [t for t in off.trades
               if any(start <= t["open_timestamp"] < end for start, end in windows)]
    assert blocked, "the lock windows hold no would-be entries: the scenario proves nothing"
    assert len(on.trades) < len(off.trades)
