"""The venue's matching and account state, independent of any venue's wire protocol.

Orders fill against the venue's current book: marketable quantity walks the opposite side
(taker fee), the rest of a GTC limit order rests and fills when the replayed book crosses it
(maker fee). One USDT-margined account per venue, positions netted per symbol. A client order
id is unique per symbol, as on Binance; a duplicate is rejected, never filled twice.
``spot_account.SpotEngine`` reuses the matching with a cash account (``ensure_new``,
``min_notional_of``, ``below_min_notional``, ``_check_margin`` and ``_fill`` are its hooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from dev_tools.venue.books import Level


class VenueError(Exception):
    """A rejection in the venue's terms; each protocol module maps it to its wire format."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # duplicate_client_id, unknown_order, insufficient_margin, min_notional,
        # bad_symbol, bad_request


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str  # buy | sell
    order_type: str  # market | limit
    amount: float
    price: float | None = None
    time_in_force: str = "GTC"  # GTC | IOC | FOK | GTX (post-only)
    client_order_id: str | None = None
    reduce_only: bool = False


@dataclass
class VenueOrder:
    order_id: int
    client_order_id: str
    request: OrderRequest
    created_ms: int
    updated_ms: int
    status: str = "open"  # open | closed | canceled | expired | rejected
    filled: float = 0.0
    cost: float = 0.0
    fee: float = 0.0

    @property
    def remaining(self) -> float:
        return max(self.request.amount - self.filled, 0.0)

    @property
    def average(self) -> float:
        return self.cost / self.filled if self.filled else 0.0


@dataclass
class Position:
    amount: float = 0.0  # signed, base units
    entry_price: float = 0.0


@dataclass
class Account:
    wallet: float
    leverage: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)

    def used_margin(self, marks: dict[str, float]) -> float:
        return sum(abs(p.amount) * marks.get(s, p.entry_price) / self.leverage.get(s, 1)
                   for s, p in self.positions.items())


