"""Invariants of the signal decay tracker (hypothesis): the excess over the random-direction
null, the calendar anchors, the finite-memory hysteresis, and the ledger's independence from
the order, repetition and start of what pairs offer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.null_baseline import excess_hits
from centaur.settings.ensemble import TrackerSettings
from strategies.signal_outcomes import Outcomes
from strategies.signal_tracker import (
    HOUR_NS,
    STATUS_CODES,
    PPM,
    Status,
    anchor_of,
    excess_hit_ppm,
    statuses,
    weight_for,
    window_estimates,
)
from strategies.tracker_ledger import TrackerLedger

DEFAULTS = TrackerSettings()
NAMES = ("a", "b", "c")
DAY_NS = 24 * HOUR_NS
START_NS = 1_735_689_600 * 1_000_000_000  # 2025-01-01 00:00 UTC
COST = DEFAULTS.outcome_cost_ratio


def _outcomes(rng: np.random.Generator, days: int, edge: float, signal: int = 0,
              per_day: int = 40) -> Outcomes:
    """Calls spread over ``days``: right on the sign with probability 0.5 + edge."""
    calls = days * per_day
    call_at = START_NS + np.sort(rng.integers(0, days * DAY_NS, calls))
    move = rng.normal(0, 0.006, calls)
    right = rng.random(calls) < 0.5 + edge
    direction = np.where(right, np.sign(move), -np.sign(move))
    outcome = np.rint((direction * move - COST) * PPM).astype(np.int64)
    horizon = 4 * HOUR_NS
    return Outcomes.concat([Outcomes(call_at + horizon, call_at,
                                     np.full(calls, signal, dtype=np.int16), outcome,
                                     call_at // horizon)])


def test_weight_is_the_squared_doubled_excess_and_zero_when_not_live():
    assert abs(weight_for(0.05) - 0.01) < 1e-12
    assert weight_for(-0.1) == 0.0
    assert weight_for(0.2, live=False) == 0.0


@given(st.lists(st.integers(-40_000, 40_000), min_size=1, max_size=200))
def test_the_trackers_excess_is_the_kernels_null(outcomes):
    ppm = np.array(outcomes, dtype=np.int64)
    np.testing.assert_allclose(excess_hit_ppm(ppm, COST), excess_hits(ppm / PPM, COST),
                               atol=1e-12)


def test_a_random_signal_is_not_retired_and_a_coin_flip_rule_scores_no_excess():
    rng = np.random.default_rng(11)
    ledger = TrackerLedger(NAMES[:1], DEFAULTS)
    ledger.offer("X", _outcomes(rng, 120, 0.0), START_NS)
    dates = START_NS + np.arange(10, 120) * DAY_NS
    _, codes = ledger.state_at(dates)
    # under the null the upper bound falls below 0 about 5 % of anchors at most
    assert (codes[:, 0] == STATUS_CODES[Status.RETIRED]).mean() < 0.15
    assert abs(np.mean(list(ledger.excess_at(int(dates[-1])).values()))) < 0.05


def test_a_losing_signal_retires_and_a_winning_one_is_weighted():
    rng = np.random.default_rng(12)
    ledger = TrackerLedger(NAMES[:2], DEFAULTS)
    ledger.offer("X", Outcomes.concat([_outcomes(rng, 60, -0.15, 0),
                                       _outcomes(rng, 60, 0.15, 1)]), START_NS)
    weights, codes = ledger.state_at(np.array([START_NS + 50 * DAY_NS]))
    assert codes[0, 0] == STATUS_CODES[Status.RETIRED] and weights[0, 0] == 0
    assert codes[0, 1] == STATUS_CODES[Status.LIVE] and weights[0, 1] > 0.005


def test_before_the_window_is_covered_every_signal_is_on_probation():
    rng = np.random.default_rng(13)
    ledger = TrackerLedger(NAMES[:1], DEFAULTS)
    ledger.offer("X", _outcomes(rng, 30, 0.2), START_NS)
    span_days = DEFAULTS.window_days + DEFAULTS.memory_anchors
    _, early = ledger.state_at(np.array([START_NS + (span_days - 1) * DAY_NS]))
    _, later = ledger.state_at(np.array([START_NS + (span_days + 1) * DAY_NS]))
    assert early[0, 0] == STATUS_CODES[Status.PROBATION]
    assert later[0, 0] == STATUS_CODES[Status.LIVE]


def test_hysteresis_holds_a_decisive_status_for_the_memory_then_presumes_live():
    rows, settings_ = 8, TrackerSettings(memory_anchors=2, min_clusters=5)
    shape = (rows, 1)
    upper = np.full(shape, 0.1)
    upper[2] = -0.01  # decisively worse than random at anchor 2 only
    lower = np.full(shape, -0.1)
    from strategies.signal_tracker import WindowEstimates
    estimates = WindowEstimates(np.arange(rows), np.zeros(shape), lower, upper,
                                np.full(shape, 50), np.full(shape, 50))
    codes = statuses(estimates, np.ones(rows, dtype=bool), settings_)[:, 0]
    retired, live = STATUS_CODES[Status.RETIRED], STATUS_CODES[Status.LIVE]
    assert codes.tolist() == [live, live, retired, retired, retired, live, live, live]


def test_anchors_are_calendar_boundaries():
    inside = START_NS + 5 * DAY_NS + 13 * HOUR_NS
    assert anchor_of(inside, DEFAULTS) == START_NS + 5 * DAY_NS
    four_hourly = TrackerSettings(anchor_hours=4)
    assert anchor_of(inside, four_hourly) == START_NS + 5 * DAY_NS + 12 * HOUR_NS


@settings(max_examples=25, deadline=None)
@given(st.permutations(["P1", "P2", "P3"]), st.integers(0, 3), st.integers(5, 25))
def test_the_state_does_not_depend_on_pair_order_repetition_or_start(order, repeats, cut_day):
    """Any order of pairs, offered any number of times, in pieces or whole - and a run that
    starts later, once its window is covered - give the same state at every candle."""
    rng = np.random.default_rng(14)
    data = {p: _outcomes(rng, 40, 0.05 * i, i % 3) for i, p in enumerate(["P1", "P2", "P3"])}
    reference = TrackerLedger(NAMES, DEFAULTS)
    for pair in ["P1", "P2", "P3"]:
        reference.offer(pair, data[pair], START_NS)
    other = TrackerLedger(NAMES, DEFAULTS)
    cut_ns = START_NS + cut_day * DAY_NS
    for _ in range(repeats + 1):
        for pair in order:
            early = data[pair].where(data[pair].known_at_ns < cut_ns)
            other.offer(pair, early, START_NS)
            other.offer(pair, data[pair], START_NS)
    late = TrackerLedger(NAMES, DEFAULTS)  # a run starting at cut_day
    for pair in order:
        # the first outcome a late run can know comes one horizon after its first candle
        late.offer(pair, data[pair].where(data[pair].call_at_ns >= cut_ns),
                   cut_ns + 4 * HOUR_NS)
    dates = START_NS + np.arange(0, 40 * 24) * HOUR_NS
    expected_w, expected_s = reference.state_at(dates)
    got_w, got_s = other.state_at(dates)
    np.testing.assert_array_equal(got_w, expected_w)
    np.testing.assert_array_equal(got_s, expected_s)
    covered = anchor_of(dates, DEFAULTS) >= late.covered_from_ns()
    late_w, late_s = late.state_at(dates[covered])
    np.testing.assert_array_equal(late_w, expected_w[covered])
    np.testing.assert_array_equal(late_s, expected_s[covered])


def test_window_estimates_count_clusters_once():
    known = START_NS + np.arange(10) * HOUR_NS
    values = np.ones(10)
    estimates = window_estimates(np.array([START_NS + DAY_NS]), known, np.zeros(10, int),
                                 values, np.repeat([1, 2], 5), 1, DEFAULTS)
    assert estimates.calls[0, 0] == 10 and estimates.clusters[0, 0] == 2


def test_a_long_span_of_real_anchors_is_computed_exactly():
    """Anchors are int64 nanoseconds near 1.8e18: a float step (np.arange) rounds them and
    the last candle's anchor went missing."""
    rng = np.random.default_rng(15)
    ledger = TrackerLedger(NAMES[:1], DEFAULTS)
    ledger.offer("X", _outcomes(rng, 420, 0.02, per_day=10), START_NS)
    dates = START_NS + np.arange(0, 420 * 24) * HOUR_NS
    weights, codes = ledger.state_at(dates)
    assert weights.shape == (len(dates), 1) and codes[-1, 0] != STATUS_CODES[Status.PROBATION]


