"""Spot order clients for the hedge leg: live (orders sent through ccxt) and paper (none sent).

Both answer in one unified type, ``SpotOrderView`` (base units, fees split by what they cost
the holder), and raise ccxt's own error classes, so ``hedge_leg.SpotHedge`` runs the same code
in dry-run and live.

- ``LiveSpotClient``: a ``VenueClient`` over a ccxt object whose ``defaultType`` is ``spot``.
  freqtrade's futures ccxt object cannot be used: with ``defaultType: swap`` ccxt ``binance``
  resolves ``BTC/USDT`` to the perpetual (see ``spot_candles``).
- ``PaperSpotClient``: market orders walk the venue's real spot book (fetched through ccxt's
  public endpoint) at the spot market's taker fee; nothing is sent, no balance is checked.

Binance charges a spot commission in the asset received - the base on a buy - unless it is paid
in BNB (Binance spot API, "New order": ``fills[].commissionAsset``): a buy of ``q`` holds
``q - fee_base``. Binance's ``GET /api/v3/order`` carries no fills, so an order found by client
id gets its commissions from ``GET /api/v3/myTrades`` (ccxt ``fetch_order_trades``), or - if
that fails - an estimate at the taker fee in the received asset (the larger base fee: a close
then sells a little less, never more than is held).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import ccxt

from centaur.redaction import MASK, redact_text
from centaur.settings import CentaurConfigError
from sor_exchange.book import VenueBook, VenueTerms, lots_down
from sor_exchange.paper import take_levels
from sor_exchange.venues import VenueClient

# Binance spot regular tier taker fee (Binance "Trading Fee" schedule): when the market has none.
DEFAULT_SPOT_TAKER_FEE_RATIO = 0.001
# Only the spot markets: the hedge never needs the perpetuals (ccxt ``fetchMarkets.types``).
SPOT_OPTIONS: dict[str, Any] = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}


@dataclass(frozen=True)
class SpotOrderView:
    """A spot order as the venue reports it. ``fee_quote`` values every fee in quote;
    ``fee_base`` is the part charged in the base asset (bought, but not held)."""

    client_order_id: str
    venue_order_id: str
    status: str  # open | closed | canceled | expired | rejected
    filled_base: float
    average_price: float
    fee_quote: float
    fee_base: float
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class SpotOrderClient(Protocol):
    def lot_amount(self, symbol: str, amount_base: float) -> float:
        """``amount_base`` rounded down to the market's lot."""
        ...

    def place_market(self, symbol: str, side: str, amount_base: float,
                     client_order_id: str) -> SpotOrderView: ...

    def find(self, symbol: str, client_order_id: str) -> SpotOrderView | None:
        """The order with this client id; None only when the venue confirms it has none."""
        ...

    def error_text(self, error: Exception) -> str:
        """The venue's error as text for operators, credentials masked."""
        ...


def spot_api(exchange_config: dict[str, Any], *, live: bool, timeout_secs: float = 10.0) -> Any:
    """A ccxt object for the spot market of freqtrade's exchange (``config["exchange"]``): its
    ``ccxt_config`` and ``ccxt_sync_config`` (urls, options) with ``defaultType: spot``; live,
    its key and secret (which freqtrade reads from the environment)."""
    name = exchange_config["name"]
    config: dict[str, Any] = {"enableRateLimit": True, "timeout": int(timeout_secs * 1000)}
    for section in ("ccxt_config", "ccxt_sync_config"):
        config.update(copy.deepcopy(exchange_config.get(section) or {}))
    config["options"] = {**config.get("options", {}), **SPOT_OPTIONS}
    if live:
        credentials = {"apiKey": exchange_config.get("key"), "secret":
                       exchange_config.get("secret"), "password": exchange_config.get("password")}
        if not credentials["apiKey"] or not credentials["secret"]:
            raise CentaurConfigError(
                "exchange.key / exchange.secret: missing for the live spot hedge. Fix: set "
                "FREQTRADE__EXCHANGE__KEY and FREQTRADE__EXCHANGE__SECRET in the environment.")
        config.update({k: v for k, v in credentials.items() if v})
    return getattr(ccxt, name)(config)


def _masked(error: Exception, secrets: tuple[str | None, ...]) -> str:
    text = f"{type(error).__name__}: {error}"
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return redact_text(text)[:300]


