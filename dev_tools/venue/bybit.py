"""Bybit's v5 REST protocol (linear USDT perpetuals), as ccxt's ``bybit`` class speaks it.

Only what the order router uses: server time, instruments (the recorded v2 symbols' own
filters in v5 shape, see ``catalogue``), order book, account checks, wallet balance, positions,
leverage, and order create / query / cancel. Shapes follow Bybit's v5 documentation
(https://bybit-exchange.github.io/docs/v5/intro); every answer is HTTP 200 with ``retCode``
(0: success), as Bybit answers. Signed requests are checked when the venue has an API key:
``HMAC_SHA256(secret, timestamp + key + recvWindow + query or body)``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dev_tools.venue.matching import OrderRequest, VenueError, VenueOrder
from dev_tools.venue.replay import Instrument
from dev_tools.venue.state import FAULT_KEY, VenueState
from dev_tools.venue.wire import num, parse_order_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# VenueError kind -> Bybit retCode (Bybit v5 "Error Codes" page; ccxt bybit's exceptions).
ERROR_CODES: dict[str, int] = {
    "duplicate_client_id": 110072, "unknown_order": 110001, "cancel_unknown": 110001,
    "insufficient_margin": 110007, "min_notional": 110094, "bad_symbol": 10001,
    "bad_request": 10001, "auth": 10004, "rate_limit": 10006,
}
STATUS = {"open": "New", "closed": "Filled", "canceled": "Cancelled", "expired": "Cancelled",
          "rejected": "Rejected"}
TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "GTX"}




class BybitProtocol:
    def __init__(self, state: VenueState):
        self.state = state

    def error_response(self, kind: str, message: str) -> web.Response:
        if kind == "internal":
            return web.Response(status=503, text="Service Unavailable")
        return self._reply({}, ERROR_CODES.get(kind, 10001), message)

    def _reply(self, result: Any, code: int = 0, message: str = "OK") -> web.Response:
        return web.json_response({"retCode": code, "retMsg": message, "result": result,
                                  "retExtInfo": {}, "time": self.state.now_ms()})

    def routes(self) -> list[tuple[str, str, Handler]]:
        private = self._private
        return [
            ("GET", "/v5/market/time", self.server_time),
            ("GET", "/v5/market/instruments-info", self.instruments),
            ("GET", "/v5/market/orderbook", self.orderbook),
            ("GET", "/v5/asset/coin/query-info", private(self.coins)),
            ("GET", "/v5/user/query-api", private(self.api_info)),
            ("GET", "/v5/account/info", private(self.account_info)),
            ("GET", "/v5/account/wallet-balance", private(self.wallet_balance)),
            ("GET", "/v5/position/list", private(self.positions)),
            ("POST", "/v5/position/set-leverage", private(self.set_leverage)),
            ("POST", "/v5/order/create", private(self.create_order)),
            ("GET", "/v5/order/realtime", private(self.realtime)),
            ("GET", "/v5/order/history", private(self.history)),
            ("POST", "/v5/order/cancel", private(self.cancel_order)),
            ("POST", "/v5/order/cancel-all", private(self.cancel_all)),
        ]

    # --- plumbing --------------------------------------------------------------------------

    def _private(self, handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            body = await request.text() if request.method == "POST" else ""
            params = dict(request.query) | (json.loads(body) if body else {})
            if not self._signed(request, body):
                return self.error_response("auth", "error sign! Invalid API key or signature.")
            return await handler(request, params)
        return checked

    def _signed(self, request: web.Request, body: str) -> bool:
        settings = self.state.settings
        if settings.api_key is None:
            return True
        headers = request.headers
        if headers.get("X-BAPI-API-KEY") != settings.api_key:
            return False
        payload = (headers.get("X-BAPI-TIMESTAMP", "") + settings.api_key
                   + headers.get("X-BAPI-RECV-WINDOW", "")
                   + (body if request.method == "POST" else request.query_string))
        expected = hmac.new((settings.api_secret or "").encode(), payload.encode(),
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-BAPI-SIGN", ""))

    def _instrument(self, symbol: str | None) -> Instrument:
        instrument = self.state.instrument(symbol or "", True)
        if instrument is None:
            raise VenueError("bad_symbol", f"params error: symbol invalid {symbol}")
        return instrument

    def _refresh(self, symbol: str) -> None:
        instrument = self.state.instrument(symbol, True)
        if instrument is not None:
            self.state.engine.refresh(symbol, self.state.book(instrument), self.state.now_ms())

    # --- public ----------------------------------------------------------------------------

    async def server_time(self, request: web.Request) -> web.Response:
        now = self.state.now_ms()
        return self._reply({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def instruments(self, request: web.Request) -> web.Response:
        if request.query.get("category", "linear") != "linear":
            return self._reply({"category": request.query.get("category"), "list": [],
                                "nextPageCursor": ""})
        if request.query.get("status") == "PreLaunch":
            return self._reply({"category": "linear", "list": [], "nextPageCursor": ""})
        return self._reply({"category": "linear", "nextPageCursor": "",
                            "list": [_v5_instrument(s) for s in
                                     self.state.exchange_info["symbols"]]})

    async def orderbook(self, request: web.Request) -> web.Response:
        instrument = self._instrument(request.query.get("symbol"))
        bids, asks = self.state.book(instrument, int(request.query.get("limit", 25)))
        now = self.state.now_ms()
        return self._reply({"s": instrument.symbol, "ts": now, "u": now, "seq": now, "cts": now,
                            "b": [[num(lv.price), num(lv.amount)] for lv in bids],
                            "a": [[num(lv.price), num(lv.amount)] for lv in asks]})

    # --- account ---------------------------------------------------------------------------

    async def coins(self, request: web.Request, params: dict) -> web.Response:
        return self._reply({"rows": [{"name": "USDT", "coin": "USDT", "remainAmount": "0",
                                      "chains": []}]})

    async def api_info(self, request: web.Request, params: dict) -> web.Response:
        return self._reply({"id": "1", "readOnly": 0, "permissions": {"ContractTrade": ["Order"]},
                            "unified": 0, "uta": 1, "isMaster": True})

    async def account_info(self, request: web.Request, params: dict) -> web.Response:
        return self._reply({"unifiedMarginStatus": 4, "marginMode": "REGULAR_MARGIN",
                            "isMasterTrader": False, "updatedTime": str(self.state.now_ms())})

    async def wallet_balance(self, request: web.Request, params: dict) -> web.Response:
        account = self.state.engine.account
        used = account.used_margin(self.state.marks())
        wallet = num(account.wallet)
        coin = {"coin": "USDT", "equity": wallet, "walletBalance": wallet,
                "availableToWithdraw": num(account.wallet - used), "locked": "0",
                "totalPositionIM": num(used), "totalOrderIM": "0", "unrealisedPnl": "0",
                "usdValue": num(account.wallet)}
        return self._reply({"list": [{"accountType": "UNIFIED", "totalEquity": coin["equity"],
                                      "totalWalletBalance": coin["walletBalance"],
                                      "totalAvailableBalance": coin["availableToWithdraw"],
                                      "coin": [coin]}]})

    async def positions(self, request: web.Request, params: dict) -> web.Response:
        account = self.state.engine.account
        rows = [{"symbol": s, "side": "Buy" if p.amount > 0 else "Sell",
                 "size": num(abs(p.amount)),
                 "avgPrice": num(p.entry_price), "positionIdx": 0,
                 "leverage": str(account.leverage.get(s, 1)), "tradeMode": 1,
                 "updatedTime": str(self.state.now_ms())}
                for s, p in account.positions.items()
                if p.amount and params.get("symbol") in (None, s)]
        return self._reply({"category": "linear", "list": rows, "nextPageCursor": ""})

    async def set_leverage(self, request: web.Request, params: dict) -> web.Response:
        symbol = self._instrument(params.get("symbol")).symbol
        self.state.engine.account.leverage[symbol] = int(float(params.get("buyLeverage", 1)))
        return self._reply({})

    # --- orders ----------------------------------------------------------------------------

    async def create_order(self, request: web.Request, params: dict) -> web.Response:
        instrument = self._instrument(params.get("symbol"))
        side, amount = str(params.get("side", "")).lower(), float(params.get("qty", 0))
        order = self.state.engine.submit(
            OrderRequest(symbol=instrument.symbol, side=side,
                         order_type=str(params.get("orderType", "")).lower(), amount=amount,
                         price=float(params["price"]) if params.get("price") else None,
                         time_in_force=TIME_IN_FORCE.get(params.get("timeInForce", "GTC"), "GTC"),
                         client_order_id=params.get("orderLinkId") or None,
                         reduce_only=bool(params.get("reduceOnly", False))),
            self.state.book_for_order(instrument, side, amount, request.get(FAULT_KEY)),
            self.state.now_ms(), self.state.marks())
        return self._reply({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    def _find(self, params: dict) -> VenueOrder:
        symbol = self._instrument(params.get("symbol")).symbol
        order_id = parse_order_id(params.get("orderId"))
        return self.state.engine.find(symbol, order_id, params.get("orderLinkId") or None)

    def _orders(self, params: dict, open_only: bool) -> list[dict[str, Any]]:
        if params.get("orderId") or params.get("orderLinkId"):
            try:
                found = [self._find(params)]
            except VenueError:
                return []
        else:
            found = [o for o in self.state.engine.orders.values()
                     if params.get("symbol") in (None, o.request.symbol)]
        for symbol in {o.request.symbol for o in found}:
            self._refresh(symbol)
        return [_order(o) for o in found if not open_only or o.status == "open"]

    async def realtime(self, request: web.Request, params: dict) -> web.Response:
        open_only = str(params.get("openOnly", "0")) == "0" and not (
            params.get("orderId") or params.get("orderLinkId"))
        return self._reply({"category": "linear", "list": self._orders(params, open_only),
                            "nextPageCursor": ""})

    async def history(self, request: web.Request, params: dict) -> web.Response:
        return self._reply({"category": "linear", "list": self._orders(params, False),
                            "nextPageCursor": ""})

    async def cancel_order(self, request: web.Request, params: dict) -> web.Response:
        order = self._find(params)
        self._refresh(order.request.symbol)
        self.state.engine.cancel(order, self.state.now_ms())
        return self._reply({"orderId": str(order.order_id), "orderLinkId": order.client_order_id})

    async def cancel_all(self, request: web.Request, params: dict) -> web.Response:
        cancelled = []
        for order in self.state.engine.open_orders(params.get("symbol")):
            self.state.engine.cancel(order, self.state.now_ms())
            cancelled.append({"orderId": str(order.order_id),
                              "orderLinkId": order.client_order_id})
        return self._reply({"list": cancelled, "success": "1"})


def _v5_instrument(symbol: dict[str, Any]) -> dict[str, Any]:
    """A recorded v2 symbol with its own filters, in the v5 instruments-info shape."""
    lot, price, leverage = (symbol["lot_size_filter"], symbol["price_filter"],
                            symbol["leverage_filter"])
    return {
        "symbol": symbol["name"], "contractType": "LinearPerpetual", "status": "Trading",
        "baseCoin": symbol["base_currency"], "quoteCoin": "USDT", "settleCoin": "USDT",
        "launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
        "priceScale": str(symbol["price_scale"]), "fundingInterval": 480,
        "leverageFilter": {"minLeverage": str(leverage["min_leverage"]),
                           "maxLeverage": str(leverage["max_leverage"]),
                           "leverageStep": leverage["leverage_step"]},
        "priceFilter": {"minPrice": price["min_price"], "maxPrice": price["max_price"],
                        "tickSize": price["tick_size"]},
        "lotSizeFilter": {"maxOrderQty": str(lot["max_trading_qty"]),
                          "minOrderQty": str(lot["min_trading_qty"]),
                          "qtyStep": str(lot["qty_step"]), "minNotionalValue": "5"},
        "takerFee": symbol["taker_fee"], "makerFee": symbol["maker_fee"],
    }


def _order(order: VenueOrder) -> dict[str, Any]:
    req = order.request
    status = STATUS[order.status]
    if order.status == "open" and order.filled > 0:
        status = "PartiallyFilled"
    if order.status in ("canceled", "expired") and order.filled > 0:
        status = "PartiallyFilledCanceled"
    tif = next((k for k, v in TIME_IN_FORCE.items() if v == req.time_in_force), "GTC")
    return {
        "orderId": str(order.order_id), "orderLinkId": order.client_order_id,
        "symbol": req.symbol, "side": req.side.capitalize(),
        "orderType": req.order_type.capitalize(),
        "price": num(req.price or 0.0), "qty": num(req.amount), "orderStatus": status,
        "avgPrice": num(order.average) if order.filled else "", "cumExecQty": num(order.filled),
        "cumExecValue": num(order.cost), "cumExecFee": num(order.fee),
        "leavesQty": num(order.remaining if order.status == "open" else 0.0),
        "timeInForce": tif, "reduceOnly": req.reduce_only, "positionIdx": 0,
        "createdTime": str(order.created_ms), "updatedTime": str(order.updated_ms),
        "triggerPrice": "", "stopOrderType": "", "category": "linear",
    }