def test_horizons_keep_their_time_span_in_another_timeframe():
    from strategies.signals import REGISTRY

    bb_rsi = REGISTRY["bb_rsi"].signal  # 12 five-minute candles: one hour
    assert (bb_rsi.horizon_at(300), bb_rsi.horizon_at(3600), bb_rsi.horizon_at(86_400)) == (
        12, 1, 1)
    assert REGISTRY["basis"].signal.horizon_at(3600) == 8


def test_a_live_ledger_fed_rolling_frames_keeps_the_batch_state_and_trims_the_rest():
    """Live: each pair offers the outcomes of its last frame (a rolling window of candles),
    the ledger trims what no anchor of a frame reads, and states computed earlier in the day
    stay cached - yet every state equals the batch ledger's."""
    rng = np.random.default_rng(16)
    data = {p: _outcomes(rng, 60, 0.04 * i, i % 3) for i, p in enumerate(["P1", "P2"])}
    batch = TrackerLedger(NAMES, DEFAULTS)
    live = TrackerLedger(NAMES, DEFAULTS, trading=True)
    frame_ns = 9 * DAY_NS  # about what 2,400 start-up candles of 5m hold
    for pair, outcomes in data.items():
        batch.offer(pair, outcomes, START_NS)
    for step in range(20 * 24, 60 * 24, 6):  # every 6 hours from day 20
        now = START_NS + step * HOUR_NS
        for pair, outcomes in data.items():
            seen = outcomes.where((outcomes.known_at_ns <= now)
                                  & (outcomes.call_at_ns >= now - frame_ns))
            live.offer(pair, seen, now - frame_ns + 4 * HOUR_NS)  # first outcome it can know
        candles = np.arange(now - frame_ns, now, HOUR_NS)
        candles = candles[anchor_of(candles, DEFAULTS) >= live.covered_from_ns()]
        np.testing.assert_array_equal(live.state_at(candles)[1], batch.state_at(candles)[1])
        np.testing.assert_allclose(live.state_at(candles)[0], batch.state_at(candles)[0])
        compared = len(candles)
    assert compared > 6 * 24
    horizon = 2 * DEFAULTS.span_secs() * 1_000_000_000 + DAY_NS
    assert all(int(o.known_at_ns.min()) >= now - horizon - DAY_NS
               for o in live._outcomes.values())
    today = int(anchor_of(now, DEFAULTS))
    live.state_at(np.array([now]))
    one_day = _outcomes(rng, 1, 0.0)
    later = one_day.where(np.arange(len(one_day)) == 0)
    shifted = Outcomes(later.known_at_ns - START_NS + now + HOUR_NS,
                       later.call_at_ns - START_NS + now, later.signal, later.outcome_ppm,
                       later.cluster)
    live.offer("P1", shifted)  # an outcome known after today's anchor
    assert today in live._cache  # today's state is not recomputed