class LiveSpotClient:
    """Spot market orders through ccxt (``VenueClient``: error translation, lookup by id)."""

    sends_orders = True  # an unanswered request may still be filled: ask before resending

    def __init__(self, venue: VenueClient):
        self.venue = venue

    def lot_amount(self, symbol: str, amount_base: float) -> float:
        self.venue.market(symbol)
        return float(self.venue.api.amount_to_precision(symbol, amount_base))

    def place_market(self, symbol: str, side: str, amount_base: float,
                     client_order_id: str) -> SpotOrderView:
        view = self.venue.place(symbol, side, amount_base, None, "market", "GTC",
                                client_order_id, False)
        return self._spot_view(symbol, side, view.raw)

    def find(self, symbol: str, client_order_id: str) -> SpotOrderView | None:
        view = self.venue.find(symbol, client_order_id)
        if view is None:
            return None
        order = view.raw
        if not order.get("fees") and not order.get("fee") and view.filled_base > 0:
            try:  # GET /api/v3/order has no fills: the commissions are in the order's trades
                trades = self.venue.api.fetch_order_trades(view.venue_order_id, symbol)
                order = {**order, "fees": [t["fee"] for t in trades if t.get("fee")]}
            except ccxt.BaseError:
                pass  # estimated below
        return self._spot_view(symbol, str(order.get("side") or ""), order)

    def error_text(self, error: Exception) -> str:
        api = self.venue.api
        return _masked(error, (api.apiKey, api.secret, api.password))

    def _spot_view(self, symbol: str, side: str, order: dict[str, Any]) -> SpotOrderView:
        market = self.venue.market(symbol)
        filled = float(order.get("filled") or 0.0)
        average = float(order.get("average") or 0.0)
        fees = order.get("fees") or ([order["fee"]] if order.get("fee") else [])
        fee_base = sum((float(f.get("cost") or 0) for f in fees
                        if f.get("currency") == market["base"]), 0.0)
        fee_quote = sum(float(f.get("cost") or 0) for f in fees
                        if f.get("currency") == market["quote"])
        others = [f for f in fees if f.get("currency") not in (market["base"], market["quote"])]
        taker = float(market.get("taker") or DEFAULT_SPOT_TAKER_FEE_RATIO)
        if others or (not fees and filled > 0):  # BNB, or unknown: estimated at the taker fee
            if not fees and side == "buy":
                fee_base = filled * taker
            else:
                fee_quote += filled * average * taker
        return SpotOrderView(str(order.get("clientOrderId") or ""), str(order["id"]),
                             order.get("status") or "open", filled, average,
                             fee_quote + fee_base * average, fee_base, order)


class PaperSpotClient:
    """Dry-run spot orders: a market order walks the venue's current book; nothing is sent."""

    sends_orders = False  # an error here never leaves an order behind

    def __init__(self, book: Callable[[str], VenueBook], terms: Callable[[str], VenueTerms]):
        self._book, self._terms = book, terms
        self._orders: dict[str, SpotOrderView] = {}
        self._ids = itertools.count(1)

    def lot_amount(self, symbol: str, amount_base: float) -> float:
        return lots_down(amount_base, self._terms(symbol).lot_base)

    def place_market(self, symbol: str, side: str, amount_base: float,
                     client_order_id: str) -> SpotOrderView:
        terms = self._terms(symbol)
        levels = self._book(symbol).taking(side)
        filled, cost = take_levels(levels, side, amount_base, None)
        if amount_base < terms.min_base or cost < terms.min_notional_quote:
            raise ccxt.InvalidOrder(f"paper {symbol}: {amount_base:g} base ({cost:.2f} quote) is "
                                    f"below the market's minimum ({terms.min_base:g} base, "
                                    f"{terms.min_notional_quote:g} quote)")
        fee_ratio = terms.taker_fee_ratio or DEFAULT_SPOT_TAKER_FEE_RATIO
        average = cost / filled if filled else 0.0
        fee_base = filled * fee_ratio if side == "buy" else 0.0
        view = SpotOrderView(client_order_id, f"paper-spot-{next(self._ids)}",
                             "closed" if filled >= amount_base - 1e-12 else "expired",
                             filled, average, cost * fee_ratio, fee_base)
        self._orders[client_order_id] = view
        return view

    def find(self, symbol: str, client_order_id: str) -> SpotOrderView | None:
        return self._orders.get(client_order_id)

    def error_text(self, error: Exception) -> str:
        return _masked(error, ())


def spot_venue(exchange_config: dict[str, Any], *, live: bool) -> VenueClient:
    """The spot market of freqtrade's exchange as a ``VenueClient`` (fees: the market's)."""
    api = spot_api(exchange_config, live=live)
    return VenueClient(api.id, api)
