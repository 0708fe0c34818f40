"""Binance spot's cash account and matching: a buy spends the quote, a sell spends the base.

A separate engine from the USDT-M one (its own orders, order ids and client ids), reusing its
book matching (``matching.MatchingEngine``). Balances are per asset, ``free`` and ``locked``
(a resting limit order locks what it may spend), as Binance's ``GET /api/v3/account`` reports
them. The commission is charged in the asset received - the base on a buy, the quote on a
sell - as Binance does when fees are not paid in BNB (Binance spot API, "New order": each fill's
``commissionAsset``). Rejections, in Binance's spot terms (``binance.ERROR_CODES``):

- a balance that does not cover the order: -2010 "Account has insufficient balance for
  requested action." (a market buy needs the quote its walk of the book costs);
- a client order id used before on the symbol: -2010 "Duplicate order sent." - stricter than
  Binance, which documents ``newClientOrderId`` as unique "among open orders" only, so a client
  must look an order up by its id before re-sending it, never rely on this rejection;
- a notional below the symbol's recorded ``MIN_NOTIONAL``/``NOTIONAL`` filter: -1013.

A market order the book cannot fill expires with what it filled (status ``EXPIRED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

from dev_tools.venue.books import Level
from dev_tools.venue.matching import MatchingEngine, OrderRequest, VenueError, VenueOrder

Book = tuple[list[Level], list[Level]]
INSUFFICIENT = "Account has insufficient balance for requested action."


@dataclass(frozen=True)
class SpotTrade:
    """One fill of a spot order, as ``fills`` and ``GET /api/v3/myTrades`` report it."""

    trade_id: int
    order_id: int
    symbol: str
    price: float
    amount: float
    commission: float
    commission_asset: str
    maker: bool
    time_ms: int


@dataclass
class SpotAccount:
    free: dict[str, float]
    locked: dict[str, float] = field(default_factory=dict)

    def move(self, asset: str, amount: float) -> None:
        """Credit (positive) or debit (negative) the free balance."""
        self.free[asset] = self.free.get(asset, 0.0) + amount

    def lock(self, asset: str, amount: float) -> None:
        self.move(asset, -amount)
        self.locked[asset] = self.locked.get(asset, 0.0) + amount

    def unlock(self, asset: str, amount: float) -> None:
        self.locked[asset] = self.locked.get(asset, 0.0) - amount
        self.move(asset, amount)

    def assets(self) -> list[str]:
        return sorted(set(self.free) | set(self.locked))


@dataclass
class SpotEngine(MatchingEngine):
    """Spot orders against the venue's book, settled in a cash account (see the module)."""

    account: SpotAccount  # type: ignore[assignment]  # a cash account, not a margin one
    assets: dict[str, tuple[str, str]] = field(default_factory=dict)  # symbol -> (base, quote)
    min_notionals: dict[str, float] = field(default_factory=dict)
    trades: list[SpotTrade] = field(default_factory=list)
    _resting: set[int] = field(default_factory=set)  # orders whose remainder is locked
    _trade_ids: count = field(default_factory=lambda: count(1))

    @classmethod
    def from_exchange_info(cls, info: dict[str, Any], balances: dict[str, float],
                           taker_fee: float, maker_fee: float) -> SpotEngine:
        """Assets and minimum notionals from the recorded ``/api/v3/exchangeInfo``."""
        assets, minimums = {}, {}
        for entry in info["symbols"]:
            assets[entry["symbol"]] = (entry["baseAsset"], entry["quoteAsset"])
            notional = next((f for f in entry["filters"]
                             if f["filterType"] in ("MIN_NOTIONAL", "NOTIONAL")), None)
            minimums[entry["symbol"]] = float(notional["minNotional"]) if notional else 0.0
        return cls(SpotAccount(dict(balances)), taker_fee=taker_fee, maker_fee=maker_fee,
                   min_notional=0.0, assets=assets, min_notionals=minimums)

    # --- MatchingEngine hooks ----------------------------------------------------------------

    def ensure_new(self, symbol: str, client_id: str) -> None:
        if (symbol, client_id) in self._client_ids:
            raise VenueError("duplicate_order", "Duplicate order sent.")

    def min_notional_of(self, symbol: str) -> float:
        return self.min_notionals.get(symbol, 0.0)

    def below_min_notional(self, symbol: str) -> VenueError:
        return VenueError("filter_failure", "Filter failure: MIN_NOTIONAL")

    def _check_margin(self, request: OrderRequest, price: float, marks: dict[str, float]) -> None:
        """Spot has no margin; ``submit`` checks the cash balance against the book first."""

    # --- orders ------------------------------------------------------------------------------

    def submit(self, request: OrderRequest, book: Book, now_ms: int,
               marks: dict[str, float] | None = None) -> VenueOrder:
        if request.client_order_id:
            self.ensure_new(request.symbol, request.client_order_id)
        self._check_balance(request, book)
        order = super().submit(request, book, now_ms, {})
        base, quote = self.assets[request.symbol]
        if order.status == "open":  # a resting limit order locks what it may still spend
            self._resting.add(order.order_id)
            buy = request.side == "buy"
            self.account.lock(quote if buy else base,
                              order.remaining * (request.price or 0.0) if buy else order.remaining)
        elif request.order_type == "market" and order.remaining > 1e-12:
            order.status = "expired"  # Binance: a market order the book cannot fill expires
        return order

    def cancel(self, order: VenueOrder, now_ms: int) -> VenueOrder:
        self._release(order)
        return super().cancel(order, now_ms)

    def trades_of(self, symbol: str, order_id: int | None = None) -> list[SpotTrade]:
        return [t for t in self.trades if t.symbol == symbol
                and (order_id is None or t.order_id == order_id)]

    def _check_balance(self, request: OrderRequest, book: Book) -> None:
        if request.symbol not in self.assets:
            raise VenueError("bad_symbol", "Invalid symbol.")
        base, quote = self.assets[request.symbol]
        if request.side == "sell":
            needed, asset = request.amount, base
        elif request.order_type == "limit":
            needed, asset = request.amount * (request.price or 0.0), quote
        else:
            needed, asset = _walk_cost(book[1], request.amount), quote
        if needed > self.account.free.get(asset, 0.0) + 1e-9:
            raise VenueError("insufficient_balance", INSUFFICIENT)

    def _release(self, order: VenueOrder) -> None:
        if order.order_id not in self._resting or order.status != "open":
            return
        self._resting.discard(order.order_id)
        base, quote = self.assets[order.request.symbol]
        buy = order.request.side == "buy"
        self.account.unlock(quote if buy else base,
                            order.remaining * (order.request.price or 0.0) if buy
                            else order.remaining)

    def _fill(self, order: VenueOrder, amount: float, price: float, fee_rate: float,
              now_ms: int) -> None:
        base, quote = self.assets[order.request.symbol]
        buy = order.request.side == "buy"
        maker = order.order_id in self._resting
        if maker:  # the fill spends what the resting order had locked
            self.account.unlock(quote if buy else base,
                                amount * (order.request.price or 0.0) if buy else amount)
        commission = amount * fee_rate if buy else amount * price * fee_rate
        order.filled += amount
        order.cost += amount * price
        order.fee += commission  # in the commission asset: base on a buy, quote on a sell
        order.updated_ms = now_ms
        if order.remaining <= 1e-12:
            order.status = "closed"
            self._resting.discard(order.order_id)
        self.account.move(quote, -amount * price if buy else amount * price - commission)
        self.account.move(base, amount - commission if buy else -amount)
        self.trades.append(SpotTrade(next(self._trade_ids), order.order_id, order.request.symbol,
                                     price, amount, commission, base if buy else quote, maker,
                                     now_ms))


def _walk_cost(levels: list[Level], amount: float) -> float:
    """The quote a market buy of ``amount`` spends walking ``levels`` (what they hold of it)."""
    cost, left = 0.0, amount
    for level in levels:
        if left <= 1e-12:
            break
        taken = min(left, level.amount)
        cost, left = cost + taken * level.price, left - taken
    return cost
