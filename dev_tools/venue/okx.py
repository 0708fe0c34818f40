"""OKX's v5 REST protocol (USDT-margined swaps), as ccxt's ``okx`` class speaks it.

Only what the order router uses: server time, instruments (the recorded SWAP list, served as
recorded), order book, currencies, balance, positions, leverage, and order create / query /
cancel. Shapes follow OKX's v5 documentation (https://www.okx.com/docs-v5/en/); sizes on the
wire are contracts (``ctVal`` base units each), converted at this boundary because the matching
engine works in base units. Failures answer ``code`` != "0" with the reason in ``data[].sCode``,
as OKX does. Signed requests are checked when the venue has an API key: base64
``HMAC_SHA256(secret, timestamp + method + path?query + body)`` plus the passphrase.
"""

from __future__ import annotations

import base64
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

# VenueError kind -> (OKX sCode, HTTP status) (OKX v5 "Error Code" page; ccxt okx's exceptions).
ERROR_CODES: dict[str, tuple[str, int]] = {
    "duplicate_client_id": ("51016", 200), "unknown_order": ("51603", 200),
    "cancel_unknown": ("51400", 200), "insufficient_margin": ("51008", 200),
    "min_notional": ("51020", 200), "bad_symbol": ("51001", 200), "bad_request": ("51000", 200),
    "auth": ("50113", 401), "rate_limit": ("50011", 429),
}
STATE = {"open": "live", "closed": "filled", "canceled": "canceled", "expired": "canceled",
         "rejected": "canceled"}
ORDER_TYPES = {"market": ("market", "GTC"), "limit": ("limit", "GTC"), "ioc": ("limit", "IOC"),
               "fok": ("limit", "FOK"), "post_only": ("limit", "GTX")}




