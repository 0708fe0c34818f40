"""The decay tracker's state is the same after a backtest, after a replay of the same outcomes
one candle at a time (with a restart through the state store half-way), and along freqtrade's
live analysis path - at every candle.

A real freqtrade ``Backtesting`` of the flagship runs in this process (the engine, the
DataProvider with spot and funding data, the callbacks), so its strategy - and its tracker -
can be inspected afterwards. Outcomes are checked against the raw candle files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.enums import RunMode
from freqtrade.optimize.backtesting import Backtesting

from centaur.state import StateStore
from strategies.signal_outcomes import dates_ns
from strategies.signals import REGISTRY
from strategies.tracker_ledger import TrackerLedger
from tests.support.freqtrade_run import write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT:USDT", "BTC/USDT:USDT"]  # not sorted: the replay must not depend on order
TIMERANGE = "20250401-20250411"
STEP_NS = 300 * 1_000_000_000
LIVE_STEPS = 36


def _steps_across_a_weight_change(ledger: TrackerLedger, dates: np.ndarray) -> np.ndarray:
    """``LIVE_STEPS`` candles around the last change of a non-zero weight (so the comparison
    below compares live weights that move, not zeros)."""
    weights, _ = ledger.state_at(dates)
    changed = np.flatnonzero((np.diff(weights, axis=0) != 0).any(axis=1)
                             & (weights[1:] > 0).any(axis=1)) + 1
    assert len(changed), "no non-zero weight ever changed: the comparison would be vacuous"
    end = min(int(changed[-1]) + LIVE_STEPS // 2, len(dates))
    return dates[end - LIVE_STEPS:end]


def _until(candles: pd.DataFrame, at_ns: int) -> pd.DataFrame:
    return candles[dates_ns(candles) <= at_ns].copy()


def _backtesting(directory) -> Backtesting:
    path = write_config(directory, "backtest.json", {"exchange": {"pair_whitelist": PAIRS}})
    config = setup_optimize_configuration({
        "config": [str(path)], "strategy": "CentaurEnsemble", "timerange": TIMERANGE,
        "strategy_path": str(PROJECT_ROOT / "user_data" / "strategies"), "export": "none",
        "backtest_cache": "none"}, RunMode.BACKTEST)
    return Backtesting(config)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    engine = _backtesting(tmp_path_factory.mktemp("backtest"))
    data, timerange = engine.load_bt_data()
    engine.backtest_one_strategy(engine.strategylist[0], data, timerange)
    strategy = engine.strategy
    analysed = {pair: strategy.advise_indicators(data[pair].copy(), {"pair": pair})
                for pair in PAIRS}
    outcomes = {pair: strategy.signals.scored_calls(frame) for pair, frame in analysed.items()}
    dates = np.unique(np.concatenate([dates_ns(frame) for frame in analysed.values()]))
    return {"engine": engine, "strategy": strategy, "data": data, "analysed": analysed,
            "outcomes": outcomes, "dates": dates}


def test_the_backtest_scored_calls_and_weighted_signals(backtest):
    ledger = backtest["strategy"].signals.tracker_ledger
    times, table = ledger.timeline()
    assert len(times) > 100
    calls = table[-1, 1]
    assert (calls > 0).sum() >= 5, dict(zip(ledger.names, calls, strict=True))
    weights, _ = ledger.state_at(backtest["dates"])
    assert (weights >= 0).all() and (weights > 0).any()
    assert len(np.unique(weights, axis=0)) > 10


def test_outcomes_are_the_forward_returns_of_the_raw_candles(backtest):
    strategy = backtest["strategy"]
    cost = strategy.centaur.ensemble.tracker.outcome_cost_ratio
    for pair, outcomes in backtest["outcomes"].items():
        stem = pair.replace("/", "_").replace(":", "_")
        raw = pd.read_feather(BINANCE_DATA / "futures" / f"{stem}-5m-futures.feather")
        close = pd.Series(raw["close"].to_numpy(), index=dates_ns(raw))
        frame = backtest["analysed"][pair].set_index(dates_ns(backtest["analysed"][pair]))
        for i in range(0, len(outcomes), max(len(outcomes) // 60, 1)):
            name = strategy.signals.signal_names[outcomes.signal[i]]
            horizon = outcomes.known_at_ns[i] - STEP_NS - outcomes.call_at_ns[i]
            direction = frame.loc[outcomes.call_at_ns[i], f"sig_{name}_direction"]
            moved = close[outcomes.known_at_ns[i] - STEP_NS] / close[outcomes.call_at_ns[i]] - 1
            assert direction in (-1, 1)
            assert horizon == REGISTRY[name].signal.horizon_candles * STEP_NS
            assert outcomes.outcome_ppm[i] == pytest.approx((direction * moved - cost) * 1e6,
                                                            abs=1.0)


def test_a_candle_by_candle_replay_with_a_restart_gives_the_same_state(backtest, tmp_path):
    strategy = backtest["strategy"]
    names, settings = strategy.signals.signal_names, strategy.centaur.ensemble.tracker
    expected, _ = strategy.signals.tracker_ledger.state_at(backtest["dates"])
    store_path = str(tmp_path / "state.sqlite")
    ledger = TrackerLedger(names, settings, StateStore(store_path))
    middle = len(backtest["dates"]) // 2
    seen = np.empty_like(expected)
    for step, at_ns in enumerate(backtest["dates"]):
        if step == middle:  # a restart: everything the ledger knows comes from the store
            ledger = TrackerLedger(names, settings, StateStore(store_path))
        for pair in PAIRS:  # live: each pair analysed in turn, its entries decided at once
            known = backtest["outcomes"][pair]
            ledger.offer(pair, known.where(known.known_at_ns <= at_ns + STEP_NS))
            ledger.flush(int(at_ns))
        seen[step] = ledger.state_at(np.array([at_ns]))[0][0]
    np.testing.assert_array_equal(seen, expected)
    final = strategy.signals.tracker_ledger.snapshot()
    assert ledger.snapshot()["signals"] == final["signals"]
    assert ledger.snapshot()["watermarks_ns"] == final["watermarks_ns"]


def test_freqtrades_live_analysis_path_gives_the_same_weights_and_score(backtest, tmp_path):
    """A second strategy analyses the growing dataframes pair by pair, as the bot does live
    (``analyze_ticker``: indicators, entries, exits on the whole dataframe each new candle).
    Every signal column of the newest candle equals the full-period analysis (no look-ahead),
    and so do the weights, the statuses and the score."""
    engine = _backtesting(tmp_path)
    live = engine.strategylist[0]
    engine._set_strategy(live)  # attaches the DataProvider and runs bot_start, as backtests do
    reference = backtest["strategy"]
    names = reference.signals.signal_names
    steps = _steps_across_a_weight_change(reference.signals.tracker_ledger, backtest["dates"])
    live.warm_up_tracker({pair: _until(backtest["data"][pair], steps[0]) for pair in PAIRS})
    for at_ns in steps:
        for pair in PAIRS:
            frame = live.analyze_ticker(_until(backtest["data"][pair], at_ns), {"pair": pair})
            last = frame.iloc[-1]
            full = backtest["analysed"][pair]
            same_candle = full.iloc[int(np.searchsorted(dates_ns(full), at_ns))]
            signal_columns = [c for c in full.columns if c.startswith("sig_")]
            assert [last[c] for c in signal_columns] == pytest.approx(
                [same_candle[c] for c in signal_columns], nan_ok=True), "look-ahead"
            weights, status = reference.signals.tracker_ledger.state_at(np.array([at_ns]))
            np.testing.assert_array_equal(
                [last[f"ens_w_{name}"] for name in names], weights[0], err_msg=str(at_ns))
            _, live_status = live.signals.tracker_ledger.state_at(np.array([at_ns]))
            np.testing.assert_array_equal(live_status, status)
            rows = reference.ensemble_rows(pair)
            assert last["ens_score"] == pytest.approx(
                rows.score[rows.index_at(int(at_ns))], abs=1e-12)
