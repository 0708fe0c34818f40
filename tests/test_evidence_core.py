"""The harness core: the exact random-direction null, clustered intervals, the deflated Sharpe
against the paper's worked example, purge and embargo, the append-only look ledger."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from centaur.null_baseline import (
    clustered_mean,
    excess_hits,
    minimum_detectable_edge,
    null_hit_rate,
    samples_for_edge,
)
from research.evidence import stats
from research.evidence.folds import purged_train_mask, rolling_folds
from research.evidence.ledger import Ledger

COST = 0.001


def _random_rule(returns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=len(returns)) * returns - COST


def test_the_exact_null_matches_a_simulated_random_rule():
    rng = np.random.default_rng(1)
    returns = rng.standard_t(3, 20_000) * 0.004  # fat-tailed forward returns
    simulated = np.mean([np.mean(_random_rule(returns, rng) > 0) for _ in range(200)])
    exact = null_hit_rate(_random_rule(returns, rng), COST)
    assert exact == pytest.approx(simulated, abs=0.002)
    assert exact < 0.5  # after costs a coin loses: the bar is below 50 %


def test_a_random_rule_has_no_excess_and_a_real_edge_has_one():
    rng = np.random.default_rng(2)
    returns = rng.normal(0, 0.005, 40_000)
    random_excess = clustered_mean(excess_hits(_random_rule(returns, rng), COST))
    assert random_excess.lower < 0 < random_excess.upper
    # a rule right 55 % of the time on the sign: excess of about 5 points over the null
    right = rng.random(len(returns)) < 0.55
    directions = np.where(right, np.sign(returns), -np.sign(returns))
    edge = clustered_mean(excess_hits(directions * returns - COST, COST))
    assert edge.significant
    assert 0.02 < edge.estimate < 0.08


def test_clustered_errors_widen_for_calls_that_ride_the_same_move():
    rng = np.random.default_rng(3)
    moves = np.repeat(rng.normal(0, 1, 500), 8)  # eight pairs called on one move
    plain = clustered_mean(moves)
    clustered = clustered_mean(moves, np.repeat(np.arange(500), 8))
    assert clustered.standard_error > 2.5 * plain.standard_error
    assert clustered.clusters == 500


def test_minimum_detectable_edge_and_its_inverse_agree():
    mde = minimum_detectable_edge(0.5, 1_000)
    assert mde == pytest.approx(0.0393, abs=5e-4)
    assert samples_for_edge(mde, 0.5) in (1_000, 1_001)


def test_deflated_sharpe_against_the_papers_worked_example():
    # Bailey & Lopez de Prado (2014), numerical example: annualised SR 2.5 over 5 years of
    # daily data (T = 1250), N = 100 trials with annualised SR variance 0.5, skew -3,
    # kurtosis 10 -> SR0 = 0.1132 (daily) and DSR = 0.9004.
    per_year = 250
    variance_daily = 0.5 / per_year
    sr0 = stats.expected_max_sharpe(variance_daily, 100)
    assert sr0 == pytest.approx(0.1132, abs=2e-4)
    dsr = stats.probabilistic_sharpe(2.5 / math.sqrt(per_year), 1250, -3.0, 10.0, sr0)
    assert dsr == pytest.approx(0.9004, abs=1e-3)


def test_more_trials_deflate_more():
    rng = np.random.default_rng(4)
    daily = rng.normal(0.001, 0.01, 365)
    one = stats.deflated_sharpe(daily, trials=1)
    many = stats.deflated_sharpe(daily, trials=200)
    assert one.benchmark_per_period == 0.0
    assert many.probability < one.probability


def test_daily_sharpe_counts_flat_days():
    index = pd.date_range("2025-01-01", periods=10, freq="D", tz=UTC)
    equity = pd.Series([100, 100, 100, 101, 101, 101, 101, 102, 102, 102], index=index,
                       dtype=float)
    returns = stats.daily_returns(equity)
    assert len(returns) == 9
    assert stats.sharpe(returns.to_numpy()) > 0
    assert stats.max_drawdown(np.array([100, 120, 90, 130])) == pytest.approx(0.25)


def test_bootstrap_interval_covers_the_estimate_and_shrinks_with_data():
    rng = np.random.default_rng(5)
    short = rng.normal(0.001, 0.01, 120)
    long = rng.normal(0.001, 0.01, 1_200)
    lo_s, hi_s = stats.bootstrap_interval(short, resamples=400)
    lo_l, hi_l = stats.bootstrap_interval(long, resamples=400)
    assert lo_s < stats.sharpe(short) < hi_s
    assert hi_l - lo_l < hi_s - lo_s


def test_newey_west_widens_for_overlapping_horizons():
    rng = np.random.default_rng(6)
    shocks = rng.normal(0.0002, 0.01, 5_000)
    overlapping = np.convolve(shocks, np.ones(24), mode="valid")  # 24-candle forward sums
    _, naive_se, _ = stats.newey_west_t(overlapping, 0)
    _, hac_se, _ = stats.newey_west_t(overlapping, 24)
    assert hac_se > 3 * naive_se


def test_paired_bootstrap_difference():
    rng = np.random.default_rng(7)
    off = rng.normal(0, 1, 400)
    on = off + 0.2 + rng.normal(0, 0.1, 400)
    result = stats.paired_bootstrap_difference(on, off)
    assert result["lower"] > 0.15 and result["upper"] < 0.25
    assert result["standard_error"] < 0.02


def test_folds_are_purged_embargoed_and_never_overlap():
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 2, 19, tzinfo=UTC)
    horizon, embargo = timedelta(days=1), timedelta(days=1)
    folds = rolling_folds(start, end, 6, timedelta(days=90), horizon, embargo)
    assert len(folds) == 6
    for fold in folds:
        assert fold.train_end + horizon <= fold.test_start
        assert fold.train_start >= start and fold.test_end <= end + timedelta(seconds=1)
    for before, after in zip(folds, folds[1:], strict=False):
        assert before.test_end + embargo <= after.test_start + timedelta(seconds=1)
    with pytest.raises(ValueError, match="do not fit"):
        rolling_folds(start, start + timedelta(days=30), 6, timedelta(days=90), horizon)


def test_purged_mask_drops_labels_that_reach_into_the_test_window():
    test_start, test_end = datetime(2025, 3, 1), datetime(2025, 3, 8)
    starts = pd.date_range("2025-02-25", "2025-03-12", freq="D")
    mask = purged_train_mask(starts, starts + pd.Timedelta(days=2), test_start, test_end,
                             timedelta(days=1))
    kept = set(starts[mask].strftime("%m-%d"))
    assert "02-26" in kept and "02-27" not in kept  # label 02-27..03-01 touches the test
    assert "03-08" not in kept  # inside the embargo
    assert "03-09" in kept


def test_the_ledger_is_append_only_and_counts_looks(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl", run="first")
    ledger.record("flagship", "20250701-20260219", {"p": 1}, {"sharpe": 0.1})
    ledger.record("bb_rsi", "20250701-20260219", {"p": 1}, {"excess": 0.01})  # same run
    first = (tmp_path / "ledger.jsonl").read_text()
    again = Ledger(tmp_path / "ledger.jsonl", run="second")
    again.record("flagship", "20250701-20260219", {"p": 2}, {"sharpe": 0.3})
    again.record("bb_rsi", "20250101-20250701", {"p": 1}, {"excess": 0.01})
    text = (tmp_path / "ledger.jsonl").read_text()
    assert text.startswith(first)  # earlier lines untouched
    assert ledger.looks()["20250701-20260219"] == 2  # two runs looked, whatever they scored
    # (flagship, design 1), (bb_rsi, design 1), (flagship, design 2)
    assert ledger.designs_seen("20250701-20260219") == 3
    assert all(len(e["commit"]) >= 7 for e in ledger.entries())


def test_lines_from_before_run_ids_count_one_look_per_time_stamp(tmp_path):
    path = tmp_path / "ledger.jsonl"
    old = [{"at": "2026-11-21T22:36:32+00:00", "window": "W", "subject": "flagship",
            "design": "a"},
           {"at": "2026-11-22T00:27:09+00:00", "window": "W", "subject": "flagship",
            "design": "b"},
           {"at": "2026-12-06T18:00:00+00:00", "window": "W", "subject": "signal:x",
            "design": "c"},
           {"at": "2026-12-06T18:00:00+00:00", "window": "W", "subject": "signal:y",
            "design": "d"}]
    import json
    path.write_text("".join(json.dumps(line) + "\n" for line in old))
    ledger = Ledger(path)
    assert ledger.looks()["W"] == 3  # two historical looks, one report run of two signals
    assert (ledger.subjects("W"), ledger.designs_seen("W")) == (3, 4)
