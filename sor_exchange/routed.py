"""Freqtrade ``Exchange`` mixin: each order freqtrade places is routed across venues.

With ``centaur.exchange.router.enabled`` and at least one extra venue in
``centaur.exchange.router.venues``, ``create_order`` hands the order to the ``OrderRouter``
and returns one freqtrade order (id ``sor-...``) that aggregates its children;
``fetch_order``, ``cancel_order`` and balances follow the children across venues, and
``cancel_all_open_orders`` is the kill switch's cancel-all. Any other order id, and every
config without extra venues, goes to freqtrade's stock code unchanged. The primary venue is
freqtrade's own ccxt object (its markets, data and precision); extra venues are ccxt objects
built from their config (credentials from the environment). Dry-run children are filled
against the venues' real books (``paper``); live children are sent through ccxt.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import ccxt
from freqtrade.enums import CandleType
from freqtrade.exceptions import (
    DDosProtection,
    InsufficientFundsError,
    InvalidOrderException,
    OperationalException,
    TemporaryError,
)
from freqtrade.exchange import timeframe_to_seconds

from centaur.events import event_sink
from centaur.modes import is_trading
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.exchange import RouterSettings, RouteVenueSettings
from centaur.state import open_state
from sor_exchange.execution import ChildExecutor
from sor_exchange.fills_log import FillsLog, default_url
from sor_exchange.health import VenueHealth
from sor_exchange.journal import Journal
from sor_exchange.order_router import OrderIntent, OrderRouter
from sor_exchange.paper import PaperVenue
from sor_exchange.slicing import volatility_bps_per_sqrt_sec
from sor_exchange.venues import VenueClient

logger = logging.getLogger(__name__)

COMPOSITE_PREFIX = "sor-"
# Futures markets to load per ccxt id (ccxt's ``fetchMarkets.types`` option of each class).
FUTURES_MARKETS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap"},
    "bybit": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap"},
    "okx": {"fetchMarkets": {"types": ["swap"]}, "defaultType": "swap"},
}


def is_composite(order_id: str) -> bool:
    return str(order_id).startswith(COMPOSITE_PREFIX)


def venue_api(name: str, venue: RouteVenueSettings, *, live: bool, futures: bool,
              timeout_secs: float, environ: dict[str, str] | None = None) -> Any:
    """A ccxt object for an extra venue; live ones get their credentials from ``environ``."""
    ccxt_id = venue.ccxt_id or name
    config = copy.deepcopy(venue.ccxt_config)
    options = {**(FUTURES_MARKETS.get(ccxt_id, {}) if futures else {}),
               **config.pop("options", {})}
    config = {"enableRateLimit": True, "timeout": int(timeout_secs * 1000), **config,
              "options": options}
    if live:
        config.update(_credentials(name, venue, os.environ if environ is None else environ))
    return getattr(ccxt, ccxt_id)(config)


def _credentials(name: str, venue: RouteVenueSettings, environ: dict[str, str]) -> dict[str, str]:
    names = venue.env_names(name)
    found = {key: environ[env] for key, env in names.items() if environ.get(env)}
    missing = [names[key] for key in ("apiKey", "secret") if key not in found]
    if missing:
        raise CentaurConfigError(
            f"centaur.exchange.router.venues.{name}: credentials missing for live trading. "
            f"Fix: set {' and '.join(missing)} in the environment or .env.")
    return found


class RoutedExchangeMixin:
    """Routes freqtrade's orders when the config asks for it; stock behaviour otherwise."""

    # Provided by freqtrade's ``Exchange`` (the class this mixin is combined with).
    _config: dict[str, Any]
    _api: Any
    _dry_run_open_orders: dict[str, Any]
    klines: Callable[..., Any]
    amount_to_precision: Callable[[str, float], float]
    price_to_precision: Callable[..., float]
    _lev_prep: Callable[..., None]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sor: OrderRouter | None = None
        self._sor_fills: FillsLog | None = None
        self._sor_lock = threading.RLock()
        self._sor_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        settings = self._router_settings()
        if settings is not None and not self._config["dry_run"]:
            for name, venue in settings.active_venues().items():
                if name != self._api.id:
                    _credentials(name, venue, dict(os.environ))

    # Hyperopt pickles the exchange into its workers; a lock does not travel.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_sor_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._sor_lock = threading.RLock()

    # --- wiring ----------------------------------------------------------------------------

    def _router_settings(self) -> RouterSettings | None:
        """The router settings when routing is on for this process, else None (stock)."""
        settings = settings_from(self._config).exchange.router
        extra = [n for n in settings.active_venues() if n != self._config["exchange"]["name"]]
        if not settings.enabled or not extra:
            return None
        if not is_trading(self._config):
            return None  # backtests and hyperopt never place orders
        return settings

    @property
    def order_router(self) -> OrderRouter | None:
        if self._sor is None and (settings := self._router_settings()) is not None:
            self._sor = self._build_router(settings)
        return self._sor

    def _build_router(self, settings: RouterSettings) -> OrderRouter:
        dry_run = bool(self._config["dry_run"])
        primary = self._api.id
        futures = self._config.get("trading_mode") == "futures"
        clients = {primary: self._client(primary, self._api, settings.venues.get(primary), True)}
        for name, venue in sorted(settings.active_venues().items()):
            if name != primary:
                api = venue_api(name, venue, live=not dry_run, futures=futures,
                                timeout_secs=settings.request_timeout_secs)
                clients[name] = self._client(name, api, venue, False)
        gateways = {n: PaperVenue(c, settings.book_depth) for n, c in clients.items()} \
            if dry_run else clients
        store = open_state(self._config)
        self._sor_fills = FillsLog(settings.fills_log_url or default_url(self._config))
        executor = ChildExecutor(gateways, Journal(store), VenueHealth(settings.cooldown_secs),
                                 self._sor_fills, event_sink(store), lambda: self._sor_clock(),
                                 settings.in_flight_window_secs)
        logger.info("Order router on: primary %s, venues %s (%s), fills log %s", primary,
                    ", ".join(sorted(clients)), "paper fills" if dry_run else "live",
                    self._sor_fills.shown_url)
        return OrderRouter(settings, primary, gateways, executor.journal, executor,
                           lambda: self._sor_clock(), lambda: COMPOSITE_PREFIX + uuid4().hex[:20],
                           dry_run=dry_run, strategy=str(self._config.get("strategy", "")),
                           volatility=self._volatility)

    @staticmethod
    def _client(name: str, api: Any, venue: RouteVenueSettings | None, primary: bool
                ) -> VenueClient:
        venue = venue or RouteVenueSettings()
        return VenueClient(name, api, primary=primary,
                           taker_fee_ratio=venue.taker_fee_ratio,
                           maker_fee_ratio=venue.maker_fee_ratio,
                           fixed_cost_quote=venue.fixed_cost_usd)

    def _volatility(self, pair: str) -> float | None:
        timeframe = self._config.get("timeframe", "5m")
        candle_type = CandleType.get_default(self._config.get("trading_mode", "spot"))
        candles = self.klines((pair, timeframe, candle_type), copy=False)
        if candles.empty:
            return None
        closes = candles["close"].tail(289).tolist()
        return volatility_bps_per_sqrt_sec(closes, timeframe_to_seconds(timeframe))

    # --- freqtrade's order calls -----------------------------------------------------------

    def create_order(self, *, pair: str, ordertype: str, side: str, amount: float, rate: float,
                     leverage: float, time_in_force: str = "GTC", reduceOnly: bool = False,
                     initial_order: bool = True) -> dict[str, Any]:
        router = self.order_router
        if router is None:
            return super().create_order(  # type: ignore[misc]
                pair=pair, ordertype=ordertype, side=side, amount=amount, rate=rate,
                leverage=leverage, time_in_force=time_in_force, reduceOnly=reduceOnly,
                initial_order=initial_order)
        intent = OrderIntent(pair, side, self.amount_to_precision(pair, amount),
                             self.price_to_precision(pair, rate), ordertype, reduceOnly, leverage)
        if not self._config["dry_run"] and not reduceOnly:
            self._lev_prep(pair, leverage, side, accept_fail=not initial_order)
        return self._routed(f"create {side} order on {pair}", lambda: router.create(intent))

    def fetch_order(self, order_id: str, pair: str, params: dict | None = None) -> dict[str, Any]:
        if is_composite(order_id) and (router := self.order_router) is not None:
            return self._routed(f"fetch order {order_id}", lambda: router.step(order_id))
        return super().fetch_order(order_id, pair, params)  # type: ignore[misc]

    def cancel_order(self, order_id: str, pair: str, params: dict | None = None) -> dict[str, Any]:
        if is_composite(order_id) and (router := self.order_router) is not None:
            return self._routed(f"cancel order {order_id}", lambda: router.cancel(order_id))
        return super().cancel_order(order_id, pair, params)  # type: ignore[misc]

    def get_balances(self, params: dict | None = None) -> dict[str, Any]:
        router = self.order_router
        if router is None or self._config["dry_run"]:
            return super().get_balances(params)  # type: ignore[misc]
        return self._routed("fetch balances", lambda: _summed_balances(
            [gateway.balance() for gateway in router.gateways.values()]))

    def cancel_all_open_orders(self) -> list[dict[str, Any]]:
        """Kill switch: cancel every open order on every venue; returns what was cancelled.

        Each entry: ``venue``, ``symbol``, ``venue_order_id``, ``client_order_id`` and the
        ``parent_order_id`` (freqtrade's order id) when the router placed it. Routed parents
        stop too (no further slices or re-routes). Without routing: the primary venue's open
        orders (dry-run: freqtrade's simulated ones).
        """
        pairs = list(self._config["exchange"].get("pair_whitelist", []))
        router = self.order_router
        if router is not None:
            return self._routed("cancel all orders", lambda: router.cancel_all(pairs))
        return self._cancel_all_primary(pairs)

    def _cancel_all_primary(self, pairs: list[str]) -> list[dict[str, Any]]:
        if self._config["dry_run"]:
            open_orders = [o for o in self._dry_run_open_orders.values()
                           if o.get("status") == "open"]
        else:
            open_orders = [o for pair in pairs for o in self._api.fetch_open_orders(pair)]
        out = []
        for order in open_orders:
            self.cancel_order(order["id"], order["symbol"])
            out.append({"venue": self._api.id, "symbol": order["symbol"],
                        "venue_order_id": order["id"],
                        "client_order_id": order.get("clientOrderId"), "parent_order_id": None})
        return out

    def close(self) -> None:
        fills = getattr(self, "_sor_fills", None)  # None too if __init__ failed early
        if fills is not None:
            self.attribute_fills()
            fills.close()
            self._sor_fills = None
        super().close()  # type: ignore[misc]

    # --- helpers ---------------------------------------------------------------------------

    def _routed(self, what: str, call: Callable[[], Any]) -> Any:
        with self._sor_lock:
            try:
                result = call()
            except ccxt.InsufficientFunds as err:
                raise InsufficientFundsError(f"Order router could not {what}: {err}") from err
            except ccxt.InvalidOrder as err:
                raise InvalidOrderException(f"Order router could not {what}: {err}") from err
            except (ccxt.DDoSProtection, ccxt.RateLimitExceeded) as err:
                raise DDosProtection(err) from err
            except (ccxt.OperationFailed, ccxt.ExchangeError) as err:
                raise TemporaryError(f"Order router could not {what}: {err}") from err
            except ccxt.BaseError as err:
                raise OperationalException(err) from err
            self.attribute_fills()
            return result

    def route_legs(self, order_id: str) -> list[dict[str, Any]]:
        """The venues' child fills of a routed parent order (empty: not routed)."""
        fills = getattr(self, "_sor_fills", None)
        if fills is None or not is_composite(order_id):
            return []
        return fills.legs_of(order_id)

    def attribute_fills(self) -> int:
        """Give fills their trade id and signal tag once freqtrade has stored the trade."""
        if getattr(self, "_sor_fills", None) is None:
            return 0
        updated = 0
        for parent_id in self._sor_fills.unattributed_parents():
            context = _trade_context(parent_id)
            if context is not None:
                updated += self._sor_fills.attribute(parent_id, *context)
        return updated


def _trade_context(order_id: str) -> tuple[int, str | None] | None:
    """(trade id, entry tag) of freqtrade's order ``order_id``, once it is stored."""
    from freqtrade.persistence import Order

    if getattr(Order, "session", None) is None:
        return None  # freqtrade's database is not initialised in this process
    order = Order.order_by_id(order_id)
    if order is None or order.ft_trade_id is None:
        return None
    return order.ft_trade_id, order.trade.enter_tag if order.trade else None


def _summed_balances(balances: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-currency free / used / total summed over venues (ccxt balance shape)."""
    out: dict[str, dict[str, float]] = {}
    for balance in balances:
        for currency, entry in balance.items():
            if not isinstance(entry, dict) or currency in ("info", "free", "used", "total"):
                continue
            target = out.setdefault(currency, {"free": 0.0, "used": 0.0, "total": 0.0})
            for key in target:
                target[key] += float(entry.get(key) or 0.0)
    return out
