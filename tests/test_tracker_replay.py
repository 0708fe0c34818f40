"""The decay tracker's state is a function of the candles before each candle: the same after a
backtest, in a run that starts days later (truncation at several start points), and along
freqtrade's live analysis path - at every covered candle.

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

from strategies.signal_outcomes import dates_ns
from strategies.signal_tracker import anchor_of
from strategies.signals import REGISTRY
from strategies.tracker_ledger import TrackerLedger
from tests.support.freqtrade_run import write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIRS = ["ETH/USDT:USDT", "BTC/USDT:USDT"]  # not sorted: the replay must not depend on order
TIMERANGE = "20250401-20250415"
STEP_NS = 300 * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000
LIVE_STEPS = 36
LATER_STARTS_DAYS = (1, 2.5, 4)


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
    assert sum(ledger.offered().values()) > 100
    assert ledger.covered_from_ns() <= backtest["dates"][len(backtest["dates"]) // 2]
    weights, status = ledger.state_at(backtest["dates"])
    assert (weights >= 0).all()
    last = ledger.estimates(np.array([ledger.covered_from_ns() + DAY_NS]))
    enough = last.clusters[0] >= ledger.settings.min_clusters
    assert enough.sum() >= 3, dict(zip(ledger.names, last.clusters[0], strict=True))
    _, decided = ledger.state_at(np.array([ledger.covered_from_ns() + DAY_NS]))
    assert (decided[0][enough] > 0).all() and (decided[0][~enough] == 0).all()


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


@pytest.fixture
def restores_the_full_run(backtest):
    """A truncation test analyses cut data with the backtest's strategy: afterwards its tracker
    holds the full period's outcomes again, as the other tests expect."""
    yield
    _entries_from(backtest["strategy"], backtest["data"])


def _entries_from(strategy, data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One analysis run of ``strategy`` over ``data``: indicators of every pair, then entries."""
    strategy.signals.restart_run()
    analysed = {pair: strategy.advise_indicators(frame.copy(), {"pair": pair})
                for pair, frame in data.items()}
    return {pair: strategy.advise_entry(frame, {"pair": pair})
            for pair, frame in analysed.items()}


@pytest.mark.parametrize("later_days", LATER_STARTS_DAYS)
def test_a_run_starting_later_makes_the_same_decisions_on_every_covered_candle(
        backtest, later_days, restores_the_full_run):
    """Truncation: the candles before a later start are dropped; once the later run's tracker
    window is covered, every weight, status, score and entry equals the full run's."""
    strategy = backtest["strategy"]
    full = _entries_from(strategy, backtest["data"])
    cut_ns = int(dates_ns(backtest["data"][PAIRS[0]])[0] + later_days * DAY_NS)
    late_data = {pair: frame[dates_ns(frame) >= cut_ns].reset_index(drop=True)
                 for pair, frame in backtest["data"].items()}
    late = _entries_from(strategy, late_data)
    covered_from = strategy.signals.tracker_ledger.covered_from_ns()
    compared = 0
    for pair in PAIRS:
        covered = anchor_of(dates_ns(late[pair]), strategy.centaur.ensemble.tracker) \
            >= covered_from
        covered[np.argmax(covered)] = False  # an entry is a crossing: it reads the candle before
        mine = late[pair][covered]
        theirs = full[pair].set_index(dates_ns(full[pair])).loc[dates_ns(mine)]
        columns = [c for c in mine.columns if c.startswith(("ens_w_", "ens_score"))] + [
            "enter_long", "enter_short"]
        np.testing.assert_allclose(mine[columns].to_numpy(dtype=float),
                                   theirs[columns].to_numpy(dtype=float), atol=1e-12,
                                   err_msg=f"{pair} from +{later_days} days")
        compared += len(mine)
    assert compared > 288, "the later run never covered its window: the check would be vacuous"


@pytest.mark.parametrize("end_fraction", (0.55, 0.8))
def test_a_run_ending_earlier_made_the_same_decisions_before_its_end(backtest, end_fraction,
                                                                     restores_the_full_run):
    """What ``freqtrade lookahead-analysis`` checks, with every pair (it reruns one pair only,
    which a tracker pooled over pairs cannot pass): data cut at an end gives the same weights,
    scores and entries on every candle before the cut - nothing after a candle reaches it."""
    strategy = backtest["strategy"]
    full = _entries_from(strategy, backtest["data"])
    dates = dates_ns(backtest["data"][PAIRS[0]])
    end_ns = int(dates[int(len(dates) * end_fraction)])
    cut = {pair: frame[dates_ns(frame) <= end_ns].reset_index(drop=True)
           for pair, frame in backtest["data"].items()}
    early = _entries_from(strategy, cut)
    for pair in PAIRS:
        columns = [c for c in early[pair].columns if c.startswith(("ens_w_", "ens_score"))] + [
            "enter_long", "enter_short"]
        theirs = full[pair].set_index(dates_ns(full[pair])).loc[dates_ns(early[pair])]
        np.testing.assert_allclose(early[pair][columns].to_numpy(dtype=float),
                                   theirs[columns].to_numpy(dtype=float), atol=1e-12,
                                   err_msg=f"{pair} cut at {end_fraction}")
        assert (early[pair][[c for c in columns if c.startswith("ens_w_")]] > 0).any().any()


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
    assert live.signals.tracker_ledger.covered_from_ns() <= steps[0]
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
                rows.score[rows.index_at(int(at_ns))], abs=1e-9)
