"""The signal decay tracker: each signal's scored calls in, its status and weight out.

Rules (numbers from ``centaur.ensemble.tracker``):

- A signal keeps its last ``window_calls`` scored calls. A call's outcome is its directional
  forward return net of ``outcome_cost_ratio``, kept as an integer number of parts per million
  so that every sum is exact and the state is the same whatever the path that built it.
- accuracy = share of the window's calls with a positive outcome; edge = accuracy - 0.5;
  ``weight = (2 x max(edge, 0))^2`` for a live signal, 0 otherwise. ``weight_for`` is the one
  place this formula lives; the ensemble, the plot columns and the reports all call it.
- Status: ``probation`` until ``min_calls`` calls are scored (weight 0); then ``live``. A live
  signal retires when the upper Wilson bound of its accuracy (one-sided ``confidence_level``)
  is below ``retire_accuracy``; a retired one revives only when the lower bound is above
  ``revive_accuracy``. Deciding on the bounds, not the raw rate, is what stops the flapping:
  over 100 calls the raw rate alone moves +/- 5 points by chance.
- The bounds count independent evidence, not calls: calls whose horizons start in the same
  window of one horizon (``cluster``: the same market move, seen on several pairs or called
  twice) count once. On the shared data eight pairs' calls come in bursts, and counting each
  as independent made the window's accuracy swing far beyond the binomial noise.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import Any

import numpy as np

from centaur.settings.ensemble import TrackerSettings
from centaur.signal_stats import SignalStats

PPM = 1_000_000
MAX_PAYOFF_RATIO = 10.0  # no loss in the window yet: a large but finite payoff


class Status(StrEnum):
    PROBATION = "probation"
    LIVE = "live"
    RETIRED = "retired"


STATUS_CODES = {Status.PROBATION: 0, Status.LIVE: 1, Status.RETIRED: 2}


def weight_for(accuracy: float | np.ndarray, live: bool | np.ndarray = True
               ) -> float | np.ndarray:
    """(2 x edge)^2 with edge = accuracy - 0.5, floored at 0; 0 for a signal that is not live."""
    edge = np.maximum(np.asarray(accuracy, dtype=float) - 0.5, 0.0)
    weight = np.where(live, np.square(2.0 * edge), 0.0)
    return float(weight) if np.ndim(weight) == 0 else weight


def wilson_bounds(rate: float, samples: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a success ``rate`` over ``samples`` at normal quantile ``z``."""
    if samples <= 0:
        return 0.0, 1.0
    denominator = 1.0 + z * z / samples
    centre = (rate + z * z / (2 * samples)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / samples + z * z / (4 * samples * samples)) \
        / denominator
    return max(centre - half, 0.0), min(centre + half, 1.0)


def next_status(status: Status, hits: int, calls: int, clusters: int,
                settings: TrackerSettings) -> Status:
    """The status after a call is scored (pure; see the module rules)."""
    if calls < settings.min_calls:
        return status
    lower, upper = wilson_bounds(hits / calls, clusters, quantile_z(settings.confidence_level))
    if status is not Status.RETIRED and upper < settings.retire_accuracy:
        return Status.RETIRED
    if status is Status.RETIRED and lower > settings.revive_accuracy:
        return Status.LIVE
    return Status.LIVE if status is Status.PROBATION else status


def quantile_z(confidence_level: float) -> float:
    """The normal quantile of a one-sided confidence level (0.90 -> 1.28)."""
    return NormalDist().inv_cdf(confidence_level)


@dataclass(frozen=True)
class Transition:
    """A signal changed status (retirements and revivals are operator events)."""

    signal: str
    at_ns: int
    old: Status
    new: Status
    hits: int
    calls: int
    clusters: int


class SignalRecord:
    """One signal's window of scored calls (outcome, cluster) and the exact sums over it."""

    __slots__ = ("window", "status", "hits", "win_sum_ppm", "loss_sum_ppm", "_clusters")

    def __init__(self, window_calls: int, calls: Iterable[tuple[int, int]] = (),
                 status: Status = Status.PROBATION):
        self.window: deque[tuple[int, int]] = deque(maxlen=window_calls)
        self.status = status
        self.hits = self.win_sum_ppm = self.loss_sum_ppm = 0
        self._clusters: Counter[int] = Counter()
        for outcome, cluster in calls:
            self._push(int(outcome), int(cluster))

    @property
    def calls(self) -> int:
        return len(self.window)

    @property
    def clusters(self) -> int:
        """Independent pieces of evidence in the window: distinct clusters."""
        return len(self._clusters)

    @property
    def accuracy(self) -> float:
        return self.hits / self.calls if self.calls else 0.0

    @property
    def weight(self) -> float:
        return weight_for(self.accuracy, self.status is Status.LIVE)

    def _push(self, outcome_ppm: int, cluster: int) -> None:
        if len(self.window) == self.window.maxlen:
            self._account(*self.window[0], -1)
        self.window.append((outcome_ppm, cluster))
        self._account(outcome_ppm, cluster, +1)

    def _account(self, outcome_ppm: int, cluster: int, sign: int) -> None:
        self._clusters[cluster] += sign
        if not self._clusters[cluster]:
            del self._clusters[cluster]
        if outcome_ppm > 0:
            self.hits += sign
            self.win_sum_ppm += sign * outcome_ppm
        else:
            self.loss_sum_ppm -= sign * outcome_ppm

    def score(self, name: str, outcome_ppm: int, cluster: int, at_ns: int,
              settings: TrackerSettings) -> Transition | None:
        self._push(int(outcome_ppm), int(cluster))
        new = next_status(self.status, self.hits, self.calls, self.clusters, settings)
        if new is self.status:
            return None
        old, self.status = self.status, new
        return Transition(name, at_ns, old, new, self.hits, self.calls, self.clusters)


def pooled_stats(hits: int, calls: int, win_sum_ppm: int, loss_sum_ppm: int
                 ) -> SignalStats | None:
    """Win rate and payoff (mean win / mean loss) of a set of scored calls; None if empty."""
    if calls <= 0:
        return None
    losses = calls - hits
    if hits == 0:
        return SignalStats(0.0, 0.0, calls)
    if losses == 0 or loss_sum_ppm <= 0:
        return SignalStats(hits / calls, MAX_PAYOFF_RATIO, calls)
    payoff = (win_sum_ppm / hits) / (loss_sum_ppm / losses)
    return SignalStats(hits / calls, min(payoff, MAX_PAYOFF_RATIO), calls)


class SignalTracker:
    """The records of every tracked signal; JSON-serialisable for the state store."""

    def __init__(self, names: Iterable[str], settings: TrackerSettings):
        self.settings = settings
        self.records = {name: SignalRecord(settings.window_calls) for name in names}

    def score(self, name: str, outcome_ppm: int, cluster: int, at_ns: int
              ) -> Transition | None:
        return self.records[name].score(name, outcome_ppm, cluster, at_ns, self.settings)

    def to_json(self) -> dict[str, Any]:
        return {name: {"status": str(record.status),
                       "calls": [list(call) for call in record.window]}
                for name, record in self.records.items()}

    @classmethod
    def from_json(cls, names: Iterable[str], settings: TrackerSettings,
                  data: dict[str, Any] | None) -> SignalTracker:
        """Restore the named signals (a signal missing from ``data`` starts fresh)."""
        tracker = cls(names, settings)
        for name, saved in (data or {}).items():
            if name in tracker.records:
                tracker.records[name] = SignalRecord(
                    settings.window_calls,
                    [tuple(call) for call in saved["calls"][-settings.window_calls:]],
                    Status(saved["status"]))
        return tracker
