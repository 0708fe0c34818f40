"""The signal decay tracker: each signal's scored calls in, its status and weight per candle
out - a function of the data up to the candle, calendar-anchored.

Rules (numbers from ``centaur.ensemble.tracker``):

- Every call is scored against its own null, the same call with a random direction at the
  same candle, horizon and cost (``centaur.null_baseline``): its *excess hit* is
  ``1(outcome > 0) - 1/2 x 1(|gross move| > cost)``. A signal's *excess* is the mean excess
  hit of its calls, with a standard error clustered on the market move (calls of any pair whose
  horizons start in the same window count as one piece of evidence).
- State is evaluated at *anchors*: UTC calendar boundaries every ``anchor_hours``. At anchor
  ``a`` the window is the outcomes known in ``[a - window_days, a)``, pooled over pairs; a
  candle reads the state of the last anchor at or before its open. So the state at a candle is
  a function of the candles before it, the same live, after a restart and in a backtest that
  starts anywhere - once the run's data covers ``window_days + memory_anchors`` anchors before
  the candle; before that the signal is on ``probation`` (weight 0: not enough history).
- Status with hysteresis of finite memory: ``retired`` when the window's upper bound on the
  excess (one-sided ``confidence_level``) is below 0 - worse than a coin after costs;
  ``live`` when the lower bound is above 0; between the two, the last decisive status of the
  previous ``memory_anchors`` anchors holds, else ``live`` (a signal is enabled because the
  evidence harness passed it out of sample). A window with fewer than ``min_clusters``
  independent moves decides nothing: ``probation``.
- ``weight = (2 x max(excess, 0))^2`` for a live signal, 0 otherwise: ``weight_for`` is the
  one place this formula lives (an excess of 5 points weighs 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

import numpy as np

from centaur.null_baseline import clustered_mean, excess_hits
from centaur.settings.ensemble import TrackerSettings

PPM = 1_000_000
HOUR_NS = 3_600 * 1_000_000_000


class Status(StrEnum):
    PROBATION = "probation"
    LIVE = "live"
    RETIRED = "retired"


STATUS_CODES = {Status.PROBATION: 0, Status.LIVE: 1, Status.RETIRED: 2}
_UNDECIDED = -1


def weight_for(excess: float | np.ndarray, live: bool | np.ndarray = True
               ) -> float | np.ndarray:
    """(2 x excess)^2 with the excess hit rate over the null floored at 0; 0 when not live."""
    edge = np.maximum(np.asarray(excess, dtype=float), 0.0)
    weight = np.where(live, np.square(2.0 * edge), 0.0)
    return float(weight) if np.ndim(weight) == 0 else weight


def excess_hit_ppm(outcome_ppm: np.ndarray, cost_ratio: float) -> np.ndarray:
    """Per call, the excess hit over the random-direction null (see the module rules)."""
    return excess_hits(np.asarray(outcome_ppm, dtype=float) / PPM, cost_ratio)


def quantile_z(confidence_level: float) -> float:
    """The normal quantile of a one-sided confidence level (0.95 -> 1.64)."""
    return NormalDist().inv_cdf(confidence_level)


def anchor_of(at_ns: np.ndarray | int, settings: TrackerSettings) -> np.ndarray:
    """The anchor a candle opening at ``at_ns`` reads: the last calendar boundary <= it."""
    step = settings.anchor_hours * HOUR_NS
    return (np.asarray(at_ns, dtype=np.int64) // step) * step


@dataclass(frozen=True)
class WindowEstimates:
    """Per anchor (rows) and signal (columns): the window's excess and its evidence."""

    anchors_ns: np.ndarray  # int64 [anchors]
    excess: np.ndarray  # float [anchors, signals]
    lower: np.ndarray
    upper: np.ndarray
    calls: np.ndarray  # int
    clusters: np.ndarray  # int


def window_estimates(anchors_ns: np.ndarray, known_at_ns: np.ndarray, signal: np.ndarray,
                     excess_hit: np.ndarray, cluster: np.ndarray, signals: int,
                     settings: TrackerSettings) -> WindowEstimates:
    """The excess of each signal over the window ending at each anchor (pure)."""
    window_ns = settings.window_days * 24 * HOUR_NS
    z = quantile_z(settings.confidence_level)
    shape = (len(anchors_ns), signals)
    excess, lower, upper = (np.full(shape, np.nan) for _ in range(3))
    calls, clusters = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    for s in range(signals):
        mine = signal == s
        times, values, ids = known_at_ns[mine], excess_hit[mine], cluster[mine]
        order = np.argsort(times, kind="stable")
        times, values, ids = times[order], values[order], ids[order]
        starts = np.searchsorted(times, anchors_ns - window_ns, side="left")
        ends = np.searchsorted(times, anchors_ns, side="left")
        for row, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            if hi <= lo:
                continue
            window = clustered_mean(values[lo:hi], ids[lo:hi])
            excess[row, s], calls[row, s] = window.estimate, hi - lo
            clusters[row, s] = window.clusters
            lower[row, s] = window.estimate - z * window.standard_error
            upper[row, s] = window.estimate + z * window.standard_error
    return WindowEstimates(np.asarray(anchors_ns), excess, lower, upper, calls, clusters)


def statuses(estimates: WindowEstimates, covered: np.ndarray, settings: TrackerSettings
             ) -> np.ndarray:
    """Status code per anchor and signal, with the finite-memory hysteresis of the rules.

    ``covered[row]`` says the run's candles cover that anchor's window (a window that is
    not covered decides nothing: probation)."""
    enough = (estimates.clusters >= settings.min_clusters) & covered[:, None]
    decisive = np.full(estimates.excess.shape, _UNDECIDED, dtype=np.int64)
    decisive[enough & (estimates.upper < 0)] = STATUS_CODES[Status.RETIRED]
    decisive[enough & (estimates.lower > 0)] = STATUS_CODES[Status.LIVE]
    result = np.where(enough, decisive, STATUS_CODES[Status.PROBATION])
    memory = settings.memory_anchors
    for row in range(len(result)):
        for s in np.flatnonzero(result[row] == _UNDECIDED):
            past = decisive[max(row - memory, 0):row, s]
            known = past[past != _UNDECIDED]
            result[row, s] = known[-1] if len(known) else STATUS_CODES[Status.LIVE]
    return result
