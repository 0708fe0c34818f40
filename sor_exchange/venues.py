"""One venue behind ccxt: books, terms and child orders in base units (the adapter boundary).

``VenueClient`` wraps a ccxt exchange object - freqtrade's own for the primary venue, a new
one per extra venue - and speaks in the router's unified types: ``VenueBook`` and
``VenueTerms`` in, ``VenueOrderView`` out, amounts converted from contracts with the market's
``contractSize``. Every ccxt call's error passes through ``errors.translate``.

Venue quirks are tables, each citing where it is documented:
``LOOKUP_BY_CLIENT_ID`` (how ccxt finds an order by client id), ``FETCH_ORDER_PARAMS``,
``MAX_BOOK_DEPTH``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ccxt

from sor_exchange.book import VenueBook, VenueTerms
from sor_exchange.errors import translate


@dataclass(frozen=True)
class VenueOrderView:
    """A child order as the venue reports it, in base units and quote fees."""

    venue_order_id: str
    client_order_id: str | None
    status: str  # open | closed | canceled | expired | rejected
    filled_base: float
    average: float | None
    fee_quote: float | None  # None: the venue did not report it (estimated from its terms)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def _unified_lookup(api, symbol: str, client_id: str):
    return api.fetch_order(None, symbol, {"clientOrderId": client_id})


def _binance_lookup(api, symbol: str, client_id: str):
    return api.fetch_order(None, symbol, {"origClientOrderId": client_id})


def _okx_lookup(api, symbol: str, client_id: str):
    return api.fetch_order(None, symbol, {"clOrdId": client_id})


def _bybit_lookup(api, symbol: str, client_id: str):
    # Bybit v5 GET /v5/order/realtime answers by orderLinkId whatever the order's status
    # (Bybit v5 "Get Open & Closed Orders"); ccxt's fetchOrder needs an order id.
    found = api.fetch_open_orders(symbol, params={"orderLinkId": client_id})
    if not found:
        raise ccxt.OrderNotFound(f"bybit: no order with orderLinkId {client_id}")
    return found[0]


LOOKUP_BY_CLIENT_ID: dict[str, Callable[[Any, str, str], dict]] = {
    "binance": _binance_lookup, "okx": _okx_lookup, "bybit": _bybit_lookup,
}
# ccxt bybit's fetchOrder refuses without this acknowledgement (ccxt bybit.fetch_order).
FETCH_ORDER_PARAMS: dict[str, dict[str, Any]] = {"bybit": {"acknowledged": True}}
# Largest book depth each venue serves in one request (venue API docs).
MAX_BOOK_DEPTH: dict[str, int] = {"binance": 1000, "bybit": 500, "okx": 400}


class VenueClient:
    """A venue reached through ccxt. ``fees`` override ccxt's market fees (ratios)."""

    def __init__(self, name: str, api: Any, *, primary: bool = False,
                 taker_fee_ratio: float | None = None, maker_fee_ratio: float | None = None,
                 fixed_cost_quote: float = 0.0):
        self.name, self.api, self.primary = name, api, primary
        self._fees = (taker_fee_ratio, maker_fee_ratio)
        self.fixed_cost_quote = fixed_cost_quote
        self._leverage: dict[str, float] = {}

    @property
    def ccxt_id(self) -> str:
        return self.api.id

    def _call(self, symbol: str | None, method: str | Callable, *args):
        func = getattr(self.api, method) if isinstance(method, str) else method
        try:
            return func(*args)
        except ccxt.BaseError as err:
            market = self.api.markets.get(symbol) if symbol and self.api.markets else None
            translated = translate(err, self.api, market)
            if translated is err:
                raise
            raise translated from err

    def market(self, symbol: str) -> dict[str, Any]:
        if not self.api.markets:
            self._call(None, "load_markets")
        return self.api.market(symbol)

    def contract_size(self, symbol: str) -> float:
        return float(self.market(symbol).get("contractSize") or 1.0)

    def _step(self, value: Any) -> float:
        if value is None:
            return 0.0
        if self.api.precisionMode == ccxt.TICK_SIZE:
            return float(value)
        return 10.0 ** -float(value)

    def terms(self, symbol: str, *, max_base: float = math.inf,
              max_notional_quote: float = math.inf) -> VenueTerms:
        market = self.market(symbol)
        size = self.contract_size(symbol)
        taker, maker = self._fees
        limits = market.get("limits", {})
        return VenueTerms(
            venue=self.name,
            taker_fee_ratio=taker if taker is not None else float(market.get("taker") or 0.0),
            maker_fee_ratio=maker if maker is not None else float(market.get("maker") or 0.0),
            lot_base=self._step(market["precision"].get("amount")) * size,
            tick=self._step(market["precision"].get("price")),
            min_base=float((limits.get("amount") or {}).get("min") or 0.0) * size,
            min_notional_quote=float((limits.get("cost") or {}).get("min") or 0.0),
            max_base=max_base, max_notional_quote=max_notional_quote,
            fixed_cost_quote=self.fixed_cost_quote,
        )

    def book(self, symbol: str, depth: int) -> VenueBook:
        depth = min(depth, MAX_BOOK_DEPTH.get(self.ccxt_id, depth))
        payload = self._call(symbol, "fetch_order_book", symbol, depth)
        return VenueBook.from_ccxt(self.name, payload, self.contract_size(symbol))

    def prepare(self, symbol: str, leverage: float) -> None:
        """Set the symbol's leverage once per value (futures venues)."""
        if self._leverage.get(symbol) == leverage or self.primary:
            return
        if self.market(symbol).get("contract") and self.api.has.get("setLeverage"):
            self._call(symbol, "set_leverage", leverage, symbol)
        self._leverage[symbol] = leverage

    def place(self, symbol: str, side: str, amount_base: float, price: float | None,
              order_type: str, time_in_force: str, client_order_id: str,
              reduce_only: bool) -> VenueOrderView:
        amount = self.api.amount_to_precision(symbol, amount_base / self.contract_size(symbol))
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if order_type == "limit" and time_in_force != "GTC":
            params["timeInForce"] = time_in_force
        if reduce_only:
            params["reduceOnly"] = True
        limit = self.api.price_to_precision(symbol, price) if price is not None else None
        order = self._call(symbol, "create_order", symbol, order_type, side, float(amount),
                           float(limit) if limit is not None else None, params)
        if order.get("status") is None:  # some venues acknowledge with ids only
            return self.fetch(symbol, str(order["id"]))
        return self._view(symbol, order)

    def find(self, symbol: str, client_order_id: str) -> VenueOrderView | None:
        """The order with this client id, or None if the venue confirms it has none."""
        lookup = LOOKUP_BY_CLIENT_ID.get(self.ccxt_id, _unified_lookup)
        try:
            order = self._call(symbol, lookup, self.api, symbol, client_order_id)
        except ccxt.OrderNotFound:
            return None
        return self._view(symbol, order)

    def fetch(self, symbol: str, venue_order_id: str) -> VenueOrderView:
        params = dict(FETCH_ORDER_PARAMS.get(self.ccxt_id, {}))
        return self._view(symbol, self._call(symbol, "fetch_order", venue_order_id, symbol,
                                             params))

    def cancel(self, symbol: str, venue_order_id: str) -> VenueOrderView:
        try:
            self._call(symbol, "cancel_order", venue_order_id, symbol)
        except ccxt.OrderNotFound:
            pass  # already done on the venue: its final state is fetched below
        return self.fetch(symbol, venue_order_id)

    def open_orders(self, symbol: str) -> list[VenueOrderView]:
        return [self._view(symbol, o) for o in self._call(symbol, "fetch_open_orders", symbol)]

    def free_quote(self, currency: str) -> float:
        balance = self._call(None, "fetch_balance")
        return float((balance.get(currency) or {}).get("free") or 0.0)

    def balance(self) -> dict[str, Any]:
        return self._call(None, "fetch_balance")

    def _view(self, symbol: str, order: dict[str, Any]) -> VenueOrderView:
        size = self.contract_size(symbol)
        fee = order.get("fee") or {}
        quote = self.market(symbol)["quote"]
        fee_quote = float(fee["cost"]) if fee.get("cost") is not None and \
            fee.get("currency") in (quote, None) else None
        return VenueOrderView(
            venue_order_id=str(order["id"]), client_order_id=order.get("clientOrderId"),
            status=order.get("status") or "open",
            filled_base=round(float(order.get("filled") or 0.0) * size, 12),
            average=float(order["average"]) if order.get("average") else None,
            fee_quote=fee_quote, raw=order)
