"""The local venue's HTTP server: a development and test tool, never a trading venue.

Serves one venue's REST protocol on 127.0.0.1 from the shared data - Binance (``binance.py``),
Bybit v5 (``bybit.py``) or OKX v5 (``okx.py``), picked by ``VenueSettings.protocol`` - so that
ccxt's own classes, pointed here by their ``urls``, drive ``freqtrade trade --dry-run`` and the
order router offline, replaying real candles as if live. ``running_venues`` starts several
venues at once, one port each. Tests inject faults through ``POST /_venue/faults`` and inspect
orders through ``GET /_venue/orders``; ``GET``/``POST /_venue/positions`` read and set the
account's holdings (a position the bot does not know, a fill the venue lost).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from dev_tools.venue.binance import BinanceProtocol
from dev_tools.venue.bybit import BybitProtocol
from dev_tools.venue.matching import VenueError
from dev_tools.venue.okx import OkxProtocol
from dev_tools.venue.state import FAULT_KEY, FaultRule, VenueSettings, VenueState

PROTOCOLS = {"binance": BinanceProtocol, "bybit": BybitProtocol, "okx": OkxProtocol}


logger = logging.getLogger(__name__)


def create_app(state: VenueState) -> web.Application:
    protocol = PROTOCOLS[state.settings.protocol](state)
    app = web.Application(middlewares=[_faults_and_errors(state, protocol)])
    for method, path, handler in protocol.routes():
        app.router.add_route(method, path, handler)
    app.router.add_post("/_venue/faults", _set_faults(state))
    app.router.add_get("/_venue/orders", _list_orders(state))
    app.router.add_get("/_venue/clock", _clock(state))
    app.router.add_get("/_venue/positions", _positions(state))
    app.router.add_post("/_venue/positions", _set_position(state))
    return app


def _faults_and_errors(state: VenueState, protocol):
    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        state.request_log.append((request.method, request.path))
        rule = None if request.path.startswith("/_venue") else \
            state.take_fault(request.method, request.path)
        if rule is not None and rule.action == "error_500":
            return protocol.error_response("internal", "Internal error.")
        if rule is not None and rule.action == "rate_limit":
            return protocol.error_response("rate_limit", "Too many requests.")
        if rule is not None and rule.action == "reject":
            return protocol.error_response(str(rule.value), f"Injected rejection: {rule.value}")
        if rule is not None and rule.action == "delay":
            await request.read()  # the request has arrived; the venue is slow to process it
            await asyncio.sleep(float(rule.value))
        request[FAULT_KEY] = rule
        kept = state.holdings() if rule is not None and rule.action == "lose_fill" else None
        try:
            response = await handler(request)
        except VenueError as err:
            return protocol.error_response(err.kind, str(err))
        finally:
            if kept is not None:  # the order filled and answered; the account never saw it
                state.restore_holdings(kept)
        if rule is not None and rule.action == "drop_after_accept":
            # The venue accepted and processed the request; the answer is lost on the way.
            request.transport.close()
            raise ConnectionResetError("venue fault: response dropped after accept")
        return response

    return middleware


def _set_faults(state: VenueState):
    async def handler(request: web.Request) -> web.Response:
        rules = await request.json()
        state.faults[:] = [FaultRule(**rule) for rule in rules]
        return web.json_response({"faults": [asdict(r) for r in state.faults]})
    return handler


def _list_orders(state: VenueState):
    async def handler(request: web.Request) -> web.Response:
        return web.json_response([
            {"order_id": o.order_id, "client_order_id": o.client_order_id,
             "symbol": o.request.symbol, "side": o.request.side, "amount": o.request.amount,
             "filled": o.filled, "status": o.status, "type": o.request.order_type,
             "price": o.request.price, "time_in_force": o.request.time_in_force,
             "average": o.average, "fee": o.fee}
            for o in state.engine.orders.values()
        ])
    return handler


def _positions(state: VenueState):
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(state.holdings_json())
    return handler


def _set_position(state: VenueState):
    """``{"symbol": "ETHUSDT", "amount": -0.5[, "entry_price": p]}`` sets a USD-M position
    (signed base; entry price default: the mid); ``{"asset": "BTC", "free": 0.1}`` a spot
    balance. Answers the holdings after the change."""
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            if "asset" in body:
                state.set_spot_free(str(body["asset"]), float(body["free"]))
            else:
                state.set_position(str(body["symbol"]), float(body["amount"]),
                                   body.get("entry_price"))
        except (KeyError, ValueError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(state.holdings_json())
    return handler


def _clock(state: VenueState):
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"data_now": state.data_now().isoformat(),
                                  "offset_hours": state.clock.offset.total_seconds() / 3600})
    return handler


@dataclass
class RunningVenue:
    url: str
    state: VenueState
    _stop: Any

    def stop(self) -> None:
        self._stop()


@contextmanager
def running_venues(settings: dict[str, VenueSettings], started: datetime | None = None
                   ) -> Iterator[dict[str, RunningVenue]]:
    """Several venues at once (name -> settings), each on its own free port."""
    venues: dict[str, RunningVenue] = {}
    try:
        for name, venue_settings in settings.items():
            venues[name] = start_in_thread(venue_settings, 0, started)
        yield venues
    finally:
        for venue in venues.values():
            venue.stop()


@contextmanager
def running_venue(settings: VenueSettings, port: int = 0, started: datetime | None = None
                  ) -> Iterator[RunningVenue]:
    """Run the venue on 127.0.0.1 in a background thread (port 0: any free port)."""
    venue = start_in_thread(settings, port, started)
    try:
        yield venue
    finally:
        venue.stop()


def start_in_thread(settings: VenueSettings, port: int = 0, started: datetime | None = None
                    ) -> RunningVenue:
    """``started``: the wall time the replay clock counts from (default: now)."""
    state = VenueState.create(settings, started)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(create_app(state), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, name=f"centaur-venue-{settings.protocol}", daemon=True)
    thread.start()
    if not ready.wait(timeout=30):
        raise RuntimeError("local venue did not start within 30 s")

    def stop() -> None:
        async def shutdown() -> None:
            await holder["runner"].cleanup()
        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    return RunningVenue(url=f"http://127.0.0.1:{holder['port']}", state=state, _stop=stop)


def serve_forever(settings: VenueSettings, port: int) -> None:
    """Run in the foreground (``python -m dev_tools.venue``); prints the URL once listening."""
    state = VenueState.create(settings)

    async def main() -> None:
        runner = web.AppRunner(create_app(state), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        bound = runner.addresses[0][1]
        print(f"centaur venue listening on http://127.0.0.1:{bound} "
              f"(replaying {state.data_now():%Y-%m-%d %H:%M} UTC)", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_many(settings: dict[str, VenueSettings], ports: dict[str, int]) -> None:
    """Several venues in the foreground, one port each (``python -m dev_tools.venue.multi``)."""

    async def main() -> None:
        runners = []
        for name, venue_settings in settings.items():
            state = VenueState.create(venue_settings)
            runner = web.AppRunner(create_app(state), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", ports[name]).start()
            runners.append(runner)
            print(f"centaur venue {name} ({venue_settings.protocol}) listening on "
                  f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())

