"""Binance's REST protocol (spot ``/api/v3`` and USDT-M ``/fapi``), as ccxt's ``binance`` speaks it.

Only what freqtrade and the suite use: market metadata (the recorded exchangeInfo), klines,
mark-price klines, funding history and premium index, depth, tickers, server time, the
USDT-M order and account endpoints, and the spot order, trade and account endpoints (the
spot account is ``spot_account.SpotEngine``, separate from the USDT-M one). Shapes follow
Binance's API documentation (https://developers.binance.com/docs/derivatives/usds-margined-futures,
https://developers.binance.com/docs/binance-spot-api-docs/rest-api); numbers are strings where
Binance sends strings. ``GET /_venue/spot/orders`` lists the spot orders for tests (as
``/_venue/orders`` lists the USDT-M ones).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pandas as pd
from aiohttp import web

from dev_tools.venue.matching import OrderRequest, VenueError, VenueOrder
from dev_tools.venue.replay import Instrument, as_float_strings, from_ms, timeframe_delta, to_ms
from dev_tools.venue.spot_account import SpotEngine, SpotTrade
from dev_tools.venue.state import FAULT_KEY, VenueState
from dev_tools.venue.wire import num

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# VenueError kind -> (Binance error code, HTTP status). Codes: Binance "Error Codes" page.
ERROR_CODES: dict[str, tuple[int, int]] = {
    "duplicate_client_id": (-4116, 400),
    "unknown_order": (-2013, 400),
    "cancel_unknown": (-2011, 400),
    "insufficient_margin": (-2019, 400),
    "min_notional": (-4164, 400),
    "bad_symbol": (-1121, 400),
    "bad_request": (-1102, 400),
    "auth": (-2015, 401),
    "rate_limit": (-1003, 429),
    "internal": (-1001, 500),
    # spot (Binance spot "Error codes": NEW_ORDER_REJECTED carries the reason in its msg)
    "duplicate_order": (-2010, 400),
    "insufficient_balance": (-2010, 400),
    "filter_failure": (-1013, 400),
}

# A spot order's answer with ``newOrderRespType=ACK`` (Binance spot "New order").
ACK_FIELDS = ("symbol", "orderId", "orderListId", "clientOrderId", "transactTime")

STATUS = {"open": "NEW", "closed": "FILLED", "canceled": "CANCELED", "expired": "EXPIRED",
          "rejected": "REJECTED"}


def error_response(kind: str, message: str) -> web.Response:
    code, http = ERROR_CODES.get(kind, (-1000, 400))
    return web.json_response({"code": code, "msg": message}, status=http)


class BinanceProtocol:
    def __init__(self, state: VenueState):
        self.state = state

    @staticmethod
    def error_response(kind: str, message: str) -> web.Response:
        return error_response(kind, message)

    def routes(self) -> list[tuple[str, str, Handler]]:
        out: list[tuple[str, str, Handler]] = []
        for prefix, futures in (("/api/v3", False), ("/fapi/v1", True)):
            out += [
                ("GET", f"{prefix}/ping", self.ping),
                ("GET", f"{prefix}/time", self.time),
                ("GET", f"{prefix}/exchangeInfo", self._bind(self.exchange_info, futures)),
                ("GET", f"{prefix}/klines", self._bind(self.klines, futures)),
                ("GET", f"{prefix}/depth", self._bind(self.depth, futures)),
                ("GET", f"{prefix}/ticker/bookTicker", self._bind(self.book_ticker, futures)),
                ("GET", f"{prefix}/ticker/24hr", self._bind(self.ticker_24hr, futures)),
                ("GET", f"{prefix}/ticker/price", self._bind(self.ticker_price, futures)),
            ]
        out += [
            ("GET", "/fapi/v1/markPriceKlines", self.mark_klines),
            ("GET", "/fapi/v1/premiumIndex", self.premium_index),
            ("GET", "/fapi/v1/fundingRate", self.funding_rate),
            ("GET", "/fapi/v1/fundingInfo", self.funding_info),
            ("POST", "/fapi/v1/order", self._private(self.create_order)),
            ("GET", "/fapi/v1/order", self._private(self.get_order)),
            ("DELETE", "/fapi/v1/order", self._private(self.cancel_order)),
            ("GET", "/fapi/v1/openOrders", self._private(self.open_orders)),
            ("GET", "/fapi/v1/allOrders", self._private(self.all_orders)),
            ("DELETE", "/fapi/v1/allOpenOrders", self._private(self.cancel_all)),
            ("POST", "/fapi/v1/leverage", self._private(self.set_leverage)),
            ("POST", "/fapi/v1/marginType", self._private(self.margin_type)),
            ("GET", "/fapi/v1/positionSide/dual", self._private(self.position_mode)),
            ("GET", "/fapi/v1/multiAssetsMargin", self._private(self.multi_assets_mode)),
            ("GET", "/fapi/v1/leverageBracket", self._private(self.leverage_brackets)),
            ("GET", "/sapi/v1/capital/config/getall", self._private(self.currencies)),
            ("GET", "/sapi/v1/margin/allPairs", self._private(self.currencies)),
            ("GET", "/sapi/v1/margin/isolated/allPairs", self._private(self.currencies)),
        ]
        out += [
            ("POST", "/api/v3/order", self._private(self.spot_create_order)),
            ("GET", "/api/v3/order", self._private(self.spot_get_order)),
            ("DELETE", "/api/v3/order", self._private(self.spot_cancel_order)),
            ("GET", "/api/v3/openOrders", self._private(self.spot_open_orders)),
            ("GET", "/api/v3/allOrders", self._private(self.spot_all_orders)),
            ("GET", "/api/v3/myTrades", self._private(self.spot_my_trades)),
            ("GET", "/fapi/v1/userTrades", self._private(self.user_trades)),
            ("GET", "/fapi/v1/income", self._private(self.income)),
            ("GET", "/api/v3/account", self._private(self.spot_account)),
            ("GET", "/_venue/spot/orders", self.venue_spot_orders),
        ]
        for version in ("v2", "v3"):
            out += [
                ("GET", f"/fapi/{version}/account", self._private(self.account)),
                ("GET", f"/fapi/{version}/balance", self._private(self.balance)),
                ("GET", f"/fapi/{version}/positionRisk", self._private(self.position_risk)),
            ]
        return out

    # --- plumbing --------------------------------------------------------------------------

    @staticmethod
    def _bind(handler, futures: bool) -> Handler:
        async def bound(request: web.Request) -> web.StreamResponse:
            return await handler(request, futures)
        return bound

    def _private(self, handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            params = await _params(request)
            denial = self._authenticate(request, params)
            if denial is not None:
                return denial
            return await handler(request, params)
        return checked

    def _authenticate(self, request: web.Request, params: dict[str, str]) -> web.Response | None:
        settings = self.state.settings
        if settings.api_key is None:
            return None
        if request.headers.get("X-MBX-APIKEY") != settings.api_key:
            return error_response("auth", "Invalid API-key, IP, or permissions for action.")
        payload = request.query_string if request.method in ("GET", "DELETE") else \
            params.get("__raw_body__", "")
        signed, _, signature = payload.rpartition("&signature=")
        expected = hmac.new((settings.api_secret or "").encode(), signed.encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return error_response("auth", "Signature for this request is not valid.")
        return None

    def _instrument(self, symbol: str | None, futures: bool) -> Instrument:
        instrument = self.state.instrument(symbol or "", futures)
        if instrument is None:
            raise VenueError("bad_symbol", "Invalid symbol.")
        return instrument

    # --- public ----------------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.state.now_ms()})

    async def exchange_info(self, request: web.Request, futures: bool) -> web.Response:
        info = dict(self.state.exchange_info["futures" if futures else "spot"])
        info["serverTime"] = self.state.now_ms()
        return web.json_response(info)

    async def klines(self, request: web.Request, futures: bool, kind: str = "") -> web.Response:
        query = request.query
        instrument = self._instrument(query.get("symbol") or query.get("pair"), futures)
        timeframe = query.get("interval", "")
        try:
            step = timeframe_delta(timeframe)
        except KeyError:
            raise VenueError("bad_request", "Invalid interval.") from None
        clock = self.state.clock
        data_now = self.state.data_now()
        start = from_ms(query.get("startTime"))
        end = from_ms(query.get("endTime"))
        end_data = min(clock.to_data(end), data_now) if end else data_now
        limit = min(int(query.get("limit", 500)), 1500 if futures else 1000)
        rows = self.state.store.window(
            instrument, timeframe, kind=kind, start=clock.to_data(start) if start else None,
            end=end_data, limit=limit)
        return web.json_response(_klines(rows, clock.offset, step))

    async def mark_klines(self, request: web.Request) -> web.Response:
        return await self.klines(request, True, kind="mark")

    async def depth(self, request: web.Request, futures: bool) -> web.Response:
        instrument = self._instrument(request.query.get("symbol"), futures)
        limit = int(request.query.get("limit", 100))
        bids, asks = self.state.book(instrument, limit)
        now = self.state.now_ms()
        return web.json_response({
            "lastUpdateId": now, "E": now, "T": now,
            "bids": [[num(level.price), num(level.amount)] for level in bids],
            "asks": [[num(level.price), num(level.amount)] for level in asks],
        })

    async def book_ticker(self, request: web.Request, futures: bool) -> web.Response:
        symbols = self._symbols(request, futures)
        tickers = []
        for instrument in symbols:
            bids, asks = self.state.book(instrument, 1)
            if not bids or not asks:
                continue
            tickers.append({"symbol": instrument.symbol, "bidPrice": num(bids[0].price),
                            "bidQty": num(bids[0].amount), "askPrice": num(asks[0].price),
                            "askQty": num(asks[0].amount), "time": self.state.now_ms()})
        return web.json_response(tickers[0] if "symbol" in request.query and tickers else tickers)

    async def ticker_24hr(self, request: web.Request, futures: bool) -> web.Response:
        out = []
        data_now = self.state.data_now()
        for instrument in self._symbols(request, futures):
            day = self.state.store.window(instrument, "1h", start=data_now - timedelta(hours=24),
                                          end=data_now, limit=25)
            if day.empty:
                continue
            first, last = float(day["open"].iloc[0]), float(day["close"].iloc[-1])
            out.append({
                "symbol": instrument.symbol, "priceChange": num(last - first),
                "priceChangePercent": num(round((last / first - 1) * 100, 3)),
                "lastPrice": num(last), "openPrice": num(first),
                "highPrice": num(float(day["high"].max())), "lowPrice": num(float(day["low"].min())),
                "volume": num(float(day["volume"].sum())),
                "quoteVolume": num(float((day["volume"] * day["close"]).sum())),
                "openTime": self.state.now_ms() - 86_400_000, "closeTime": self.state.now_ms(),
            })
        return web.json_response(out[0] if "symbol" in request.query and out else out)

    async def ticker_price(self, request: web.Request, futures: bool) -> web.Response:
        out = [{"symbol": i.symbol, "price": num(mid), "time": self.state.now_ms()}
               for i in self._symbols(request, futures) if (mid := self.state.mid(i)) is not None]
        return web.json_response(out[0] if "symbol" in request.query and out else out)

    async def premium_index(self, request: web.Request) -> web.Response:
        out = []
        data_now = self.state.data_now()
        for instrument in self._symbols(request, True):
            mid = self.state.mid(instrument)
            if mid is None:
                continue
            funding = self.state.store.window(instrument, "1h", kind="funding_rate", start=None,
                                              end=data_now, limit=1)
            rate = float(funding["open"].iloc[-1]) if len(funding) else 0.0
            next_funding = self.state.clock.to_wall(_next_settlement(data_now))
            out.append({"symbol": instrument.symbol, "markPrice": num(mid),
                        "indexPrice": num(mid), "estimatedSettlePrice": num(mid),
                        "lastFundingRate": num(rate), "interestRate": "0.00010000",
                        "nextFundingTime": to_ms(next_funding), "time": self.state.now_ms()})
        return web.json_response(out[0] if "symbol" in request.query and out else out)

    async def funding_rate(self, request: web.Request) -> web.Response:
        query = request.query
        instrument = self._instrument(query.get("symbol"), True)
        clock = self.state.clock
        start = from_ms(query.get("startTime"))
        end = from_ms(query.get("endTime"))
        data_now = self.state.data_now()
        rows = self.state.store.window(
            instrument, "1h", kind="funding_rate",
            start=clock.to_data(start) if start else None,
            end=min(clock.to_data(end), data_now) if end else data_now,
            limit=min(int(query.get("limit", 100)), 1000))
        marks = self.state.store.frame(instrument, "1h", "mark").set_index("date")["open"]
        return web.json_response([
            {"symbol": instrument.symbol, "fundingTime": to_ms(clock.to_wall(row.date)),
             "fundingRate": num(float(row.open)),
             "markPrice": num(float(marks.get(row.date, float("nan"))))}
            for row in rows.itertuples()
        ])

    async def funding_info(self, request: web.Request) -> web.Response:
        return web.json_response([])

    def _symbols(self, request: web.Request, futures: bool) -> list[Instrument]:
        if "symbol" in request.query:
            return [self._instrument(request.query["symbol"], futures)]
        return [i for i in (self.state.futures if futures else self.state.spot).values()
                if not self.state.store.frame(i, "1h").empty]

    # --- private (USDT-M) ------------------------------------------------------------------

    async def create_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        instrument = self._instrument(params.get("symbol"), True)
        order_type = params.get("type", "").lower()
        if order_type not in ("market", "limit"):
            raise VenueError("bad_request", f"Order type {params.get('type')} is not supported.")
        side, amount = params.get("side", "").lower(), float(params["quantity"])
        order = self.state.engine.submit(
            OrderRequest(
                symbol=instrument.symbol,
                side=side,
                order_type=order_type,
                amount=amount,
                price=float(params["price"]) if "price" in params else None,
                time_in_force=params.get("timeInForce", "GTC"),
                client_order_id=params.get("newClientOrderId"),
                reduce_only=params.get("reduceOnly", "false").lower() == "true",
            ),
            self.state.book_for_order(instrument, side, amount, request.get(FAULT_KEY)),
            self.state.now_ms(),
            self.state.marks(),
        )
        return web.json_response(_order(order))

    def _find(self, params: dict[str, str]) -> VenueOrder:
        symbol = self._instrument(params.get("symbol"), True).symbol
        order_id = int(params["orderId"]) if "orderId" in params else None
        return self.state.engine.find(symbol, order_id, params.get("origClientOrderId"))

    async def get_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        order = self._find(params)
        self._refresh(order.request.symbol)
        return web.json_response(_order(order))

    async def cancel_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        try:
            order = self._find(params)
            self._refresh(order.request.symbol)
            return web.json_response(_order(self.state.engine.cancel(order, self.state.now_ms())))
        except VenueError as err:
            raise VenueError("cancel_unknown", "Unknown order sent.") from err

    async def open_orders(self, request: web.Request, params: dict[str, str]) -> web.Response:
        symbol = params.get("symbol")
        if symbol:
            self._refresh(symbol)
        return web.json_response([_order(o) for o in self.state.engine.open_orders(symbol)])

    async def all_orders(self, request: web.Request, params: dict[str, str]) -> web.Response:
        symbol = self._instrument(params.get("symbol"), True).symbol
        self._refresh(symbol)
        return web.json_response([_order(o) for o in self.state.engine.orders.values()
                                  if o.request.symbol == symbol])

    async def cancel_all(self, request: web.Request, params: dict[str, str]) -> web.Response:
        symbol = self._instrument(params.get("symbol"), True).symbol
        for order in self.state.engine.open_orders(symbol):
            self.state.engine.cancel(order, self.state.now_ms())
        return web.json_response({"code": 200, "msg": "The operation of cancel all open order is done."})

    async def set_leverage(self, request: web.Request, params: dict[str, str]) -> web.Response:
        symbol = self._instrument(params.get("symbol"), True).symbol
        leverage = int(params.get("leverage", 1))
        self.state.engine.account.leverage[symbol] = leverage
        return web.json_response({"symbol": symbol, "leverage": leverage,
                                  "maxNotionalValue": "1000000"})

    async def margin_type(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response({"code": 200, "msg": "success"})

    async def currencies(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response([])

    async def leverage_brackets(self, request: web.Request, params: dict[str, str]
                                ) -> web.Response:
        """One bracket per symbol: up to 20x on any notional (a stated simplification)."""
        return web.json_response([
            {"symbol": symbol, "brackets": [{"bracket": 1, "initialLeverage": 20,
                                             "notionalCap": 1_000_000_000, "notionalFloor": 0,
                                             "maintMarginRatio": 0.004, "cum": 0.0}]}
            for symbol in self.state.futures])

    async def multi_assets_mode(self, request: web.Request, params: dict[str, str]
                                ) -> web.Response:
        return web.json_response({"multiAssetsMargin": False})

    async def position_mode(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response({"dualSidePosition": False})

    async def account(self, request: web.Request, params: dict[str, str]) -> web.Response:
        account = self.state.engine.account
        marks = self.state.marks()
        used = account.used_margin(marks)
        unrealized = sum(p.amount * (marks.get(s, p.entry_price) - p.entry_price)
                         for s, p in account.positions.items())
        asset = {"asset": "USDT", "walletBalance": num(account.wallet),
                 "unrealizedProfit": num(unrealized), "marginBalance": num(account.wallet + unrealized),
                 "availableBalance": num(account.wallet - used), "initialMargin": num(used),
                 "maintMargin": "0", "crossWalletBalance": num(account.wallet),
                 "maxWithdrawAmount": num(account.wallet - used), "updateTime": self.state.now_ms()}
        return web.json_response({
            "totalWalletBalance": asset["walletBalance"], "availableBalance": asset["availableBalance"],
            "totalUnrealizedProfit": asset["unrealizedProfit"], "assets": [asset],
            "positions": await self._positions(),
        })

    async def balance(self, request: web.Request, params: dict[str, str]) -> web.Response:
        account = self.state.engine.account
        available = account.wallet - account.used_margin(self.state.marks())
        return web.json_response([{"accountAlias": "centaur", "asset": "USDT",
                                   "balance": num(account.wallet),
                                   "availableBalance": num(available),
                                   "crossWalletBalance": num(account.wallet),
                                   "updateTime": self.state.now_ms()}])

    async def position_risk(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response(await self._positions(params.get("symbol")))

    async def _positions(self, symbol: str | None = None) -> list[dict[str, Any]]:
        account = self.state.engine.account
        marks = self.state.marks()
        out = []
        for sym, position in account.positions.items():
            if symbol and sym != symbol or position.amount == 0:
                continue
            mark = marks.get(sym, position.entry_price)
            out.append({"symbol": sym, "positionAmt": num(position.amount),
                        "entryPrice": num(position.entry_price), "markPrice": num(mark),
                        "unRealizedProfit": num(position.amount * (mark - position.entry_price)),
                        "liquidationPrice": "0", "leverage": str(account.leverage.get(sym, 1)),
                        "marginType": "isolated", "positionSide": "BOTH",
                        "notional": num(position.amount * mark), "updateTime": self.state.now_ms()})
        return out

    def _refresh(self, symbol: str, futures: bool = True) -> None:
        instrument = self.state.instrument(symbol, futures)
        engine = self.state.engine if futures else self.state.spot_engine
        if instrument is not None and engine is not None:
            engine.refresh(symbol, self.state.book(instrument), self.state.now_ms())

    # --- private (spot) --------------------------------------------------------------------

    @property
    def _spot(self) -> SpotEngine:
        if self.state.spot_engine is None:
            raise VenueError("bad_request", "This venue has no spot account.")
        return self.state.spot_engine

    async def spot_create_order(self, request: web.Request, params: dict[str, str]
                                ) -> web.Response:
        instrument = self._instrument(params.get("symbol"), False)
        order_type = params.get("type", "").lower()
        if order_type not in ("market", "limit") or "quantity" not in params:
            raise VenueError("bad_request", "Only MARKET and LIMIT orders by quantity are "
                                            "supported.")
        side, amount = params.get("side", "").lower(), float(params["quantity"])
        order = self._spot.submit(
            OrderRequest(symbol=instrument.symbol, side=side, order_type=order_type,
                         amount=amount, price=float(params["price"]) if "price" in params else None,
                         time_in_force=params.get("timeInForce", "GTC"),
                         client_order_id=params.get("newClientOrderId")),
            self.state.book_for_order(instrument, side, amount, request.get(FAULT_KEY)),
            self.state.now_ms())
        full = _spot_order(order, self._spot.trades_of(order.request.symbol, order.order_id))
        answer = params.get("newOrderRespType", "FULL")  # ACK, RESULT (no fills) or FULL
        if answer == "ACK":
            return web.json_response({k: full[k] for k in ACK_FIELDS})
        if answer == "RESULT":
            full.pop("fills")
        return web.json_response(full)

    def _spot_find(self, params: dict[str, str]) -> VenueOrder:
        symbol = self._instrument(params.get("symbol"), False).symbol
        order_id = int(params["orderId"]) if "orderId" in params else None
        order = self._spot.find(symbol, order_id, params.get("origClientOrderId"))
        self._refresh(symbol, futures=False)
        return order

    async def spot_get_order(self, request: web.Request, params: dict[str, str]) -> web.Response:
        return web.json_response(_spot_order(self._spot_find(params)))

    async def spot_cancel_order(self, request: web.Request, params: dict[str, str]
                                ) -> web.Response:
        try:
            order = self._spot.cancel(self._spot_find(params), self.state.now_ms())
        except VenueError as err:
            raise VenueError("cancel_unknown", "Unknown order sent.") from err
        return web.json_response({**_spot_order(order), "origClientOrderId": order.client_order_id})

    async def spot_open_orders(self, request: web.Request, params: dict[str, str]
                               ) -> web.Response:
        symbol = params.get("symbol")
        if symbol:
            self._refresh(self._instrument(symbol, False).symbol, futures=False)
        return web.json_response([_spot_order(o) for o in self._spot.open_orders(symbol)])

    async def spot_all_orders(self, request: web.Request, params: dict[str, str]
                              ) -> web.Response:
        symbol = self._instrument(params.get("symbol"), False).symbol
        self._refresh(symbol, futures=False)
        return web.json_response([_spot_order(o) for o in self._spot.orders.values()
                                  if o.request.symbol == symbol])

    async def income(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """USDT-M "Income History": the venue settles no funding (positions here live for
        minutes), so there is none to report."""
        return web.json_response([])

    async def user_trades(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """USDT-M "Account Trade List": one trade per filled order here (the engine keeps
        orders' totals, not each level's fill), in Binance's shape."""
        symbol = self._instrument(params.get("symbol"), True).symbol
        order_id = int(params["orderId"]) if "orderId" in params else None
        start_ms = int(params.get("startTime", 0))
        return web.json_response([
            {"symbol": o.request.symbol, "id": o.order_id, "orderId": o.order_id,
             "side": o.request.side.upper(), "price": num(o.average), "qty": num(o.filled),
             "realizedPnl": "0", "marginAsset": "USDT", "quoteQty": num(o.cost),
             "commission": num(o.fee), "commissionAsset": "USDT", "time": o.updated_ms,
             "positionSide": "BOTH", "buyer": o.request.side == "buy", "maker": False}
            for o in self.state.engine.orders.values()
            if o.request.symbol == symbol and o.filled > 0 and o.updated_ms >= start_ms
            and order_id in (None, o.order_id)])

    async def spot_my_trades(self, request: web.Request, params: dict[str, str]) -> web.Response:
        symbol = self._instrument(params.get("symbol"), False).symbol
        order_id = int(params["orderId"]) if "orderId" in params else None
        sides = {o.order_id: o.request.side for o in self._spot.orders.values()}
        return web.json_response([
            {**_spot_fill(t), "symbol": t.symbol, "id": t.trade_id, "orderId": t.order_id,
             "orderListId": -1, "quoteQty": num(t.price * t.amount), "time": t.time_ms,
             "isBuyer": sides[t.order_id] == "buy", "isMaker": t.maker, "isBestMatch": True}
            for t in self._spot.trades_of(symbol, order_id)])

    async def spot_account(self, request: web.Request, params: dict[str, str]) -> web.Response:
        spot = self._spot
        rates = {"maker": f"{spot.maker_fee:.8f}", "taker": f"{spot.taker_fee:.8f}",
                 "buyer": "0.00000000", "seller": "0.00000000"}
        return web.json_response({
            "makerCommission": round(spot.maker_fee * 1e4), "takerCommission":
            round(spot.taker_fee * 1e4), "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": rates, "canTrade": True, "canWithdraw": True, "canDeposit": True,
            "brokered": False, "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": self.state.now_ms(), "accountType": "SPOT", "permissions": ["SPOT"],
            "balances": [{"asset": asset, "free": f"{spot.account.free.get(asset, 0.0):.8f}",
                          "locked": f"{spot.account.locked.get(asset, 0.0):.8f}"}
                         for asset in spot.account.assets()],
        })

    async def venue_spot_orders(self, request: web.Request) -> web.Response:
        """The spot orders, for tests (the shape of ``/_venue/orders``, plus ``market``)."""
        return web.json_response([
            {"order_id": o.order_id, "client_order_id": o.client_order_id,
             "symbol": o.request.symbol, "side": o.request.side, "amount": o.request.amount,
             "filled": o.filled, "status": o.status, "type": o.request.order_type,
             "price": o.request.price, "time_in_force": o.request.time_in_force,
             "average": o.average, "fee": o.fee, "market": "spot"}
            for o in self._spot.orders.values()])


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        raw = await request.text()
        params.update({k: v for k, v in (pair.split("=", 1) for pair in raw.split("&") if "=" in pair)})
        params["__raw_body__"] = raw
    return params


