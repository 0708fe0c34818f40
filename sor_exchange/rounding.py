"""From the continuous optimum to orders venues accept: lots, minimums, remainder re-routed.

Each venue's continuous allocation is rounded down to its lot; an allocation under the venue's
minimum (amount or notional) is dropped. The remainder is re-routed in increments, each time to
the venue whose next increment costs least per unit: one lot (or the rest of the current level,
on the lot grid) on a venue already used, the venue's minimum order on a venue not used yet.
Increments never overshoot the parent, so child sizes sum to the parent unless no venue can
take what is left (reported as the residual).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sor_exchange.book import VenueTerms, lots_down
from sor_exchange.walk import MergedBook, VenueCurve


def _tolerance(amount: float) -> float:
    return 1e-9 * max(1.0, abs(amount))


def minimum_size(curve: VenueCurve, terms: VenueTerms) -> float:
    """The venue's smallest acceptable order, priced at its best level (0 with no levels)."""
    return terms.min_size_base(float(curve.price[0])) if len(curve.price) else math.inf


def round_down(alloc: np.ndarray, curves: Sequence[VenueCurve],
               terms: Sequence[VenueTerms]) -> np.ndarray:
    rounded = np.array([lots_down(a, t.lot_base) for a, t in zip(alloc, terms, strict=True)])
    minimums = np.array([minimum_size(c, t) for c, t in zip(curves, terms, strict=True)])
    rounded[rounded < minimums - 1e-12] = 0.0
    return rounded


def _increment(curve: VenueCurve, terms: VenueTerms, taken: float, remainder: float,
               tolerance: float) -> float | None:
    """The next amount this venue could add, or None if it cannot take any more."""
    if taken <= 0:
        step = minimum_size(curve, terms)
    else:
        chunk = min(remainder, curve.level_end(taken) - taken)
        step = max(lots_down(chunk, terms.lot_base), terms.lot_base) if terms.lot_base > 0 \
            else chunk
    capacity = lots_down(curve.capacity, terms.lot_base)
    if step <= 0 or step > remainder + tolerance or taken + step > capacity + tolerance:
        return None
    return step


def reroute_remainder(rounded: np.ndarray, amount: float, curves: Sequence[VenueCurve],
                      terms: Sequence[VenueTerms], allowed: np.ndarray) -> np.ndarray:
    """Add increments to the cheapest venue per unit until ``amount`` is placed or none fits."""
    taken = rounded.copy()
    tolerance = _tolerance(amount)
    remainder = amount - float(taken.sum())
    while remainder > tolerance:
        best: tuple[float, int, float] | None = None
        for v, (curve, venue_terms) in enumerate(zip(curves, terms, strict=True)):
            step = _increment(curve, venue_terms, taken[v], remainder, tolerance) \
                if allowed[v] else None
            if step is None:
                continue
            unit = (curve.cost(taken[v] + step) - curve.cost(taken[v])) / step
            if best is None or unit < best[0]:
                best = (unit, v, step)
        if best is None:
            break
        _, v, step = best
        taken[v] = round(taken[v] + step, 12)
        remainder = amount - float(taken.sum())
    return taken


def feasible_allocation(merged: MergedBook, terms: Sequence[VenueTerms], amount: float,
                        allowed: np.ndarray) -> np.ndarray:
    """The continuous optimum among ``allowed`` venues, rounded to what the venues accept."""
    continuous = merged.allocate(amount, allowed)
    rounded = round_down(continuous, merged.curves, terms)
    return reroute_remainder(rounded, amount, merged.curves, terms, allowed)