@dataclass
class MatchingEngine:
    account: Account
    taker_fee: float = 0.0004
    maker_fee: float = 0.0002
    min_notional: float = 5.0
    orders: dict[int, VenueOrder] = field(default_factory=dict)
    _client_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    _ids: count = field(default_factory=lambda: count(1_000_001))

    def submit(self, request: OrderRequest, book: tuple[list[Level], list[Level]],
               now_ms: int, marks: dict[str, float]) -> VenueOrder:
        client_id = request.client_order_id or f"venue-{next(self._ids)}"
        self.ensure_new(request.symbol, client_id)
        reference = request.price or (book[1][0].price if request.side == "buy" and book[1]
                                      else book[0][0].price if book[0] else 0.0)
        if request.amount * reference < self.min_notional_of(request.symbol) \
                and not request.reduce_only:
            raise self.below_min_notional(request.symbol)
        self._check_margin(request, reference, marks)
        order = VenueOrder(next(self._ids), client_id, request, now_ms, now_ms)
        self.orders[order.order_id] = order
        self._client_ids[(request.symbol, client_id)] = order.order_id
        if request.time_in_force == "GTX" and _crosses(request, book):
            order.status = "expired"  # post-only would take liquidity
            return order
        if request.time_in_force == "FOK" and _fillable(request, book) < request.amount:
            order.status = "expired"
            return order
        self._take(order, book, now_ms)
        if order.remaining > 0 and (request.order_type == "market"
                                    or request.time_in_force in ("IOC", "FOK")):
            order.status = "expired" if order.filled == 0 or request.order_type == "limit" \
                else "closed"
        return order

    def ensure_new(self, symbol: str, client_id: str) -> None:
        """A client order id already used on ``symbol`` is rejected, never filled twice."""
        if (symbol, client_id) in self._client_ids:
            raise VenueError("duplicate_client_id", "ClientOrderId is duplicated.")

    def min_notional_of(self, symbol: str) -> float:
        return self.min_notional

    def below_min_notional(self, symbol: str) -> VenueError:
        return VenueError("min_notional",
                          f"Order's notional must be no smaller than {self.min_notional}")

    def refresh(self, symbol: str, book: tuple[list[Level], list[Level]], now_ms: int) -> None:
        """Resting limit orders fill as maker when the replayed book trades through them."""
        for order in self.orders.values():
            if order.status != "open" or order.request.symbol != symbol:
                continue
            best_bid = book[0][0].price if book[0] else None
            best_ask = book[1][0].price if book[1] else None
            price = order.request.price or 0.0
            crossed = (order.request.side == "buy" and best_ask is not None and best_ask <= price) \
                or (order.request.side == "sell" and best_bid is not None and best_bid >= price)
            if crossed:
                self._fill(order, order.remaining, price, self.maker_fee, now_ms)

    def cancel(self, order: VenueOrder, now_ms: int) -> VenueOrder:
        if order.status != "open":
            raise VenueError("unknown_order", "Unknown order sent.")
        order.status = "canceled"
        order.updated_ms = now_ms
        return order

    def find(self, symbol: str, order_id: int | None = None, client_id: str | None = None
             ) -> VenueOrder:
        if order_id is None and client_id is not None:
            order_id = self._client_ids.get((symbol, client_id))
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None or order.request.symbol != symbol:
            raise VenueError("unknown_order", "Order does not exist.")
        return order

    def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return [o for o in self.orders.values() if o.status == "open"
                and (symbol is None or o.request.symbol == symbol)]

    def _check_margin(self, request: OrderRequest, price: float, marks: dict[str, float]) -> None:
        if request.reduce_only:
            return
        leverage = self.account.leverage.get(request.symbol, 1)
        needed = request.amount * price / leverage
        available = self.account.wallet - self.account.used_margin(marks)
        if needed > available:
            raise VenueError("insufficient_margin", "Margin is insufficient.")

    def _take(self, order: VenueOrder, book: tuple[list[Level], list[Level]], now_ms: int) -> None:
        levels = book[1] if order.request.side == "buy" else book[0]
        for level in levels:
            if order.remaining <= 0 or not _within_limit(order.request, level.price):
                break
            self._fill(order, min(order.remaining, level.amount), level.price, self.taker_fee,
                       now_ms)

    def _fill(self, order: VenueOrder, amount: float, price: float, fee_rate: float,
              now_ms: int) -> None:
        order.filled += amount
        order.cost += amount * price
        fee = amount * price * fee_rate
        order.fee += fee
        order.updated_ms = now_ms
        if order.remaining <= 1e-12:
            order.status = "closed"
        self._book_position(order.request.symbol, amount if order.request.side == "buy"
                            else -amount, price)
        self.account.wallet -= fee

    def _book_position(self, symbol: str, signed: float, price: float) -> None:
        position = self.account.positions.setdefault(symbol, Position())
        if position.amount == 0 or (position.amount > 0) == (signed > 0):
            total = position.amount + signed
            position.entry_price = (position.entry_price * abs(position.amount)
                                    + price * abs(signed)) / abs(total)
            position.amount = total
            return
        closing = min(abs(signed), abs(position.amount))
        direction = 1 if position.amount > 0 else -1
        self.account.wallet += closing * (price - position.entry_price) * direction
        position.amount += signed
        if abs(position.amount) < 1e-12:
            position.amount, position.entry_price = 0.0, 0.0
        elif (position.amount > 0) != (direction > 0):
            position.entry_price = price


def _within_limit(request: OrderRequest, price: float) -> bool:
    if request.order_type == "market" or request.price is None:
        return True
    return price <= request.price if request.side == "buy" else price >= request.price


def _crosses(request: OrderRequest, book: tuple[list[Level], list[Level]]) -> bool:
    levels = book[1] if request.side == "buy" else book[0]
    return bool(levels) and _within_limit(request, levels[0].price)


def _fillable(request: OrderRequest, book: tuple[list[Level], list[Level]]) -> float:
    levels = book[1] if request.side == "buy" else book[0]
    return sum(level.amount for level in levels if _within_limit(request, level.price))