def _klines(rows: pd.DataFrame, offset: timedelta, step: timedelta) -> list[list[Any]]:
    if rows.empty:
        return []
    opened = [to_ms(d + offset) for d in rows["date"]]
    step_ms = int(step.total_seconds() * 1000)
    cols = {c: as_float_strings(rows[c].to_numpy(dtype="float64"))
            for c in ("open", "high", "low", "close", "volume")}
    quote = as_float_strings((rows["volume"] * rows["close"]).to_numpy(dtype="float64"))
    return [[t, cols["open"][i], cols["high"][i], cols["low"][i], cols["close"][i],
             cols["volume"][i], t + step_ms - 1, quote[i], 0, "0", "0", "0"]
            for i, t in enumerate(opened)]


def _next_settlement(data_now):
    hour = (data_now.hour // 8 + 1) * 8
    base = data_now.replace(hour=0, minute=0, second=0, microsecond=0)
    return base + timedelta(hours=hour)



def _status(order: VenueOrder) -> str:
    if order.status == "open" and order.filled > 0:
        return "PARTIALLY_FILLED"
    return STATUS[order.status]


def _spot_fill(trade: SpotTrade) -> dict[str, Any]:
    return {"price": num(trade.price), "qty": num(trade.amount),
            "commission": num(trade.commission), "commissionAsset": trade.commission_asset,
            "tradeId": trade.trade_id}


def _spot_order(order: VenueOrder, trades: list[SpotTrade] | None = None) -> dict[str, Any]:
    """Binance spot's order: ``fills`` only in a new order's FULL answer (``trades`` given)."""
    req = order.request
    out = {
        "symbol": req.symbol, "orderId": order.order_id, "orderListId": -1,
        "clientOrderId": order.client_order_id, "price": num(req.price or 0.0),
        "origQty": num(req.amount), "executedQty": num(order.filled),
        "cummulativeQuoteQty": num(order.cost), "status": _status(order),
        "timeInForce": req.time_in_force, "type": req.order_type.upper(),
        "side": req.side.upper(), "workingTime": order.created_ms,
        "selfTradePreventionMode": "NONE",
    }
    if trades is None:
        return {**out, "stopPrice": "0", "icebergQty": "0", "time": order.created_ms,
                "updateTime": order.updated_ms, "isWorking": order.status == "open",
                "origQuoteOrderQty": "0"}
    return {**out, "transactTime": order.updated_ms, "fills": [_spot_fill(t) for t in trades]}


def _order(order: VenueOrder) -> dict[str, Any]:
    req = order.request
    return {
        "orderId": order.order_id, "symbol": req.symbol, "status": _status(order),
        "clientOrderId": order.client_order_id, "price": num(req.price or 0.0),
        "avgPrice": num(order.average), "origQty": num(req.amount),
        "executedQty": num(order.filled), "cumQty": num(order.filled),
        "cumQuote": num(order.cost), "timeInForce": req.time_in_force,
        "type": req.order_type.upper(), "origType": req.order_type.upper(),
        "reduceOnly": req.reduce_only, "closePosition": False, "side": req.side.upper(),
        "positionSide": "BOTH", "stopPrice": "0", "workingType": "CONTRACT_PRICE",
        "priceProtect": False, "time": order.created_ms, "updateTime": order.updated_ms,
    }
