"""The route plan: how one parent order is split over venues, and what it is expected to cost.

``plan_route`` is pure: books, terms, side and amount in; a ``RoutePlan`` out. It runs the merged
fee-adjusted walk (``walk``), rounds to each venue's lot and minimum with the remainder re-routed
(``rounding``), and, when venues carry a fixed cost, enumerates the subsets of those venues
(venues without one are always candidates) and keeps the cheapest plan. Each single-venue plan
is a candidate too, so the plan never costs more than the best single venue.

Invariants (tested as properties): child sizes sum to the parent within the finest lot unless
the visible books cannot take it (``residual_base``); each child respects its venue's lot,
minimum and caps; the plan does not depend on the order in which venues are listed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sor_exchange.book import VenueBook, VenueTerms, arrival_mid, lots_down, side_sign
from sor_exchange.rounding import feasible_allocation
from sor_exchange.walk import MergedBook, merge

MAX_FIXED_COST_VENUES = 10  # 2**10 subsets: beyond that the enumeration is not worth it


@dataclass(frozen=True)
class ChildPlan:
    venue: str
    amount_base: float
    limit_price: float
    expected_avg_price: float
    expected_fee_quote: float
    fixed_cost_quote: float = 0.0
    liquidity: str = "taker"

    @property
    def notional_quote(self) -> float:
        return self.amount_base * self.expected_avg_price


@dataclass(frozen=True)
class RoutePlan:
    side: str
    amount_base: float
    arrival_mid: float
    children: tuple[ChildPlan, ...]

    @property
    def filled_base(self) -> float:
        return round(sum(c.amount_base for c in self.children), 12)

    @property
    def residual_base(self) -> float:
        return max(round(self.amount_base - self.filled_base, 12), 0.0)

    @property
    def expected_avg_price(self) -> float:
        filled = self.filled_base
        return sum(c.notional_quote for c in self.children) / filled if filled else 0.0

    @property
    def fees_quote(self) -> float:
        return sum(c.expected_fee_quote for c in self.children)

    @property
    def fixed_costs_quote(self) -> float:
        return sum(c.fixed_cost_quote for c in self.children)

    @property
    def slippage_bps(self) -> float:
        """Average price against the arrival mid, in bps (positive: worse than mid)."""
        if not self.filled_base:
            return 0.0
        return side_sign(self.side) * (self.expected_avg_price / self.arrival_mid - 1) * 1e4

    @property
    def cost_quote(self) -> float:
        """Slippage against the arrival mid plus fees plus fixed costs, in quote."""
        slippage = side_sign(self.side) * (self.expected_avg_price - self.arrival_mid) \
            * self.filled_base
        return slippage + self.fees_quote + self.fixed_costs_quote

    @property
    def cost_bps(self) -> float:
        notional = self.arrival_mid * self.filled_base
        return self.cost_quote / notional * 1e4 if notional else 0.0

    def venues(self) -> dict[str, float]:
        return {c.venue: c.amount_base for c in self.children}


def _masks(venue_terms: Sequence[VenueTerms]) -> list[np.ndarray]:
    """Candidate venue sets: subsets of the fixed-cost venues plus every single venue."""
    count = len(venue_terms)
    fixed = [i for i, t in enumerate(venue_terms) if t.fixed_cost_quote > 0]
    if len(fixed) > MAX_FIXED_COST_VENUES:
        raise ValueError(f"{len(fixed)} venues with a fixed cost; at most "
                         f"{MAX_FIXED_COST_VENUES} can be enumerated")
    free = np.array([t.fixed_cost_quote <= 0 for t in venue_terms])
    masks = {}
    for size in range(len(fixed) + 1):
        for subset in itertools.combinations(fixed, size):
            mask = free.copy()
            mask[list(subset)] = True
            masks[mask.tobytes()] = mask
    for i in range(count):
        mask = np.zeros(count, dtype=bool)
        mask[i] = True
        masks.setdefault(mask.tobytes(), mask)
    return [m for m in masks.values() if m.any()]


def _evaluate(merged: MergedBook, venue_terms: Sequence[VenueTerms], amounts: np.ndarray
              ) -> tuple[float, float]:
    cost = sum(c.cost(a) + (t.fixed_cost_quote if a > 0 else 0.0)
               for c, t, a in zip(merged.curves, venue_terms, amounts, strict=True))
    return float(amounts.sum()), cost


def best_allocation(merged: MergedBook, venue_terms: Sequence[VenueTerms], amount: float
                    ) -> np.ndarray:
    """The cheapest feasible allocation that fills the most (venue order of ``merged``)."""
    best: tuple[float, float, np.ndarray] | None = None
    tolerance = 1e-9 * max(1.0, amount)
    for mask in _masks(venue_terms):
        amounts = feasible_allocation(merged, venue_terms, amount, mask)
        filled, cost = _evaluate(merged, venue_terms, amounts)
        if best is None or filled > best[0] + tolerance or \
                (filled > best[0] - tolerance and cost < best[1] - 1e-12):
            best = (filled, cost, amounts)
    return best[2] if best is not None else np.zeros(len(venue_terms))


def _child(merged: MergedBook, index: int, terms: VenueTerms, amount: float) -> ChildPlan:
    curve = merged.curves[index]
    notional = curve.notional(amount)
    return ChildPlan(
        venue=curve.venue, amount_base=amount, limit_price=curve.worst_price(amount),
        expected_avg_price=notional / amount, expected_fee_quote=notional * terms.taker_fee_ratio,
        fixed_cost_quote=terms.fixed_cost_quote)


def plan_route(side: str, amount_base: float, books: Mapping[str, VenueBook],
               terms: Mapping[str, VenueTerms], *, limit_price: float | None = None,
               mid: float | None = None) -> RoutePlan:
    """Split a taking order of ``amount_base`` over the venues present in both mappings.

    ``limit_price`` leaves out levels beyond it (a limit parent's marketable part only);
    ``mid`` is the arrival mid (default: the consolidated mid of ``books``).
    """
    if amount_base <= 0:
        raise ValueError(f"amount_base must be positive, got {amount_base}")
    merged = merge(books, terms, side, limit_price)
    venue_terms = [terms[v] for v in merged.venues]
    amounts = best_allocation(merged, venue_terms, amount_base)
    children = tuple(_child(merged, i, venue_terms[i], float(a))
                     for i, a in enumerate(amounts) if a > 0)
    return RoutePlan(side, amount_base, mid if mid is not None else arrival_mid(books), children)


def resting_children(side: str, amount_base: float, price: float,
                     terms: Mapping[str, VenueTerms], used: Mapping[str, float]
                     ) -> tuple[ChildPlan, ...]:
    """Where a limit parent's non-marketable rest waits: the lowest maker fee first.

    Each venue takes what its caps leave after ``used`` (its taking children), on its lot grid
    and at least its minimum; ties go to the venue name.
    """
    out = []
    remaining = amount_base
    for venue_terms in sorted(terms.values(), key=lambda t: (t.maker_fee_ratio, t.venue)):
        room = min(venue_terms.max_base, venue_terms.max_notional_quote / price) \
            - used.get(venue_terms.venue, 0.0)
        take = lots_down(max(min(remaining, room), 0.0), venue_terms.lot_base)
        if take <= 0 or take < venue_terms.min_size_base(price) - 1e-12:
            continue
        out.append(ChildPlan(venue_terms.venue, take, price, price,
                             take * price * venue_terms.maker_fee_ratio, 0.0, "maker"))
        remaining = round(remaining - take, 12)
        if remaining <= 1e-12:
            break
    return tuple(out)

