"""Child orders on venues, idempotently: record, send, and ask before re-sending.

``ChildExecutor.place`` writes the child (with its client order id) to the journal before the
request leaves. An answer that never came (timeout, reset, 5xx) is not a failure yet: the
executor asks the venue for that client id and adopts the order if it exists; only a venue
that confirms it has none frees the amount for re-routing - and after a timeout only once the
request can no longer arrive (``in_flight_window_secs``: venues drop requests older than their
receive window). Until then, or if the venue cannot even be asked, the child stays ``unknown``
and its amount is held - never sent elsewhere - until a later refresh resolves it (fail closed:
over-filling is worse than filling late).

Every increase of a child's fill is written to the fills log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ccxt

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from sor_exchange.errors import Outcome, classify
from sor_exchange.fills_log import Fill, FillsLog
from sor_exchange.health import VenueHealth
from sor_exchange.journal import ChildRecord, Journal, ParentRecord
from sor_exchange.venues import VenueOrderView

logger = logging.getLogger(__name__)


class ChildExecutor:
    def __init__(self, gateways: dict[str, Any], journal: Journal, health: VenueHealth,
                 fills: FillsLog, events: EventSink, clock: Callable[[], datetime],
                 in_flight_window_secs: float = 10.0):
        self.gateways, self.journal, self.health = gateways, journal, health
        self.fills, self.events, self.clock = fills, events, clock
        self.in_flight_window_ms = int(in_flight_window_secs * 1000)

    # --- sending ---------------------------------------------------------------------------

    def place(self, parent: ParentRecord, child: ChildRecord) -> Outcome | None:
        """Send ``child``; None when the venue holds it (whatever its fill), else the outcome."""
        child.sent_ms = int(self.clock().timestamp() * 1000)
        self.journal.save_child(child)  # the intent, with its client order id, comes first
        gateway = self.gateways[child.venue]
        try:
            gateway.prepare(child.symbol, parent.leverage)
            view = gateway.place(child.symbol, child.side, child.amount_base, child.price,
                                 child.order_type, child.time_in_force, child.client_order_id,
                                 child.reduce_only)
        except ccxt.BaseError as err:
            return self._failed(parent, child, err)
        self.apply(parent, child, view)
        return None

    def _failed(self, parent: ParentRecord, child: ChildRecord, err: Exception) -> Outcome | None:
        outcome = classify(err)
        child.error = f"{type(err).__name__}: {err}"[:300]
        if outcome is Outcome.UNKNOWN:
            return self.reconcile(parent, child, cause=child.error)
        child.state = "rejected"
        self.journal.save_child(child)
        if outcome in (Outcome.THROTTLED, Outcome.VENUE_ERROR):
            self.exclude(child.venue, f"{outcome}: {child.error}")
        parent.note(f"[{ReasonCode.ROUTE_REJECTED}] {child.venue} {child.amount_base:g}: "
                    f"{child.error}")
        return outcome

    def reconcile(self, parent: ParentRecord, child: ChildRecord, cause: str) -> Outcome | None:
        """Ask the venue for the child's client id; adopt, free, or hold its amount."""
        first_time = child.state != "unknown"
        child.state = "unknown"
        self.journal.save_child(child)
        try:
            view = self.gateways[child.venue].find(child.symbol, child.client_order_id)
        except ccxt.BaseError as err:
            self.exclude(child.venue, f"unknown outcome ({cause}); lookup failed: {err}")
            parent.note(f"[{ReasonCode.VENUE_ERROR}] {child.client_order_id} held: "
                        "outcome unknown, not re-sent")
            return Outcome.UNKNOWN
        if view is None and self._may_arrive(child):
            if first_time:
                self.exclude(child.venue, f"request timed out ({cause})")
            parent.note(f"[{ReasonCode.VENUE_ERROR}] {child.client_order_id} held: not on "
                        f"{child.venue} yet, but the request may still arrive")
            return Outcome.UNKNOWN
        if view is None:
            child.state = "lost"
            self.journal.save_child(child)
            self.exclude(child.venue, f"request failed ({cause}); venue has no such order")
            return Outcome.VENUE_ERROR
        self._event(Severity.INFO, ReasonCode.ORDER_RECONCILED,
                    f"{child.venue} holds {child.client_order_id} after: {cause}",
                    child.symbol)
        self.apply(parent, child, view)
        return None

    def _may_arrive(self, child: ChildRecord) -> bool:
        """A timed-out request can still reach the venue within its receive window."""
        timed_out = "RequestTimeout" in child.error
        now_ms = int(self.clock().timestamp() * 1000)
        return timed_out and now_ms < child.sent_ms + self.in_flight_window_ms

    # --- following -------------------------------------------------------------------------

    def refresh(self, parent: ParentRecord, child: ChildRecord) -> Outcome | None:
        """Bring a non-terminal child up to date; the outcome if it turned out not placed."""
        if child.state in ("unknown", "intent"):
            return self.reconcile(parent, child, cause="earlier outcome unknown")
        try:
            view = self.gateways[child.venue].fetch(child.symbol, child.venue_order_id)
        except ccxt.OrderNotFound:
            child.state = "lost"
            self.journal.save_child(child)
            return Outcome.VENUE_ERROR
        except ccxt.BaseError as err:
            logger.warning("%s: could not refresh %s: %s", child.venue, child.client_order_id, err)
            return None
        self.apply(parent, child, view)
        return None

    def cancel(self, parent: ParentRecord, child: ChildRecord) -> bool:
        """Cancel an open child; True if it is no longer working."""
        if child.state != "open":
            return child.terminal
        try:
            view = self.gateways[child.venue].cancel(child.symbol, child.venue_order_id)
        except ccxt.BaseError as err:
            self._event(Severity.WARNING, ReasonCode.VENUE_ERROR,
                        f"{child.venue}: cancel of {child.client_order_id} failed: {err}",
                        child.symbol)
            return False
        self.apply(parent, child, view)
        return child.terminal

    def apply(self, parent: ParentRecord, child: ChildRecord, view: VenueOrderView) -> None:
        child.venue_order_id = view.venue_order_id
        child.state = view.status if view.status in ("open", "closed", "canceled", "expired",
                                                     "rejected") else "open"
        child.filled_base = max(view.filled_base, child.filled_base)
        child.average = view.average if view.average else child.average
        if view.fee_quote is not None:
            child.fee_quote, child.fee_estimated = view.fee_quote, False
        else:
            terms = self.gateways[child.venue].terms(child.symbol)
            child.fee_quote, child.fee_estimated = child.cost_quote * terms.taker_fee_ratio, True
        self._log_fill(parent, child)
        self.journal.save_child(child)

    def _log_fill(self, parent: ParentRecord, child: ChildRecord) -> None:
        amount = round(child.filled_base - child.logged_base, 12)
        if amount <= 0:
            return
        cost = child.cost_quote - child.logged_cost
        self.fills.record(Fill(
            parent_order_id=parent.parent_id, strategy=parent.strategy, pair=parent.pair,
            side=parent.side, venue=child.venue, client_order_id=child.client_order_id,
            venue_order_id=child.venue_order_id, price=cost / amount, amount=amount,
            fee_quote=child.fee_quote - child.logged_fee, fee_estimated=child.fee_estimated,
            arrival_mid=parent.arrival_mid, dry_run=parent.dry_run), self.clock())
        child.logged_base, child.logged_cost = child.filled_base, child.cost_quote
        child.logged_fee = child.fee_quote

    # --- venue health ----------------------------------------------------------------------

    def exclude(self, venue: str, reason: str) -> None:
        until = self.health.exclude(venue, self.clock(), reason)
        self._event(Severity.WARNING, ReasonCode.VENUE_EXCLUDED,
                    f"{venue} excluded until {until:%H:%M:%S} UTC: {reason}"[:400])

    def _event(self, severity: Severity, code: ReasonCode, message: str,
               pair: str | None = None) -> None:
        self.events.emit(OperatorEvent(self.clock(), severity, code, message, pair))
