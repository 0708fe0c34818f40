"""The carry's spot hedge leg, idempotently: one market order per (trade, action), never two.

A short perpetual is hedged by a long spot position of the same base quantity on the same
venue: ``open`` buys the spot, ``close`` sells it. ``SpotHedge.execute`` follows the router's
rules (``execution``): the leg's client order id is a pure function of (trade, action); the
intent is written - with that id - before the order leaves, the result before ``execute``
returns (``hedge_records``: SQLite, survives restarts). An answer that never came (timeout,
reset, 5xx) or a duplicate-id rejection is resolved by asking the venue for that id; only a
venue that confirms it has none gets the order again, with the same id - after a timeout only
once the request can no longer arrive (``in_flight_window_secs``: Binance drops a request
older than its ``recvWindow``). Until then the leg is ``pending``: execute the same request
again later. Rejected and pending legs are operator events (``ROUTE_REJECTED``, critical: the
perp is unhedged; ``VENUE_ERROR``, warning).

Invariants: a leg recorded ``filled`` is returned without a request; a leg whose order the
venue finished (filled, partly filled, expired) is never sent again - only one the venue
refused (or never got) is; a close sells at most what its open leg holds (its fill less the
commission charged in the base, ``hedge_clients``), on the market's lot; a leg is ``filled``
once ``FILLED_RATIO`` of the amount sent has filled, else ``rejected`` (reason ``partial``,
``filled_base`` says what is held).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.state import StateStore
from sor_exchange.client_ids import client_order_id
from sor_exchange.errors import Outcome, classify
from sor_exchange.hedge_clients import (LiveSpotClient, PaperSpotClient, SpotOrderClient,
                                        SpotOrderView, spot_venue)
from sor_exchange.hedge_records import (SIDES, HedgeLegStore, HedgeRequest, HedgeResult,
                                        LegRecord)

__all__ = ["HedgeRequest", "HedgeResult", "SpotHedge", "spot_hedge_from_config"]

FILLED_RATIO = 0.999
# How a duplicate client order id reads, per venue (Binance "Error codes": spot -2010
# "Duplicate order sent.", USDT-M -4116 "ClientOrderId is duplicated.").
DUPLICATE_ID_TEXTS: dict[str, tuple[str, ...]] = {
    "binance": ("Duplicate order sent.", "ClientOrderId is duplicated."),
}


def hedge_client_order_id(request: HedgeRequest, venue: str = "binance") -> str:
    return client_order_id(venue, request.parent_id, 0)


def is_duplicate_id(error: Exception, venue: str) -> bool:
    texts = DUPLICATE_ID_TEXTS.get(venue, ())
    return isinstance(error, ccxt.InvalidOrder) and any(t in str(error) for t in texts)


class SpotHedge:
    """Places/tracks the spot hedge legs; idempotent per (trade_id, action)."""

    def __init__(self, client: SpotOrderClient, store: HedgeLegStore, *,
                 events: EventSink | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 in_flight_window_secs: float = 10.0, venue: str = "binance"):
        self.client, self.store, self.events, self.clock = client, store, events, clock
        self.in_flight_window_ms = int(in_flight_window_secs * 1000)
        self.venue = venue
        self._lock = threading.Lock()

    def execute(self, request: HedgeRequest) -> HedgeResult:
        with self._lock:
            record = self.store.get(request.trade_id, request.action)
            if record is not None and record.final and record.result is not None:
                return record.result
            if record is not None and record.maybe_sent:
                return self._resolve(request, record.client_order_id, record.amount_base,
                                     record.sent_ms, "earlier outcome unknown", resends=1,
                                     may_arrive=True)
            return self._send(request, hedge_client_order_id(request, self.venue), resends=1)

    def legs(self, trade_id: int) -> dict[str, HedgeResult]:
        return {action: record.result for action in SIDES
                if (record := self.store.get(trade_id, action)) and record.result is not None}

    def unresolved(self) -> list[tuple[int, str]]:
        """(trade id, action) of legs whose order may be on the venue without a known
        outcome (written as an intent, or pending): ask again before anything else."""
        return sorted({(int(key.split(":")[0]), key.split(":")[1])
                       for key, record in self.store.items() if record.maybe_sent})

    def open_hedges(self) -> list[HedgeResult]:
        """Open legs that bought anything (filled, or partly: ``done`` tells) whose close leg
        is not filled: the spot the carry still holds."""
        results = [r.result for r in self.store.all() if r.result is not None]
        closed = {r.request.trade_id for r in results if r.request.action == "close" and r.done}
        return sorted((r for r in results if r.request.action == "open" and r.filled_base > 0
                       and r.request.trade_id not in closed), key=lambda r: r.request.trade_id)

    # --- one leg ---------------------------------------------------------------------------

    def _amount(self, request: HedgeRequest) -> float:
        """The amount to send: a close sells no more than its open leg holds; on the lot."""
        amount = request.base_amount
        opened = self.store.get(request.trade_id, "open")
        if request.action == "close" and opened and opened.result and opened.result.filled_base:
            amount = min(amount, opened.result.held_base)
        return self.client.lot_amount(request.spot_symbol, amount)

    def _send(self, request: HedgeRequest, cid: str, resends: int,
              amount: float | None = None) -> HedgeResult:
        try:
            amount = self._amount(request) if amount is None else amount
        except ccxt.BaseError as err:  # markets or lot: nothing was sent
            status = "pending" if classify(err) in (Outcome.UNKNOWN, Outcome.THROTTLED) \
                else "rejected"
            return self._conclude(request, cid, 0.0, self._now_ms(), status,
                                  self.client.error_text(err), unsent=True)
        sent_ms = self._now_ms()  # the in-flight window runs from the request itself
        self.store.put(request, LegRecord("intent", cid, amount, sent_ms, None))
        try:
            view = self.client.place_market(request.spot_symbol, request.side, amount, cid)
        except ccxt.BaseError as err:
            return self._failed(request, cid, amount, sent_ms, err, resends)
        return self._from_view(request, amount, sent_ms, view)

    def _failed(self, request: HedgeRequest, cid: str, amount: float, sent_ms: int,
                err: ccxt.BaseError, resends: int) -> HedgeResult:
        reason = self.client.error_text(err)
        if is_duplicate_id(err, self.venue):  # the venue holds this id already: adopt it
            return self._resolve(request, cid, amount, sent_ms, reason, resends=0,
                                 may_arrive=False)
        outcome = classify(err)
        if not getattr(self.client, "sends_orders", True):  # paper: nothing left, nothing lost
            return self._conclude(request, cid, amount, sent_ms, "rejected", reason, unsent=True)
        if outcome is Outcome.UNKNOWN:  # a timeout, a reset, a 5xx: it may still arrive
            return self._resolve(request, cid, amount, sent_ms, reason, resends,
                                 may_arrive=True)
        status = "pending" if outcome is Outcome.THROTTLED else "rejected"  # throttled: not sent
        return self._conclude(request, cid, amount, sent_ms, status, reason, unsent=True)

    def _resolve(self, request: HedgeRequest, cid: str, amount: float, sent_ms: int,
                 cause: str, resends: int, may_arrive: bool) -> HedgeResult:
        """Ask the venue for ``cid``: adopt the order, send it again, or leave it pending."""
        try:
            view = self.client.find(request.spot_symbol, cid)
        except ccxt.BaseError as err:
            return self._conclude(request, cid, amount, sent_ms, "pending",
                                  f"{cause}; lookup by client id failed: "
                                  f"{self.client.error_text(err)}")
        if view is not None:
            self._event(Severity.INFO, ReasonCode.ORDER_RECONCILED,
                        f"{cid} found on the venue after: {cause}", request)
            return self._from_view(request, amount, sent_ms, view)
        in_flight = may_arrive and self._now_ms() < sent_ms + self.in_flight_window_ms
        if resends <= 0 or in_flight:
            return self._conclude(request, cid, amount, sent_ms, "pending",
                                  f"{cause}; not on the venue (yet): execute again later")
        return self._send(request, cid, resends - 1, amount)

    def _from_view(self, request: HedgeRequest, amount: float, sent_ms: int,
                   view: SpotOrderView) -> HedgeResult:
        if view.status == "open":
            status, reason = "pending", "order still open on the venue"
        elif view.filled_base >= amount * FILLED_RATIO:
            status, reason = "filled", ""
        else:
            status = "rejected"
            reason = "partial" if view.filled_base > 0 else f"order {view.status}, nothing filled"
        return self._conclude(request, view.client_order_id or hedge_client_order_id(
            request, self.venue), amount, sent_ms, status, reason, view)

    def _conclude(self, request: HedgeRequest, cid: str, amount: float, sent_ms: int,
                  status: str, reason: str, view: SpotOrderView | None = None, *,
                  unsent: bool = False) -> HedgeResult:
        """Record and report the result; ``unsent``: the venue certainly has no order."""
        result = HedgeResult(request, cid, status, view.filled_base if view else 0.0,
                             view.average_price if view else 0.0,
                             view.fee_quote if view else 0.0, reason,
                             view.fee_base if view else 0.0)
        self.store.put(request, LegRecord("unsent" if unsent else status, cid, amount, sent_ms,
                                          result))
        what = f"spot hedge {request.action} of trade {request.trade_id}"
        if status == "rejected":
            self._event(Severity.CRITICAL, ReasonCode.ROUTE_REJECTED,
                        f"{what} rejected: {reason}", request)
        elif status == "pending":
            self._event(Severity.WARNING, ReasonCode.VENUE_ERROR, f"{what} pending: {reason}",
                        request)
        return result

    def _event(self, severity: Severity, code: ReasonCode, message: str,
               request: HedgeRequest) -> None:
        if self.events is not None:
            self.events.emit(OperatorEvent(self.clock(), severity, code, message[:400],
                                           request.spot_symbol, {"trade_id": request.trade_id,
                                                                 "action": request.action}))

    def _now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)


def legs_file_name(config: dict[str, Any]) -> str:
    """One legs file per trade database (dry-run and live never share one): the legs are
    keyed by trade id, which only that database gives meaning to."""
    database = str(config.get("db_url") or "default")
    return f"hedge-legs-{hashlib.sha256(database.encode()).hexdigest()[:10]}.sqlite"


def spot_hedge_from_config(config: dict[str, Any], state_dir: Path, *,
                           events: EventSink | None = None, book_depth: int = 100,
                           exchange_config: dict[str, Any] | None = None) -> SpotHedge:
    """The hedge for freqtrade's ``config``: paper fills on the venue's real spot book in
    dry-run (nothing sent), orders sent in live; legs kept in ``state_dir/<legs_file_name>``.
    ``exchange_config``: the exchange block with its credentials (a running bot has removed
    them from ``config["exchange"]``; default: that block)."""
    live = not config["dry_run"]
    venue = spot_venue(exchange_config or config["exchange"], live=live)
    client: SpotOrderClient = LiveSpotClient(venue) if live else PaperSpotClient(
        lambda symbol: venue.book(symbol, book_depth), venue.terms)
    state_dir.mkdir(parents=True, exist_ok=True)
    store = HedgeLegStore(StateStore(str(state_dir / legs_file_name(config))))
    return SpotHedge(client, store, events=events, venue=venue.ccxt_id)
