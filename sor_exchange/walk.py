"""The merged, fee-adjusted book walk: the optimal split of an order over visible books.

Each venue's taking side becomes a cost curve: level ``(p, s)`` costs ``p(1 + taker)`` per unit
for a buy and ``-p(1 - taker)`` for a sell (signed so that lower is better for both sides),
truncated where the venue's caps (base amount, notional) bind. All venues' levels are sorted
together once; taking the cheapest units until the order is filled fills every venue up to a
common marginal price, which is the optimum of the linear programme for static books (KKT).
Ties are broken by venue name and level, so the result never depends on the venues' order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sor_exchange.book import VenueBook, VenueTerms, side_sign


@dataclass(frozen=True, eq=False)
class VenueCurve:
    """One venue's taking side: level prices, capped sizes and the signed cost per unit."""

    venue: str
    price: np.ndarray
    size: np.ndarray
    unit_cost: np.ndarray
    cum_size: np.ndarray
    cum_cost: np.ndarray

    @property
    def capacity(self) -> float:
        return float(self.cum_size[-1]) if len(self.cum_size) else 0.0

    def cost(self, amount: float) -> float:
        """Signed cost of taking ``amount`` (inf beyond capacity)."""
        if amount <= 0:
            return 0.0
        if amount > self.capacity + 1e-12:
            return math.inf
        i = min(int(np.searchsorted(self.cum_size, amount - 1e-15)), len(self.size) - 1)
        before_size = self.cum_size[i - 1] if i else 0.0
        before_cost = self.cum_cost[i - 1] if i else 0.0
        return float(before_cost + (amount - before_size) * self.unit_cost[i])

    def level_end(self, amount: float) -> float:
        """Where the level that the next unit after ``amount`` comes from ends."""
        i = int(np.searchsorted(self.cum_size, amount + 1e-12, side="right"))
        return float(self.cum_size[min(i, len(self.cum_size) - 1)]) if len(self.size) else 0.0

    def worst_price(self, amount: float) -> float:
        """The price of the last level an order of ``amount`` touches."""
        i = int(np.searchsorted(self.cum_size, amount - 1e-12))
        return float(self.price[min(i, len(self.price) - 1)])

    def notional(self, amount: float) -> float:
        """Quote value at level prices (fees excluded) of taking ``amount``."""
        taken = np.clip(amount - (self.cum_size - self.size), 0.0, self.size)
        return float((taken * self.price).sum())


def build_curve(book: VenueBook, terms: VenueTerms, side: str,
                limit_price: float | None = None) -> VenueCurve:
    """The venue's curve for ``side``, limited to ``limit_price`` and truncated at its caps."""
    sign = side_sign(side)
    levels = book.taking(side)
    if limit_price is not None:
        levels = levels[levels[:, 0] * sign <= limit_price * sign + 1e-12]
    price, size = levels[:, 0], _capped(levels, terms)
    keep = size > 0
    price, size = price[keep], size[keep]
    unit_cost = sign * price * (1 + sign * terms.taker_fee_ratio)
    return VenueCurve(terms.venue, price, size, unit_cost, np.cumsum(size),
                      np.cumsum(size * unit_cost))


def _capped(levels: np.ndarray, terms: VenueTerms) -> np.ndarray:
    """Level sizes truncated where the base cap or the notional cap binds (a prefix cap)."""
    price, size = levels[:, 0], levels[:, 1]
    cum_size = np.cumsum(size)
    cap = terms.max_base
    if math.isfinite(terms.max_notional_quote):
        cum_notional = np.cumsum(size * price)
        i = int(np.searchsorted(cum_notional, terms.max_notional_quote))
        if i < len(size):
            before_n = cum_notional[i - 1] if i else 0.0
            before_s = cum_size[i - 1] if i else 0.0
            cap = min(cap, before_s + (terms.max_notional_quote - before_n) / price[i])
    capped_cum = np.minimum(cum_size, max(cap, 0.0))
    return np.diff(capped_cum, prepend=0.0)


@dataclass(frozen=True, eq=False)
class MergedBook:
    """Every venue's levels in one order, cheapest first; venues indexed by sorted name."""

    venues: tuple[str, ...]
    curves: tuple[VenueCurve, ...]
    unit_cost: np.ndarray
    size: np.ndarray
    venue_index: np.ndarray

    def allocate(self, amount: float, allowed: np.ndarray | None = None) -> np.ndarray:
        """Continuous optimal amount per venue (venue order) among ``allowed`` venues."""
        size = self.size if allowed is None else self.size * allowed[self.venue_index]
        before = np.cumsum(size) - size
        taken = np.clip(amount - before, 0.0, size)
        return np.bincount(self.venue_index, weights=taken, minlength=len(self.venues))

    def cost_of(self, amount: float) -> tuple[float, float]:
        """(signed cost, amount filled) of the continuous optimum for ``amount``."""
        before = np.cumsum(self.size) - self.size
        taken = np.clip(amount - before, 0.0, self.size)
        return float((taken * self.unit_cost).sum()), float(taken.sum())

    @property
    def capacity(self) -> float:
        return float(self.size.sum())

    def cost_bps(self, amount: float, mid: float, side: str) -> float:
        """Fee-adjusted cost of sweeping ``amount`` now against ``mid`` (inf if too deep)."""
        signed, filled = self.cost_of(amount)
        if filled < amount * (1 - 1e-9):
            return math.inf
        return (signed - side_sign(side) * mid * filled) / (mid * filled) * 1e4


def merge(books: Mapping[str, VenueBook], terms: Mapping[str, VenueTerms], side: str,
          limit_price: float | None = None) -> MergedBook:
    venues = tuple(sorted(name for name in books if name in terms))
    curves = tuple(build_curve(books[v], terms[v], side, limit_price) for v in venues)
    unit_cost = np.concatenate([c.unit_cost for c in curves]) if curves else np.zeros(0)
    size = np.concatenate([c.size for c in curves]) if curves else np.zeros(0)
    venue_index = np.concatenate([np.full(len(c.size), i) for i, c in enumerate(curves)]) \
        if curves else np.zeros(0, dtype=int)
    level_index = np.concatenate([np.arange(len(c.size)) for c in curves]) if curves \
        else np.zeros(0, dtype=int)
    order = np.lexsort((level_index, venue_index, unit_cost))
    return MergedBook(venues, curves, unit_cost[order], size[order],
                      venue_index[order].astype(int))
