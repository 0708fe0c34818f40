"""Dry-run children: orders filled against the venue's real book, never sent to the venue.

``PaperVenue`` answers like ``VenueClient`` (place, find, fetch, cancel, open orders) so the
router runs the same code in dry-run and live. Books and terms are the venue's own, fetched
through ccxt's public endpoints; a child takes the levels within its limit price at the taker
fee - on the book the router just planned on, as a real venue would meet it - an IOC child's
rest expires, a GTC child's rest waits at its price and fills at the maker fee once a later
book trades through it (as freqtrade's own dry-run fills limit orders).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import ccxt
import numpy as np

from sor_exchange.book import VenueBook, VenueTerms, side_sign
from sor_exchange.venues import VenueClient, VenueOrderView


def take_levels(levels: np.ndarray, side: str, amount: float, limit_price: float | None
                ) -> tuple[float, float]:
    """(filled, cost) of taking up to ``amount`` from ``levels`` within ``limit_price``."""
    sign = side_sign(side)
    if limit_price is not None:
        levels = levels[levels[:, 0] * sign <= limit_price * sign + 1e-12]
    before = np.cumsum(levels[:, 1]) - levels[:, 1]
    taken = np.clip(amount - before, 0.0, levels[:, 1])
    return float(taken.sum()), float((taken * levels[:, 0]).sum())


@dataclass
class _PaperOrder:
    view: VenueOrderView
    symbol: str
    side: str
    amount_base: float
    price: float | None
    time_in_force: str
    cost: float = 0.0
    fee: float = 0.0


class PaperVenue:
    """A venue's dry-run twin: the venue's books and terms, simulated fills."""

    def __init__(self, client: VenueClient, depth: int):
        self.client = client
        self.name, self.primary = client.name, client.primary
        self._depth = depth
        self._orders: dict[str, _PaperOrder] = {}
        self._ids = itertools.count(1)
        self._planned: dict[str, VenueBook] = {}  # the book the router just planned on

    @property
    def ccxt_id(self) -> str:
        return self.client.ccxt_id

    def terms(self, symbol: str, **caps) -> VenueTerms:
        return self.client.terms(symbol, **caps)

    def book(self, symbol: str, depth: int) -> VenueBook:
        self._planned[symbol] = self.client.book(symbol, depth)
        return self._planned[symbol]

    def contract_size(self, symbol: str) -> float:
        return self.client.contract_size(symbol)

    def market(self, symbol: str) -> dict:
        return self.client.market(symbol)

    def prepare(self, symbol: str, leverage: float) -> None:
        """Leverage is freqtrade's dry-run business; nothing to set on a paper venue."""

    def place(self, symbol: str, side: str, amount_base: float, price: float | None,
              order_type: str, time_in_force: str, client_order_id: str,
              reduce_only: bool) -> VenueOrderView:
        order_id = f"paper-{self.name}-{next(self._ids)}"
        limit = price if order_type == "limit" else None
        view = VenueOrderView(order_id, client_order_id, "open", 0.0, None, 0.0)
        order = _PaperOrder(view, symbol, side, amount_base, limit, time_in_force)
        self._orders[order_id] = order
        self._fill(order, "taker", self._planned.pop(symbol, None))
        if order_type == "market" or time_in_force in ("IOC", "FOK"):
            done = order.view.filled_base >= amount_base - 1e-12
            self._close(order, "closed" if done else "expired")
        return order.view

    def _fill(self, order: _PaperOrder, liquidity: str, book: VenueBook | None = None) -> None:
        """Fill against ``book`` (default: a fresh one) as taker, or as maker if crossed."""
        remaining = order.amount_base - order.view.filled_base
        if remaining <= 1e-12 or order.view.status != "open":
            return
        levels = (book or self.client.book(order.symbol, self._depth)).taking(order.side)
        if liquidity == "maker":
            crossed = len(levels) and side_sign(order.side) * (levels[0, 0] - order.price) <= 0
            filled, cost = (remaining, remaining * order.price) if crossed else (0.0, 0.0)
        else:
            filled, cost = take_levels(levels, order.side, remaining, order.price)
        if filled <= 0:
            return
        terms = self.terms(order.symbol)
        order.cost += cost
        order.fee += cost * terms.fee_ratio(liquidity)
        total = round(order.view.filled_base + filled, 12)
        order.view = replace(order.view, filled_base=total, average=order.cost / total,
                             fee_quote=order.fee)
        if total >= order.amount_base - 1e-12:
            self._close(order, "closed")

    @staticmethod
    def _close(order: _PaperOrder, status: str) -> None:
        order.view = replace(order.view, status=status)

    def find(self, symbol: str, client_order_id: str) -> VenueOrderView | None:
        return next((o.view for o in self._orders.values()
                     if o.view.client_order_id == client_order_id), None)

    def _order(self, venue_order_id: str) -> _PaperOrder:
        if venue_order_id not in self._orders:  # paper orders do not survive a restart
            raise ccxt.OrderNotFound(f"{self.name}: no paper order {venue_order_id}")
        return self._orders[venue_order_id]

    def fetch(self, symbol: str, venue_order_id: str) -> VenueOrderView:
        order = self._order(venue_order_id)
        self._fill(order, "maker")
        return order.view

    def cancel(self, symbol: str, venue_order_id: str) -> VenueOrderView:
        order = self._order(venue_order_id)
        self._fill(order, "maker")
        if order.view.status == "open":
            self._close(order, "canceled")
        return order.view

    def open_orders(self, symbol: str) -> list[VenueOrderView]:
        return [o.view for o in self._orders.values()
                if o.symbol == symbol and o.view.status == "open"]
