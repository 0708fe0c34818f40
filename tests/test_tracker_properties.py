"""Invariants of the signal decay tracker (hypothesis): weights, hysteresis, persistence, and
the ledger's independence from the order in which pairs offer their outcomes."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.settings.ensemble import TrackerSettings
from centaur.state import StateStore
from strategies.signal_outcomes import Outcomes
from strategies.signal_tracker import (
    SignalRecord,
    SignalTracker,
    Status,
    pooled_stats,
    weight_for,
    wilson_bounds,
)
from strategies.tracker_ledger import TrackerLedger


DEFAULTS = TrackerSettings()
NAMES = ("a", "b", "c")
outcome_ppm = st.integers(min_value=-50_000, max_value=50_000)


@given(st.floats(0.0, 1.0))
def test_weight_is_the_square_of_twice_the_positive_edge(accuracy):
    weight = weight_for(accuracy)
    assert 0.0 <= weight <= 1.0
    assert weight == (2 * (accuracy - 0.5)) ** 2 if accuracy > 0.5 else weight == 0.0
    assert weight_for(accuracy, live=False) == 0.0


@given(st.lists(st.tuples(outcome_ppm, st.integers(0, 30)), max_size=300),
       st.integers(10, 120))
def test_record_sums_match_its_window_and_weights_are_never_negative(calls, window):
    record = SignalRecord(window)
    tracker_settings = TrackerSettings(window_calls=window, min_calls=min(10, window))
    for at, (outcome, cluster) in enumerate(calls):
        record.score("s", outcome, cluster, at, tracker_settings)
        kept = list(record.window)
        assert record.calls == len(kept) <= window
        assert record.hits == sum(o > 0 for o, _ in kept)
        assert record.win_sum_ppm == sum(o for o, _ in kept if o > 0)
        assert record.loss_sum_ppm == -sum(o for o, _ in kept if o <= 0)
        assert record.clusters == len({c for _, c in kept}) <= record.calls
        assert record.weight >= 0.0
        if record.status is not Status.LIVE:
            assert record.weight == 0.0


@given(st.integers(0, 1000), st.integers(1, 400), st.floats(0.0, 1.0))
def test_wilson_bounds_bracket_the_rate(hits_seed, samples, z_level):
    rate = (hits_seed % (samples + 1)) / samples
    z = 3.0 * z_level
    lower, upper = wilson_bounds(rate, samples, z)
    assert 0.0 <= lower <= rate + 1e-12 and rate - 1e-12 <= upper <= 1.0
    wider = wilson_bounds(rate, max(samples // 4, 1), z)
    assert wider[0] <= lower + 1e-12 and wider[1] >= upper - 1e-12


@settings(max_examples=150, deadline=None)
@given(accuracy=st.floats(0.0, 1.0), phase=st.floats(0.0, 1.0),
       level=st.floats(0.8, 0.99), window=st.integers(50, 200), calls=st.integers(100, 1500))
def test_hysteresis_never_flaps_on_a_constant_accuracy(accuracy, phase, level, window, calls):
    """Hits evenly spread at a constant rate (any window holds the same count +/- 1): after
    probation a signal changes status at most once, however long it runs."""
    tracker_settings = TrackerSettings(window_calls=window, confidence_level=level)
    record = SignalRecord(window)
    statuses = []
    for i in range(calls):
        hit = math.floor((i + 1) * accuracy + phase) > math.floor(i * accuracy + phase)
        record.score("s", 1000 if hit else -1000, i, i, tracker_settings)
        if record.status is not Status.PROBATION:
            statuses.append(record.status)
    changes = sum(a is not b for a, b in zip(statuses, statuses[1:], strict=False))
    assert changes <= 1, (accuracy, changes)


def test_a_clearly_bad_signal_retires_and_a_clearly_good_one_revives():
    record = SignalRecord(100)
    for i in range(100):
        record.score("s", 1000 if i % 4 == 0 else -1000, i, i, DEFAULTS)  # 25 %
    assert record.status is Status.RETIRED and record.weight == 0.0
    for i in range(100, 200):
        record.score("s", 1000 if i % 4 else -1000, i, i, DEFAULTS)  # 75 %
    assert record.status is Status.LIVE and record.weight == (2 * 0.25) ** 2


def test_calls_of_one_market_move_count_once_in_the_bound():
    """70 % right over 100 calls is enough to come back - unless they are 10 moves seen on
    ten pairs each, which is too little evidence."""
    independent, clustered = SignalRecord(100, status=Status.RETIRED), \
        SignalRecord(100, status=Status.RETIRED)
    for i in range(100):
        outcome = 1000 if i % 10 < 7 else -1000
        independent.score("s", outcome, i, i, DEFAULTS)
        clustered.score("s", outcome, i // 10, i, DEFAULTS)
    assert independent.status is Status.LIVE
    assert clustered.status is Status.RETIRED


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), outcome_ppm, st.integers(0, 40)),
                min_size=1, max_size=400), st.data())
def test_state_round_trips_through_the_state_store(calls, data):
    split = data.draw(st.integers(0, len(calls)))
    straight = SignalTracker(NAMES, DEFAULTS)
    for at, (name, outcome, cluster) in enumerate(calls):
        straight.score(name, outcome, cluster, at)
    first = SignalTracker(NAMES, DEFAULTS)
    for at, (name, outcome, cluster) in enumerate(calls[:split]):
        first.score(name, outcome, cluster, at)
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "state.sqlite")
        StateStore(path).put("ensemble", "t", first.to_json())
        resumed = SignalTracker.from_json(NAMES, DEFAULTS, StateStore(path).get("ensemble", "t"))
    for at, (name, outcome, cluster) in enumerate(calls[split:], start=split):
        resumed.score(name, outcome, cluster, at)
    assert resumed.to_json() == straight.to_json()
    for name in NAMES:
        a, b = resumed.records[name], straight.records[name]
        assert (a.hits, a.calls, a.clusters, a.weight, a.status) == \
            (b.hits, b.calls, b.clusters, b.weight, b.status)


def _outcomes(rows: list[tuple[int, int, int]]) -> Outcomes:
    known = np.array([k for k, _, _ in rows], dtype=np.int64)
    return Outcomes.concat([Outcomes(known, known - 10, np.array([s for _, s, _ in rows],
                                                                 dtype=np.int16),
                                     np.array([o for _, _, o in rows], dtype=np.int64),
                                     known // 7)])


pair_outcomes = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 2), outcome_ppm),
                         max_size=80)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(["P1", "P2", "P3"]), pair_outcomes, min_size=1),
       st.permutations(["P1", "P2", "P3"]), st.integers(0, 60))
def test_the_order_pairs_offer_in_does_not_change_the_state(by_pair, order, start):
    """The live path - a warm-up offer of every pair's history at start-up, then every time
    step each pair offers what it knows and flushes, pairs in any order - gives at each time
    the state of the backtest path (offer everything, then one flush)."""
    outcomes = {pair: _outcomes(rows) for pair, rows in by_pair.items()}
    batch = TrackerLedger(NAMES, DEFAULTS)
    for pair, known in outcomes.items():
        batch.offer(pair, known)
    batch.flush(60)
    pairs = [p for p in order if p in outcomes]
    live = TrackerLedger(NAMES, DEFAULTS)
    for pair in pairs:
        live.offer(pair, outcomes[pair].where(outcomes[pair].known_at_ns <= start + 1))
    for through in range(start, 61):
        for pair in pairs:
            known = outcomes[pair]
            live.offer(pair, known.where(known.known_at_ns <= through + 1))
            live.flush(through)
        np.testing.assert_array_equal(live.state_at(np.array([through]))[0],
                                      batch.state_at(np.array([through]))[0])
    assert live.snapshot()["signals"] == batch.snapshot()["signals"]


def test_pooled_stats_are_win_rate_and_payoff():
    stats = pooled_stats(hits=6, calls=10, win_sum_ppm=6 * 2000, loss_sum_ppm=4 * 1000)
    assert (stats.win_rate, stats.payoff_ratio, stats.samples) == (0.6, 2.0, 10)
    assert pooled_stats(0, 0, 0, 0) is None
    assert pooled_stats(0, 5, 0, 500).payoff_ratio == 0.0
