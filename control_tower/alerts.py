"""Tiered alerts: every operator event of every layer, routed by severity to Telegram and a
Slack-compatible webhook, de-duplicated, rate-limited per channel, and never lost.

``centaur.alerts`` (``AlertsSettings``): ``telegram`` / ``slack`` each with ``enabled``,
``min_severity`` (info / warning / critical) and ``max_per_minute``; ``slack.webhook_url_env``
names the environment variable holding the webhook URL; ``dedup_secs``,
``retry_base_secs`` / ``retry_max_secs`` (backoff), ``request_timeout_secs``;
``slippage_alert_bps`` (HIGH_SLIPPAGE) and ``veto_alert_min_confidence``
(VETO_HIGH_CONVICTION). The rules themselves are in ``alerts_policy``, the outbox in
``alerts_outbox``, the channels in ``alert_channels``.

The part subscribes ``AlertRouter.accept`` to the event sink, so each event becomes outbox
entries (state store) at once, in the thread that emitted it; then it takes the events this
process stored before (start-up halts such as ``STATE_LOST``) from the store (those few may also
have gone out once as freqtrade's plain Telegram text). Subscribing first loses no event that
another thread emits meanwhile; an event both heard and stored is accepted once (whichever path
brings it first: events are told apart by time, severity, code, pair and text).

Delivery runs on a worker thread of the part, not in ``on_loop``: an HTTP call to a slow or
dead channel (up to ``request_timeout_secs`` per try) never delays the bot loop, and an alert
emitted outside it (the operator's REST kill switch, a stopped bot) still goes out within a
second. The worker wakes when an alert is added and every ``POLL_SECS`` for retries and
rate-limit summaries. ``stop`` joins it and makes a last try in the caller only when the worker
has ended: a worker still in a slow send keeps its alerts (the outbox) and nothing is sent
twice. A failed delivery stays in the outbox and is retried with backoff; its
first failure is logged as an ``ALERT_UNDELIVERED`` event, which never becomes an alert itself.
With the Telegram channel on, freqtrade's own forwarding of event text is turned off (no double
messages).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from centaur.decision import ReasonCode
from centaur.events import KEEP_EVENTS, EventSink, OperatorEvent, Severity
from centaur.settings import CentaurConfigError
from centaur.settings.tower import AlertsSettings
from control_tower.alert_channels import AlertChannel, DeliveryError, build_channels
from control_tower.alerts_outbox import Outbox, OutboxEntry
from control_tower.alerts_policy import (
    RATE_WINDOW_SECS,
    ChannelRoute,
    Deduplicator,
    RateLimiter,
    backoff_secs,
    rank,
    summary_text,
)
from control_tower.alerts_slippage import FillsLogReader, high_slippage, order_fill
from control_tower.part import BasePart, TowerHost

logger = logging.getLogger(__name__)

POLL_SECS = 1.0
JOIN_MARGIN_SECS = 5.0  # stop waits for the worker 2 x request_timeout_secs + this
_ICON = {Severity.INFO: "🔵", Severity.WARNING: "🟠", Severity.CRITICAL: "🔴"}


def alert_text(event: OperatorEvent, bot_name: str) -> str:
    """``🔴 [CRITICAL] [KILL_SWITCH] BTC/USDT:USDT: message (bot, 2025-06-10 12:00:00 UTC)``."""
    return (f"{_ICON[event.severity]} {event.text()} "
            f"({bot_name}, {event.time:%Y-%m-%d %H:%M:%S} UTC)")


class AlertRouter:
    """Events in, outbox entries out, deliveries booked: ``alerts_policy`` over the ``Outbox``.
    Thread-safe; every method takes ``now``."""

    def __init__(self, settings: AlertsSettings, routes: Sequence[ChannelRoute],
                 outbox: Outbox, bot_name: str):
        self.settings, self.routes, self.outbox = settings, tuple(routes), outbox
        self.bot_name = bot_name
        self._lock = threading.Lock()
        self._dedup = Deduplicator(settings.dedup_secs)
        self.limiters = {r.channel: RateLimiter(r.max_per_minute, RATE_WINDOW_SECS)
                         for r in self.routes}
        self.counts: dict[str, Counter[str]] = {r.channel: Counter() for r in self.routes}
        self.duplicates = 0

    def accept(self, event: OperatorEvent, now: datetime) -> list[OutboxEntry]:
        """The outbox entries an event makes (none: not an alert, a duplicate, rate-limited)."""
        alert = rank(event, self.settings.veto_alert_min_confidence)
        if alert is None:
            return []
        with self._lock:
            added = self._close_windows(now)
            self._dedup.clear(alert.code)
            if not self._dedup.fresh(alert, now):
                self.duplicates += 1
                return added
            text = alert_text(alert, self.bot_name)
            for route in self.routes:
                if route.takes(alert.severity) and self.limiters[route.channel].admit(
                        alert.severity, str(alert.code), now):
                    added.append(self.outbox.add(route.channel, str(alert.severity),
                                                 str(alert.code), alert.pair, text, now))
        return added

    def close_windows(self, now: datetime) -> list[OutboxEntry]:
        with self._lock:
            return self._close_windows(now)

    def _close_windows(self, now: datetime) -> list[OutboxEntry]:
        """A summary line for each channel whose rate window closed with alerts held back."""
        added = []
        for channel, limiter in self.limiters.items():
            suppressed = limiter.close_due(now)
            if suppressed:
                summary = OperatorEvent(now, Severity.INFO, ReasonCode.ALERTS_SUPPRESSED,
                                        summary_text(channel, suppressed,
                                                     RATE_WINDOW_SECS))
                added.append(self.outbox.add(channel, str(summary.severity), str(summary.code),
                                             None, alert_text(summary, self.bot_name), now))
        return added

    def drain(self, channels: Mapping[str, AlertChannel], now: datetime) -> list[OutboxEntry]:
        """Deliver what is due on each channel, in order, until its first failure; returns the
        entries that failed now (kept, with their next try)."""
        self.close_windows(now)
        failed = []
        for name, channel in channels.items():
            for entry in self.outbox.due(name, now):
                try:
                    channel.send(entry.text)
                except Exception as err:  # noqa: BLE001 - kept and retried, never lost
                    failed.append(self._failed(entry, err, now))
                    break
                self.outbox.delivered(entry)
                self.counts[name]["sent"] += 1
        return failed

    def _failed(self, entry: OutboxEntry, err: Exception, now: datetime) -> OutboxEntry:
        retry_after = err.retry_after_secs if isinstance(err, DeliveryError) else None
        wait_secs = max(backoff_secs(entry.attempts + 1, self.settings.retry_base_secs,
                                     self.settings.retry_max_secs), retry_after or 0.0)
        error = str(err) if isinstance(err, DeliveryError) else type(err).__name__
        self.counts[entry.channel]["failed"] += 1
        return self.outbox.failed(entry, error, wait_secs, now)

    def status(self, now: datetime) -> dict[str, Any]:
        channels = {}
        for route in self.routes:
            pending = self.outbox.pending(route.channel)
            held = [e.next_attempt_at for e in pending if e.next_attempt_at > now]
            channels[route.channel] = {
                "min_severity": str(route.min_severity),
                "max_per_minute": route.max_per_minute,
                "sent": self.counts[route.channel]["sent"],
                "failed_attempts": self.counts[route.channel]["failed"],
                "rate_limited": self.limiters[route.channel].suppressed_total,
                "pending": len(pending),
                "on_hold_until": max(held).isoformat() if held else None,
            }
        return {"channels": channels, "duplicates_dropped": self.duplicates,
                "dedup_secs": self.settings.dedup_secs,
                "rate_window_secs": RATE_WINDOW_SECS}


class AlertsPart(BasePart):
    """The router on the event sink, its delivery worker, and the HIGH_SLIPPAGE producer."""

    name = "alerts"

    def __init__(self, router: AlertRouter, channels: Sequence[AlertChannel],
                 events: EventSink, clock: Callable[[], datetime],
                 fills: FillsLogReader | None = None, primary_venue: str = ""):
        self.router, self.channels = router, {c.name: c for c in channels}
        self._events, self._clock = events, clock
        self._fills, self._primary_venue = fills, primary_venue
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self.join_secs = 2 * router.settings.request_timeout_secs + JOIN_MARGIN_SECS
        self._seen: OrderedDict[tuple[Any, ...], None] = OrderedDict()
        self._seen_lock = threading.Lock()
        self.undelivered_events = 0  # ALERT_UNDELIVERED events emitted (first failures)

    # --- alerts in --------------------------------------------------------------------------

    def on_event(self, event: OperatorEvent) -> None:
        if self._first_time(event) and self.router.accept(event, self._clock()):
            self._wake.set()

    def _first_time(self, event: OperatorEvent) -> bool:
        """False for an event already taken (heard live and read back from the store)."""
        identity = (event.time, str(event.severity), str(event.code), event.pair,
                    event.message)
        with self._seen_lock:
            if identity in self._seen:
                return False
            self._seen[identity] = None
            while len(self._seen) > 2 * KEEP_EVENTS:
                self._seen.popitem(last=False)
        return True

    def catch_up(self, records: Sequence[Mapping[str, Any]], since: datetime) -> None:
        """The stored events of this process (start-up: ``STATE_LOST``, a restored halt...);
        called after subscribing, so those heard live already are skipped."""
        for record in records:
            event = _stored_event(record)
            if event is not None and event.time >= since:
                self.on_event(event)

    def on_fill(self, trade: Any, order: Any, now: datetime) -> None:
        threshold = self.router.settings.slippage_alert_bps
        rows = self._fills.fills(order.order_id) if self._fills and order.order_id else []
        for venue in high_slippage(rows or order_fill(order, self._primary_venue), threshold):
            self._events.emit(OperatorEvent(
                now, Severity.WARNING, ReasonCode.HIGH_SLIPPAGE,
                f"{venue.venue}: order {order.order_id} filled {venue.slippage_bps:.1f} bps "
                f"worse than its arrival price (alert above {threshold:g} bps, "
                f"{venue.notional_quote:.2f} notional)", pair=trade.pair,
                data={"venue": venue.venue, "slippage_bps": round(venue.slippage_bps, 2)}))

    # --- alerts out -------------------------------------------------------------------------

    def drain(self, now: datetime) -> None:
        for entry in self.router.drain(self.channels, now):
            message = (f"{entry.channel} did not take alert {entry.code} (try {entry.attempts}: "
                       f"{entry.last_error}); kept, next try {entry.next_attempt_at:%H:%M:%S} UTC")
            if entry.attempts == 1:
                self.undelivered_events += 1
                self._events.emit(OperatorEvent(now, Severity.WARNING,
                                                ReasonCode.ALERT_UNDELIVERED, message,
                                                entry.pair, {"channel": entry.channel}))
            else:
                logger.warning("[%s] %s", ReasonCode.ALERT_UNDELIVERED, message)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="centaur-alerts", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.drain(self._clock())
            except Exception:  # noqa: BLE001 - the worker must outlive one bad drain
                logger.exception("[%s] alert delivery failed", ReasonCode.ALERT_UNDELIVERED)
            self._wake.wait(POLL_SECS)
            self._wake.clear()

    def stop(self) -> None:
        """Join the worker, then a last try in the caller - only once the worker has ended (a
        worker still sending would send the same alerts again); what is left stays in the
        outbox for the next start, and a later ``stop`` finishes the job."""
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout=self.join_secs)
            if self._thread.is_alive():
                logger.warning("[%s] the alert worker is still sending after %.0f s; what it "
                               "has not sent stays in the outbox", ReasonCode.ALERT_UNDELIVERED,
                               self.join_secs)
                return
            self._thread = None
            self.drain(self._clock())  # a last try; what fails stays for the next start
        if self._fills is not None:
            self._fills.close()
            self._fills = None

    def status(self, now: datetime) -> dict[str, Any]:
        return {**self.router.status(now), "undelivered_events": self.undelivered_events,
                "worker_alive": bool(self._thread and self._thread.is_alive())}


def _stored_event(record: Mapping[str, Any]) -> OperatorEvent | None:
    try:
        return OperatorEvent(datetime.fromisoformat(record["time"]), Severity(record["severity"]),
                             ReasonCode(record["code"]), record["message"], record.get("pair"),
                             record.get("data") or {})
    except (KeyError, TypeError, ValueError):  # a record of another version: not replayed
        return None


def process_started_at() -> datetime:
    import psutil  # a dependency of freqtrade

    return datetime.fromtimestamp(psutil.Process().create_time(), UTC)


def alerts_part(host: TowerHost) -> AlertsPart | None:
    """The part when ``centaur.alerts.enabled`` (trading only); a channel turned on without
    its secret fails the start, naming the environment variable."""
    settings = host.centaur.alerts
    if not settings.enabled or not host.trading:
        return None
    channels = build_channels(host.config, host.centaur)
    if not channels:
        raise CentaurConfigError(
            "centaur.alerts.enabled is true but no alert channel is on. Fix: enable freqtrade's "
            "telegram block (with centaur.alerts.telegram.enabled) or centaur.alerts.slack, or "
            "set centaur.alerts.enabled to false.")
    routes = [ChannelRoute(c.name, Severity(getattr(settings, c.name).min_severity),
                           getattr(settings, c.name).max_per_minute) for c in channels]
    router = AlertRouter(settings, routes, Outbox(host.centaur_state),
                         str(host.config.get("bot_name") or "freqtrade"))
    part = AlertsPart(router, channels, host.events, lambda: datetime.now(UTC),
                      FillsLogReader(host.config, host.centaur.exchange.router.fills_log_url),
                      str(host.config.get("exchange", {}).get("name", "")))
    if "telegram" in part.channels:
        host.events.replace_notify(None)  # the router delivers events to Telegram itself
    host.events.subscribe(part.on_event)  # first: no event emitted meanwhile is missed
    part.catch_up(host.events.recent(KEEP_EVENTS), process_started_at())
    part.start()
    logger.info("alerts: %s; %d alert(s) waiting in the outbox", ", ".join(
        f"{r.channel} from {r.min_severity}" for r in routes), len(router.outbox.pending()))
    return part