class OkxProtocol:
    def __init__(self, state: VenueState):
        self.state = state

    def error_response(self, kind: str, message: str) -> web.Response:
        if kind == "internal":
            return web.Response(status=503, text="Service Unavailable")
        code, status = ERROR_CODES.get(kind, ("51000", 200))
        return web.json_response({"code": "1" if status == 200 else code, "msg": message,
                                  "data": [{"sCode": code, "sMsg": message, "ordId": "",
                                            "clOrdId": ""}]}, status=status)

    @staticmethod
    def _reply(data: list) -> web.Response:
        return web.json_response({"code": "0", "msg": "", "data": data})

    def routes(self) -> list[tuple[str, str, Handler]]:
        private = self._private
        return [
            ("GET", "/api/v5/public/time", self.server_time),
            ("GET", "/api/v5/public/instruments", self.instruments),
            ("GET", "/api/v5/market/books", self.books),
            ("GET", "/api/v5/asset/currencies", private(self.currencies)),
            ("GET", "/api/v5/account/balance", private(self.balance)),
            ("GET", "/api/v5/account/positions", private(self.positions)),
            ("POST", "/api/v5/account/set-leverage", private(self.set_leverage)),
            ("POST", "/api/v5/trade/order", private(self.create_order)),
            ("POST", "/api/v5/trade/batch-orders", private(self.create_order)),
            ("GET", "/api/v5/trade/order", private(self.get_order)),
            ("GET", "/api/v5/trade/orders-pending", private(self.pending)),
            ("GET", "/api/v5/trade/orders-history", private(self.history)),
            ("POST", "/api/v5/trade/cancel-order", private(self.cancel_order)),
        ]

    # --- plumbing --------------------------------------------------------------------------

    def _private(self, handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            body = await request.text() if request.method == "POST" else ""
            decoded = json.loads(body) if body else {}
            params = dict(request.query) | (decoded[0] if isinstance(decoded, list) else decoded)
            if not self._signed(request, body):
                return self.error_response("auth", "Invalid Sign")
            return await handler(request, params)
        return checked

    def _signed(self, request: web.Request, body: str) -> bool:
        settings = self.state.settings
        if settings.api_key is None:
            return True
        headers = request.headers
        if headers.get("OK-ACCESS-KEY") != settings.api_key or \
                headers.get("OK-ACCESS-PASSPHRASE") != (settings.api_password or ""):
            return False
        payload = headers.get("OK-ACCESS-TIMESTAMP", "") + request.method + request.raw_path + body
        expected = base64.b64encode(hmac.new((settings.api_secret or "").encode(),
                                             payload.encode(), hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, headers.get("OK-ACCESS-SIGN", ""))

    def _instrument(self, inst_id: str | None) -> Instrument:
        instrument = self.state.instrument(inst_id or "", True)
        if instrument is None:
            raise VenueError("bad_symbol", f"Instrument ID {inst_id} does not exist.")
        return instrument

    def _contract(self, inst_id: str) -> float:
        return self.state.catalogue.contract_size(True, inst_id)

    def _refresh(self, symbol: str) -> None:
        instrument = self.state.instrument(symbol, True)
        if instrument is not None:
            self.state.engine.refresh(symbol, self.state.book(instrument), self.state.now_ms())

    # --- public ----------------------------------------------------------------------------

    async def server_time(self, request: web.Request) -> web.Response:
        return self._reply([{"ts": str(self.state.now_ms())}])

    async def instruments(self, request: web.Request) -> web.Response:
        if request.query.get("instType") != "SWAP":
            return self._reply([])
        return web.Response(text=self.state.exchange_info["swap"], content_type="application/json")

    async def books(self, request: web.Request) -> web.Response:
        instrument = self._instrument(request.query.get("instId"))
        size = self._contract(instrument.symbol)
        bids, asks = self.state.book(instrument, int(request.query.get("sz", 1)))

        def levels(side):
            return [[num(lv.price), num(round(lv.amount / size, 8)), "0", "1"] for lv in side]

        return self._reply([{"asks": levels(asks), "bids": levels(bids),
                             "ts": str(self.state.now_ms())}])

    # --- account ---------------------------------------------------------------------------

    async def currencies(self, request: web.Request, params: dict) -> web.Response:
        return self._reply([{"ccy": "USDT", "name": "Tether", "chain": "USDT-TRC20",
                             "canDep": True, "canWd": True, "canInternal": True,
                             "minWd": "1", "minFee": "1", "maxFee": "1", "wdTickSz": "2"}])

    async def balance(self, request: web.Request, params: dict) -> web.Response:
        account = self.state.engine.account
        used = account.used_margin(self.state.marks())
        detail = {"ccy": "USDT", "eq": num(account.wallet), "cashBal": num(account.wallet),
                  "availBal": num(account.wallet - used), "availEq": num(account.wallet - used),
                  "frozenBal": num(used), "ordFrozen": "0", "upl": "0",
                  "uTime": str(self.state.now_ms())}
        return self._reply([{"totalEq": num(account.wallet), "uTime": detail["uTime"],
                             "details": [detail]}])

    async def positions(self, request: web.Request, params: dict) -> web.Response:
        account = self.state.engine.account
        return self._reply([
            {"instType": "SWAP", "instId": s, "pos": num(p.amount / self._contract(s)),
             "avgPx": num(p.entry_price), "mgnMode": "isolated", "posSide": "net",
             "lever": str(account.leverage.get(s, 1)), "uTime": str(self.state.now_ms())}
            for s, p in account.positions.items()
            if p.amount and params.get("instId") in (None, s)])

    async def set_leverage(self, request: web.Request, params: dict) -> web.Response:
        symbol = self._instrument(params.get("instId")).symbol
        self.state.engine.account.leverage[symbol] = int(float(params.get("lever", 1)))
        return self._reply([{"instId": symbol, "lever": params.get("lever"),
                             "mgnMode": params.get("mgnMode", "isolated"), "posSide": "net"}])

    # --- orders ----------------------------------------------------------------------------

    async def create_order(self, request: web.Request, params: dict) -> web.Response:
        instrument = self._instrument(params.get("instId"))
        order_type, time_in_force = ORDER_TYPES.get(params.get("ordType", ""), (None, None))
        if order_type is None:
            raise VenueError("bad_request", f"Parameter ordType error: {params.get('ordType')}")
        side = str(params.get("side", "")).lower()
        amount = float(params.get("sz", 0)) * self._contract(instrument.symbol)
        order = self.state.engine.submit(
            OrderRequest(symbol=instrument.symbol, side=side, order_type=order_type,
                         amount=amount, price=float(params["px"]) if params.get("px") else None,
                         time_in_force=time_in_force,
                         client_order_id=params.get("clOrdId") or None,
                         reduce_only=str(params.get("reduceOnly", "false")).lower() == "true"),
            self.state.book_for_order(instrument, side, amount, request.get(FAULT_KEY)),
            self.state.now_ms(), self.state.marks())
        return self._reply([{"ordId": str(order.order_id), "clOrdId": order.client_order_id,
                             "tag": params.get("tag", ""), "sCode": "0", "sMsg": ""}])

    def _find(self, params: dict) -> VenueOrder:
        symbol = self._instrument(params.get("instId")).symbol
        order_id = parse_order_id(params.get("ordId"))
        order = self.state.engine.find(symbol, order_id, params.get("clOrdId") or None)
        self._refresh(symbol)
        return order

    async def get_order(self, request: web.Request, params: dict) -> web.Response:
        return self._reply([self._order(self._find(params))])

    def _listed(self, params: dict, open_only: bool) -> web.Response:
        inst_id = params.get("instId")
        for symbol in {o.request.symbol for o in self.state.engine.orders.values()}:
            self._refresh(symbol)
        return self._reply([self._order(o) for o in self.state.engine.orders.values()
                            if inst_id in (None, o.request.symbol)
                            and (o.status == "open") == open_only])

    async def pending(self, request: web.Request, params: dict) -> web.Response:
        return self._listed(params, True)

    async def history(self, request: web.Request, params: dict) -> web.Response:
        return self._listed(params, False)

    async def cancel_order(self, request: web.Request, params: dict) -> web.Response:
        try:
            order = self._find(params)
            self.state.engine.cancel(order, self.state.now_ms())
        except VenueError as err:
            raise VenueError("cancel_unknown", "Cancellation failed as the order does not exist.") \
                from err
        return self._reply([{"ordId": str(order.order_id), "clOrdId": order.client_order_id,
                             "sCode": "0", "sMsg": ""}])

    def _order(self, order: VenueOrder) -> dict[str, Any]:
        req = order.request
        size = self._contract(req.symbol)
        state = STATE[order.status]
        if order.status == "open" and order.filled > 0:
            state = "partially_filled"
        ord_type = next(k for k, v in ORDER_TYPES.items()
                        if v == (req.order_type, req.time_in_force) or
                        (req.order_type == "market" and k == "market"))
        return {
            "instType": "SWAP", "instId": req.symbol, "ordId": str(order.order_id),
            "clOrdId": order.client_order_id, "px": num(req.price) if req.price else "",
            "sz": num(round(req.amount / size, 8)), "ordType": ord_type, "side": req.side,
            "posSide": "net", "tdMode": "isolated", "state": state,
            "accFillSz": num(round(order.filled / size, 8)),
            "avgPx": num(order.average) if order.filled else "",
            "fee": num(-order.fee), "feeCcy": "USDT", "lever": "1",
            "reduceOnly": "true" if req.reduce_only else "false", "tag": "",
            "cTime": str(order.created_ms), "uTime": str(order.updated_ms),
        }
