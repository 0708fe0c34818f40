"""Sweep now or slice in time: the choice made by a stated impact model, not a constant.

Model (Almgren-Chriss with a visible-book impact): sweeping ``Q`` now costs ``c(Q)``, the
fee-adjusted cost in bps of the merged book walk of ``Q``. ``N`` equal slices ``Q/N`` sent
``dt`` apart cost ``c(Q/N)`` each, assuming the books refill between slices (the operator's
``min_interval_secs`` is that resilience assumption), plus timing risk on the inventory still to
trade: the TWAP cost standard deviation ``sigma * sqrt(dt * sum_{k=1}^{N-1} (1 - k/N)^2)`` in
bps, weighted by ``risk_aversion``. The decision minimises ``c(Q/N) + risk_aversion * std`` over
the ``N`` the operator allows (``max_slices``; ``max_slice_quote`` forces a minimum ``N``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SliceBounds:
    max_slices: int = 10
    interval_secs: float = 15.0
    max_slice_quote: float | None = None
    risk_aversion: float = 1.0
    volatility_bps_per_sqrt_sec: float = 1.0


@dataclass(frozen=True)
class SliceDecision:
    slices: int
    interval_secs: float
    slice_base: float
    sweep_cost_bps: float
    expected_cost_bps: float
    reason: str

    @property
    def sliced(self) -> bool:
        return self.slices > 1


def timing_risk_bps(slices: int, interval_secs: float, volatility_bps_per_sqrt_sec: float
                    ) -> float:
    """Standard deviation of a TWAP's cost from price moves while the rest waits, in bps."""
    waiting = sum((1 - k / slices) ** 2 for k in range(1, slices))
    return volatility_bps_per_sqrt_sec * math.sqrt(interval_secs * waiting)


def choose_slicing(sweep_cost_bps: Callable[[float], float], amount_base: float,
                   mid: float, bounds: SliceBounds) -> SliceDecision:
    """``sweep_cost_bps(q)``: the cost of taking ``q`` now (inf if the books cannot)."""
    fewest = 1
    if bounds.max_slice_quote:
        fewest = max(1, math.ceil(amount_base * mid / bounds.max_slice_quote - 1e-9))
    fewest = min(fewest, bounds.max_slices)
    sweep = sweep_cost_bps(amount_base)
    options = []
    for slices in range(fewest, bounds.max_slices + 1):
        impact = sweep_cost_bps(amount_base / slices)
        risk = timing_risk_bps(slices, bounds.interval_secs, bounds.volatility_bps_per_sqrt_sec)
        options.append((impact + bounds.risk_aversion * risk, slices))
    total, slices = min(options)
    if math.isinf(total):
        slices = bounds.max_slices
    reason = (f"sweep now: {sweep:.2f} bps" if slices == 1 else
              f"slice {slices} x {amount_base / slices:.6g} every {bounds.interval_secs:g} s: "
              f"{total:.2f} bps (impact + {bounds.risk_aversion:g} x timing risk) "
              f"vs sweep {sweep:.2f} bps")
    return SliceDecision(slices, bounds.interval_secs, amount_base / slices, sweep, total, reason)


def volatility_bps_per_sqrt_sec(closes: list[float], timeframe_secs: float) -> float | None:
    """Close-to-close volatility in bps per square-root second (None with too few closes)."""
    if len(closes) < 20 or timeframe_secs <= 0:
        return None
    returns = [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False) if a > 0 and b > 0]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return math.sqrt(variance / timeframe_secs) * 1e4
