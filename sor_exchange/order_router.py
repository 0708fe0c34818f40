"""The router's shell: one parent order routed over venues, followed until it is done.

``create`` reads the venues' books, decides sweep-or-slice (``slicing``) and limit-or-take,
and routes; ``step`` (run on every ``fetch``) follows the children, converts a limit-first
entry to taking children after its timeout, sends due slices and re-routes what failed.
Routing is ``router.plan_route`` over the venues not cooling down; children go out through
``ChildExecutor`` (idempotent). Caps: a venue's exposure cap minus what it holds, its free
balance times leverage (live), and for a reduce-only exit the position the venue holds.
Time comes from the injected ``clock``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ccxt

from centaur.decision import ReasonCode
from centaur.settings.exchange import RouterSettings
from sor_exchange.book import VenueBook, VenueTerms, arrival_mid, lots_down
from sor_exchange.client_ids import client_order_id
from sor_exchange.composite import aggregate
from sor_exchange.errors import Outcome
from sor_exchange.execution import ChildExecutor
from sor_exchange.journal import ChildRecord, Journal, ParentRecord
from sor_exchange.router import ChildPlan, plan_route, resting_children
from sor_exchange.slicing import SliceBounds, choose_slicing
from sor_exchange.walk import merge


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class OrderIntent:
    """What freqtrade asked for."""

    pair: str
    side: str
    amount_base: float
    rate: float
    order_type: str
    reduce_only: bool
    leverage: float


class OrderRouter:
    def __init__(self, settings: RouterSettings, primary: str, gateways: dict[str, Any],
                 journal: Journal, executor: ChildExecutor, clock: Callable[[], datetime],
                 new_id: Callable[[], str], *, dry_run: bool, strategy: str,
                 volatility: Callable[[str], float | None] = lambda pair: None):
        self.settings, self.primary, self.gateways = settings, primary, gateways
        self.journal, self.executor, self.clock, self.new_id = journal, executor, clock, new_id
        self.dry_run, self.strategy, self.volatility = dry_run, strategy, volatility

    # --- freqtrade's calls -----------------------------------------------------------------

    def create(self, intent: OrderIntent) -> dict[str, Any]:
        now = self.clock()
        books = self._books(intent.pair, now)
        if not books:
            raise ccxt.ExchangeNotAvailable("order router: no venue answered with a book")
        parent = ParentRecord(
            parent_id=self.new_id(), pair=intent.pair, side=intent.side,
            amount_base=intent.amount_base, order_type=intent.order_type, rate=intent.rate,
            reduce_only=intent.reduce_only, leverage=intent.leverage, created_ms=_ms(now),
            arrival_mid=arrival_mid(books), dry_run=self.dry_run, strategy=self.strategy)
        self._choose_mode(parent, books, now)
        self.journal.save_parent(parent)
        self._route(parent, now, books)
        self.journal.save_parent(parent)
        order = self.order(parent)
        children = self.journal.children_of(parent)
        if not children or all(c.state in ("rejected", "lost") for c in children):
            parent.canceled, parent.pending_base, parent.slices_left = True, 0.0, 0
            self.journal.save_parent(parent)
            raise _refusal(parent, children)
        return order

    def step(self, parent_id: str) -> dict[str, Any]:
        parent = self.journal.parents[parent_id]
        now = self.clock()
        self._follow(parent)
        self._limit_timeout(parent, now)
        self._slice_due(parent, now)
        if parent.pending_base > 1e-12 and not parent.canceled:
            self._route(parent, now, None)
        self.journal.save_parent(parent)
        return self.order(parent)

    def cancel(self, parent_id: str) -> dict[str, Any]:
        parent = self.journal.parents[parent_id]
        parent.canceled, parent.pending_base, parent.slices_left = True, 0.0, 0
        self._follow(parent)
        for child in self.journal.children_of(parent):
            self.executor.cancel(parent, child)
        self.journal.save_parent(parent)
        return self.order(parent)

    def cancel_all(self, symbols: list[str]) -> list[dict[str, Any]]:
        """Kill switch: stop every parent, cancel every open order on every venue."""
        cancelled = []
        for parent in list(self.journal.parents.values()):
            children = self.journal.children_of(parent)
            working = parent.pending_base > 1e-12 or parent.slices_left > 0 or \
                any(not c.terminal for c in children)
            if not working:
                continue
            parent.canceled, parent.pending_base, parent.slices_left = True, 0.0, 0
            for child in children:
                if child.state == "open" and self.executor.cancel(parent, child):
                    cancelled.append(_cancelled(child.venue, child.symbol, child.venue_order_id,
                                                child.client_order_id, parent.parent_id))
            self.journal.save_parent(parent)
        known = {(c["venue"], c["venue_order_id"]) for c in cancelled}
        pairs = sorted(set(symbols) | {c.symbol for c in self.journal.children.values()})
        for name, gateway in sorted(self.gateways.items()):
            cancelled += self._cancel_venue(name, gateway, pairs, known)
        return cancelled

    def order(self, parent: ParentRecord) -> dict[str, Any]:
        quote = self.gateways[self.primary].market(parent.pair)["quote"]
        return aggregate(parent, self.journal.children_of(parent), quote)

    # --- decisions -------------------------------------------------------------------------

    def _choose_mode(self, parent: ParentRecord, books: dict[str, VenueBook], now: datetime
                     ) -> None:
        settings = self.settings
        entry = not parent.reduce_only
        if settings.limit_first and entry:
            parent.mode = "limit"
            deadline = now + timedelta(seconds=settings.limit_first_timeout_secs)
            parent.limit_deadline_ms = _ms(deadline)
            parent.note(f"limit first at {parent.rate:g}, taking after "
                        f"{settings.limit_first_timeout_secs:g} s")
        elif parent.order_type == "limit":
            parent.mode = "limit"
        parent.pending_base = parent.amount_base
        if parent.mode == "taking" and settings.slicing.enabled:
            self._slice(parent, books, now)

    def _slice(self, parent: ParentRecord, books: dict[str, VenueBook], now: datetime) -> None:
        slicing = self.settings.slicing
        terms = {name: self.gateways[name].terms(parent.pair) for name in books}  # depth only:
        merged = merge(books, terms, parent.side)  # slicing cannot help against balance caps
        vol = self.volatility(parent.pair) or slicing.volatility_bps_per_sqrt_sec
        bounds = SliceBounds(slicing.max_slices, slicing.interval_secs, slicing.max_slice_usd,
                             slicing.risk_aversion, vol)
        decision = choose_slicing(lambda q: merged.cost_bps(q, parent.arrival_mid, parent.side),
                                  parent.amount_base, parent.arrival_mid, bounds)
        parent.note(decision.reason)
        if decision.sliced:
            lot = max((t.lot_base for t in terms.values()), default=0.0)
            parent.slice_base = lots_down(decision.slice_base, lot) or decision.slice_base
            parent.pending_base = parent.slice_base
            parent.slices_left = decision.slices - 1
            parent.slice_interval_secs = decision.interval_secs
            parent.next_slice_ms = _ms(now + timedelta(seconds=decision.interval_secs))

    def _limit_timeout(self, parent: ParentRecord, now: datetime) -> None:
        if parent.mode != "limit" or parent.limit_deadline_ms is None or parent.canceled \
                or _ms(now) < parent.limit_deadline_ms:
            return
        for child in self.journal.children_of(parent):
            if child.state == "open" and self.executor.cancel(parent, child):
                parent.pending_base += max(child.amount_base - child.filled_base, 0.0)
        parent.mode, parent.limit_deadline_ms = "taking", None
        parent.note(f"limit-first timeout: taking the remaining {parent.pending_base:g}")

    def _slice_due(self, parent: ParentRecord, now: datetime) -> None:
        if parent.slices_left <= 0 or parent.canceled or _ms(now) < (parent.next_slice_ms or 0):
            return
        if any(not c.terminal for c in self.journal.children_of(parent)):
            return
        parent.slices_left -= 1
        children = self.journal.children_of(parent)
        committed = parent.pending_base + sum(
            c.filled_base if c.terminal else c.amount_base for c in children)
        rest = parent.amount_base - committed
        parent.pending_base += rest if parent.slices_left == 0 else min(parent.slice_base, rest)
        parent.next_slice_ms = _ms(now + timedelta(seconds=parent.slice_interval_secs))

    # --- routing ---------------------------------------------------------------------------

    def _route(self, parent: ParentRecord, now: datetime, books: dict[str, VenueBook] | None
               ) -> None:
        barred: set[str] = set()
        for _round in range(self.settings.max_reroute_rounds):
            if parent.pending_base <= 1e-12:
                return
            books = {v: b for v, b in (books or self._books(parent.pair, now)).items()
                     if v not in barred and self.executor.health.available(v, now)}
            plans = self._plan(parent, books)
            if not plans:
                self._nothing_fits(parent, now)
                return
            for child_plan in plans:
                barred |= self._send(parent, child_plan)
            books = None

    def _nothing_fits(self, parent: ParentRecord, now: datetime) -> None:
        """No venue can take the rest: retry later if venues are cooling down, else the
        parent ends with what it has (caps, balances or depth leave no room)."""
        cooling = self.executor.health.excluded(now)
        if cooling:
            parent.note(f"[{ReasonCode.VENUE_EXCLUDED}] {parent.pending_base:g} waits for "
                        f"{', '.join(sorted(cooling))}")
            return
        parent.note(f"[{ReasonCode.ROUTE_REJECTED}] no venue can take {parent.pending_base:g}:"
                    " caps, balances or visible depth exhausted")
        parent.pending_base, parent.slices_left = 0.0, 0

    def _plan(self, parent: ParentRecord, books: dict[str, VenueBook]) -> tuple[ChildPlan, ...]:
        if not books:
            return ()
        terms = self._terms(parent, books)
        limit = parent.rate if parent.mode == "limit" else None
        plan = plan_route(parent.side, parent.pending_base, books, terms, limit_price=limit,
                          mid=parent.arrival_mid)
        if parent.mode != "limit" or plan.residual_base <= 1e-12:
            return plan.children
        rest = resting_children(parent.side, plan.residual_base, parent.rate, terms,
                                plan.venues())
        return plan.children + rest

    def _send(self, parent: ParentRecord, plan: ChildPlan) -> set[str]:
        gateway = self.gateways[plan.venue]
        taking = parent.mode == "taking"
        band = self.settings.price_band_bps / 1e4 * (1 if parent.side == "buy" else -1)
        child = ChildRecord(
            client_order_id=client_order_id(gateway.ccxt_id, parent.parent_id, parent.legs),
            parent_id=parent.parent_id, leg=parent.legs, venue=plan.venue, symbol=parent.pair,
            side=parent.side, amount_base=plan.amount_base,
            price=plan.limit_price * (1 + band) if taking else parent.rate,
            order_type="limit", time_in_force="IOC" if taking else "GTC",
            reduce_only=parent.reduce_only)
        parent.legs += 1
        parent.child_ids.append(child.client_order_id)
        parent.pending_base = max(round(parent.pending_base - plan.amount_base, 12), 0.0)
        outcome = self.executor.place(parent, child)
        if outcome is Outcome.UNKNOWN:
            return set()  # held: not re-routed while its fate is unknown
        if outcome is not None:
            parent.pending_base += plan.amount_base
            return {plan.venue}
        if taking and child.terminal:
            parent.pending_base += max(child.amount_base - child.filled_base, 0.0)
        return set()

    def _follow(self, parent: ParentRecord) -> None:
        for child in self.journal.children_of(parent):
            if child.terminal:
                continue
            outcome = self.executor.refresh(parent, child)
            if outcome is not None and outcome is not Outcome.UNKNOWN and not parent.canceled:
                # the venue confirms it no longer has it: what it had not filled is re-routed
                parent.pending_base += max(child.amount_base - child.filled_base, 0.0)

    # --- venue data ------------------------------------------------------------------------

    def _books(self, pair: str, now: datetime) -> dict[str, VenueBook]:
        books = {}
        for name, gateway in sorted(self.gateways.items()):
            if not self.executor.health.available(name, now):
                continue
            try:
                book = gateway.book(pair, self.settings.book_depth)
            except ccxt.BaseError as err:
                self.executor.exclude(name, f"order book failed: {type(err).__name__}: {err}")
                continue
            if len(book.bids) and len(book.asks):
                books[name] = book
        return books

    def _terms(self, parent: ParentRecord, books: dict[str, VenueBook]) -> dict[str, VenueTerms]:
        held = self._closable(parent) if parent.reduce_only else {}
        out = {}
        for name in books:
            max_base = held.get(name, 0.0) if parent.reduce_only else math.inf
            out[name] = self.gateways[name].terms(
                parent.pair, max_base=max_base,
                max_notional_quote=math.inf if parent.reduce_only else
                self._notional_room(name, parent))
        return out

    def _closable(self, parent: ParentRecord) -> dict[str, float]:
        """What each venue can reduce: its recorded position; the primary also takes what no
        record covers (positions opened before the router)."""
        sign = -1 if parent.side == "sell" else 1  # a sell closes a long (positive position)
        held = {v: max(-sign * p, 0.0) for v, p in self.journal.net_position(parent.pair).items()}
        uncovered = max(parent.amount_base - sum(held.values()), 0.0)
        held[self.primary] = held.get(self.primary, 0.0) + uncovered
        return held

    def _notional_room(self, venue: str, parent: ParentRecord) -> float:
        venue_settings = self.settings.venues.get(venue)
        room = math.inf
        if venue_settings and venue_settings.max_exposure_usd:
            used = self.journal.exposure_quote(venue, {parent.pair: parent.arrival_mid})
            room = max(venue_settings.max_exposure_usd - used, 0.0)
        if not self.dry_run:
            room = min(room, self._margin_room(venue, parent))
        return room

    def _margin_room(self, venue: str, parent: ParentRecord) -> float:
        gateway = self.gateways[venue]
        quote = gateway.market(parent.pair)["quote"]
        try:
            free = gateway.free_quote(quote)
        except ccxt.BaseError as err:
            self.executor.exclude(venue, f"balance failed: {err}")
            return 0.0
        taker = gateway.terms(parent.pair).taker_fee_ratio
        return free * parent.leverage / (1 + max(taker, 0.0))

    def _cancel_venue(self, name: str, gateway: Any, pairs: list[str],
                      known: set[tuple[str, str | None]]) -> list[dict[str, Any]]:
        out = []
        for pair in pairs:
            try:
                for view in gateway.open_orders(pair):
                    if (name, view.venue_order_id) not in known:
                        gateway.cancel(pair, view.venue_order_id)
                        out.append(_cancelled(name, pair, view.venue_order_id,
                                              view.client_order_id, None))
            except ccxt.BaseError as err:
                self.executor.exclude(name, f"kill switch: cancel on {pair} failed: {err}")
        return out


def _cancelled(venue: str, symbol: str, venue_order_id: str | None, client_order_id: str | None,
               parent_id: str | None) -> dict[str, Any]:
    return {"venue": venue, "symbol": symbol, "venue_order_id": venue_order_id,
            "client_order_id": client_order_id, "parent_order_id": parent_id}


def _refusal(parent: ParentRecord, children: list[ChildRecord]) -> ccxt.BaseError:
    """The error freqtrade should see when no venue took any part of the order."""
    errors = " | ".join(c.error for c in children if c.error) or "; ".join(parent.decisions)
    text = f"order router placed nothing for {parent.amount_base:g} {parent.pair}: {errors}"
    if any(c.error.startswith("InsufficientFunds") for c in children):
        return ccxt.InsufficientFunds(text)
    if children and all(c.error.startswith(("InvalidOrder", "BadSymbol")) for c in children):
        return ccxt.InvalidOrder(text)
    return ccxt.ExchangeNotAvailable(text)
