"""The null every hit rate is measured against: the same rule with random directions.

A call at a candle with horizon h earns ``d x r - c`` (direction d = +/-1, forward return r,
round-trip cost c). The null is the same call with d drawn at random (+1 or -1 with equal
chance) at the same candle, horizon and cost. Its hit probability is known exactly, without
simulation: ``1/2 x [1(r > c) + 1(-r > c)] = 1/2 x 1(|r| > c)``. So each scored call carries
its own null, and the *excess hit* of a call is ``1(d r > c) - 1/2 x 1(|r| > c)``: its mean is
the hit rate above the random rule's, whatever the horizon, cost or volatility. (A raw hit rate
against 50 % is not: after 10 bp of costs a random 1 h call is right 41 % of the time, an
8 h call 47 %.) Likewise the null's mean return is exactly ``-c``, so the excess return of a
call is ``d x r``.

Calls that ride the same market move are not independent: the standard error is clustered
(``cluster`` ids: the horizon window a call starts in, any pair), which is the same as a
Newey-West correction with a horizon-long window for calls on one pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def excess_hits(outcome_ratio: np.ndarray, cost_ratio: float) -> np.ndarray:
    """Per call: hit (net outcome > 0) minus the random rule's hit probability at that call.

    ``outcome_ratio`` is the net directional outcome ``d x r - c`` of each call."""
    outcome = np.asarray(outcome_ratio, dtype=float)
    gross = outcome + cost_ratio  # d x r
    return (outcome > 0).astype(float) - 0.5 * (np.abs(gross) > cost_ratio)


def null_hit_rate(outcome_ratio: np.ndarray, cost_ratio: float) -> float:
    """The random rule's expected hit rate over the same calls."""
    gross = np.asarray(outcome_ratio, dtype=float) + cost_ratio
    return float(np.mean(0.5 * (np.abs(gross) > cost_ratio))) if len(gross) else math.nan


@dataclass(frozen=True)
class Excess:
    """A mean excess over the null with its cluster-robust standard error and interval."""

    estimate: float
    standard_error: float
    lower: float
    upper: float
    calls: int
    clusters: int
    confidence_level: float  # two-sided level of [lower, upper]

    @property
    def z(self) -> float:
        return self.estimate / self.standard_error if self.standard_error > 0 else 0.0

    @property
    def significant(self) -> bool:
        """The interval excludes zero on the positive side."""
        return self.lower > 0

    def as_dict(self, digits: int = 5) -> dict[str, float | int]:
        return {"estimate": round(self.estimate, digits),
                "standard_error": round(self.standard_error, digits),
                "lower": round(self.lower, digits), "upper": round(self.upper, digits),
                "z": round(self.z, 3), "calls": self.calls, "clusters": self.clusters,
                "confidence_level": self.confidence_level}


def clustered_mean(values: np.ndarray, clusters: np.ndarray | None = None,
                   confidence_level: float = 0.95) -> Excess:
    """Mean of ``values`` with a cluster-robust (CR1) standard error and a normal interval.

    Without ``clusters`` each value is its own cluster (the plain standard error)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    ids = np.arange(n) if clusters is None else np.asarray(clusters)
    if n == 0:
        return Excess(math.nan, math.inf, -math.inf, math.inf, 0, 0, confidence_level)
    mean = float(x.mean())
    _, inverse = np.unique(ids, return_inverse=True)
    sums = np.bincount(inverse, weights=x - mean)
    groups = len(sums)
    if groups < 2:
        return Excess(mean, math.inf, -math.inf, math.inf, n, groups, confidence_level)
    variance = float(np.sum(sums ** 2)) / (n * n) * groups / (groups - 1)
    se = math.sqrt(variance)
    z = NormalDist().inv_cdf(0.5 + confidence_level / 2)
    return Excess(mean, se, mean - z * se, mean + z * se, n, groups, confidence_level)


def minimum_detectable_edge(standard_deviation: float, effective_samples: float,
                            alpha_one_sided: float = 0.05, power: float = 0.8) -> float:
    """The smallest true mean a test at ``alpha_one_sided`` finds with probability ``power``
    from ``effective_samples`` independent values of that standard deviation."""
    if effective_samples <= 0:
        return math.inf
    normal = NormalDist()
    factor = normal.inv_cdf(1 - alpha_one_sided) + normal.inv_cdf(power)
    return factor * standard_deviation / math.sqrt(effective_samples)


def samples_for_edge(edge: float, standard_deviation: float, alpha_one_sided: float = 0.05,
                     power: float = 0.8) -> int:
    """Independent samples needed to detect a true mean ``edge`` (the inverse of the above)."""
    normal = NormalDist()
    factor = normal.inv_cdf(1 - alpha_one_sided) + normal.inv_cdf(power)
    return math.ceil((factor * standard_deviation / edge) ** 2)
