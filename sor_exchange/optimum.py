"""The exact optimum of a split, solved independently of the router as a (mixed-integer) LP.

Used by the report and the tests to measure the router's gap; never by the router itself.
Variables are the amounts taken at each book level (bounded by the level size); the objective
is the fee-adjusted cost; constraints are the parent amount and each venue's caps. With
``milp_optimum`` the problem also carries each venue's lot (integer lot counts; a venue
without a lot stays continuous), its minimum order (on when used) and its fixed cost (a binary
per venue), solved by HiGHS' MILP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from sor_exchange.book import VenueBook, VenueTerms, side_sign


@dataclass(frozen=True)
class Optimum:
    signed_cost_quote: float  # fee-adjusted cost (a sell's proceeds are negative) + fixed costs
    amounts: dict[str, float]

    def cost_bps(self, side: str, mid: float) -> float:
        filled = sum(self.amounts.values())
        return (self.signed_cost_quote - side_sign(side) * mid * filled) / (mid * filled) * 1e4


def _levels(books: Mapping[str, VenueBook], terms: Mapping[str, VenueTerms], side: str):
    sign = side_sign(side)
    venues = sorted(v for v in books if v in terms)
    rows = []
    for v_index, venue in enumerate(venues):
        for price, size in books[venue].taking(side):
            cost = sign * price * (1 + sign * terms[venue].taker_fee_ratio)
            rows.append((v_index, price, size, cost))
    table = np.array(rows, dtype="float64").reshape(-1, 4)
    return venues, table[:, 0].astype(int), table[:, 1], table[:, 2], table[:, 3]


def lp_optimum(side: str, amount: float, books: Mapping[str, VenueBook],
               terms: Mapping[str, VenueTerms]) -> Optimum:
    """The continuous optimum (no lots, minimums or fixed costs): a lower bound on any plan."""
    venues, venue_of, price, size, cost = _levels(books, terms, side)
    a_ub, b_ub = _cap_rows(venues, venue_of, price, terms)
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=np.ones((1, len(cost))), b_eq=[amount],
                     bounds=list(zip(np.zeros(len(size)), size, strict=True)), method="highs")
    if result.status != 0:
        raise ValueError(f"linear programme not solved: {result.message}")
    return Optimum(float(result.fun), _per_venue(venues, venue_of, result.x))


def _cap_rows(venues, venue_of, price, terms):
    rows, bounds = [], []
    for i, venue in enumerate(venues):
        mask = (venue_of == i).astype(float)
        if np.isfinite(terms[venue].max_base):
            rows.append(mask)
            bounds.append(terms[venue].max_base)
        if np.isfinite(terms[venue].max_notional_quote):
            rows.append(mask * price)
            bounds.append(terms[venue].max_notional_quote)
    if not rows:
        return None, None
    return np.array(rows), np.array(bounds)


def _per_venue(venues, venue_of, x) -> dict[str, float]:
    totals = np.bincount(venue_of, weights=x, minlength=len(venues))
    return {v: float(t) for v, t in zip(venues, totals, strict=True) if t > 1e-12}


def milp_optimum(side: str, amount: float, books: Mapping[str, VenueBook],
                 terms: Mapping[str, VenueTerms]) -> Optimum:
    """The exact optimum with lots, minimum orders and fixed costs (small problems only).

    Variables: level amounts x, lot counts n (integer) and a used flag y (binary) per venue.
    """
    venues, venue_of, price, size, cost = _levels(books, terms, side)
    n_levels, n_venues = len(cost), len(venues)
    problem = _Rows(n_levels, n_venues)
    problem.add(np.concatenate([np.ones(n_levels), np.zeros(2 * n_venues)]), amount, amount)
    max_lots = []
    for i, venue in enumerate(venues):
        mask = venue_of == i
        problem.venue(i, mask, price, size, terms[venue])
        depth = size[mask].sum()
        max_lots.append(np.floor(depth / terms[venue].lot_base + 1e-9)
                        if terms[venue].lot_base > 0 else depth)
    c = np.concatenate([cost, np.zeros(n_venues), [terms[v].fixed_cost_quote for v in venues]])
    lotted = [1.0 if terms[v].lot_base > 0 else 0.0 for v in venues]  # no lot: continuous
    integrality = np.concatenate([np.zeros(n_levels), lotted, np.ones(n_venues)])
    upper = np.concatenate([size, max_lots, np.ones(n_venues)])
    result = milp(c, constraints=LinearConstraint(np.array(problem.rows), problem.lower,
                                                  problem.upper),
                  integrality=integrality, bounds=Bounds(np.zeros(len(c)), upper),
                  options={"mip_rel_gap": 1e-9})
    if result.status != 0:
        raise ValueError(f"mixed-integer programme not solved: {result.message}")
    return Optimum(float(result.fun), _per_venue(venues, venue_of, result.x[:n_levels]))


def _lot(terms: VenueTerms) -> float:
    return terms.lot_base if terms.lot_base > 0 else 1.0  # a continuous venue: count = amount


class _Rows:
    """Constraint rows ``lower <= row @ [x, n, y] <= upper`` of the mixed-integer programme."""

    def __init__(self, n_levels: int, n_venues: int):
        self.n_levels, self.n_venues = n_levels, n_venues
        self.rows: list[np.ndarray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, row: np.ndarray, lower: float, upper: float) -> None:
        self.rows.append(row)
        self.lower.append(lower)
        self.upper.append(upper)

    def _taken(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        row = np.zeros(self.n_levels + 2 * self.n_venues)
        row[:self.n_levels] = mask * (weights if weights is not None else 1.0)
        return row

    def venue(self, i: int, mask: np.ndarray, price: np.ndarray, size: np.ndarray,
              terms: VenueTerms) -> None:
        lots, used = self.n_levels + i, self.n_levels + self.n_venues + i
        best = float(price[mask][0]) if mask.any() else 1.0
        row = self._taken(mask)
        row[lots] = -_lot(terms)
        self.add(row, 0.0, 0.0)  # a whole number of lots
        row = self._taken(mask)
        row[used] = -float(size[mask].sum())
        self.add(row, -np.inf, 0.0)  # nothing taken unless the venue is used
        row = self._taken(mask)
        row[used] = -terms.min_size_base(best)
        self.add(row, 0.0, np.inf)  # a used venue takes at least its minimum
        if np.isfinite(terms.max_base):
            self.add(self._taken(mask), 0.0, terms.max_base)
        if np.isfinite(terms.max_notional_quote):
            self.add(self._taken(mask, price), 0.0, terms.max_notional_quote)
