"""Operator events: what the machine tells the human, with a severity and a reason code.

One path for every layer (drift blocks, signal retirements, kill switches, breaker actions,
venue exclusions): logged with the code first, kept in the state store (the last
``KEEP_EVENTS``), and forwarded to freqtrade's RPC (Telegram, webhooks, FreqUI) through the
``notify`` callable the strategy provides - ``dp.send_msg`` in dry-run and live, nothing in
backtests, where freqtrade drops messages anyway. Listeners (``subscribe``) receive every event
itself: the control tower's alert router and metrics. A listener that raises is logged and
never stops the event or the other listeners.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from centaur.decision import ReasonCode
from centaur.state import StateStore

logger = logging.getLogger("centaur.events")

KEEP_EVENTS = 500
_NAMESPACE = "events"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_LOG_LEVEL = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING,
              Severity.CRITICAL: logging.CRITICAL}


@dataclass(frozen=True)
class OperatorEvent:
    time: datetime
    severity: Severity
    code: ReasonCode
    message: str
    pair: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        where = f" {self.pair}" if self.pair else ""
        return f"[{self.severity.upper()}] [{self.code}]{where}: {self.message}"


class EventSink:
    """Emits operator events; ``notify`` forwards the text to freqtrade's RPC when running.

    One sink per store in a process (``event_sink``): the strategy and the exchange class's
    order router share it, so every layer's events reach the same listeners and numbering.
    """

    def __init__(self, store: StateStore, notify: Callable[[str], None] | None = None):
        self._store = store
        self._notify = notify
        self._lock = threading.Lock()
        keys = store.items(_NAMESPACE)
        self._sequence = max((int(k) for k in keys), default=0)  # after a restart: go on
        self._listeners: list[Callable[[OperatorEvent], None]] = []

    def subscribe(self, listener: Callable[[OperatorEvent], None]) -> None:
        self._listeners.append(listener)

    def replace_notify(self, notify: Callable[[str], None] | None) -> None:
        """A channel that delivers events itself (the alert router) turns the plain text
        forwarding off, so an operator does not get each event twice."""
        self._notify = notify

    def emit(self, event: OperatorEvent) -> OperatorEvent:
        logger.log(_LOG_LEVEL[event.severity], event.text())
        record = {**asdict(event), "time": event.time.isoformat()}
        with self._lock:  # the bot loop, the REST thread and the router emit concurrently
            self._sequence += 1
            self._store.put(_NAMESPACE, f"{self._sequence:012d}", record)
            if self._sequence > KEEP_EVENTS:
                self._store.delete(_NAMESPACE, f"{self._sequence - KEEP_EVENTS:012d}")
        if self._notify is not None:
            self._notify(event.text())
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken listener must not lose the event
                logger.exception("[%s] event listener %r failed", event.code, listener)
        return event

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self._store.items(_NAMESPACE).values())[-limit:]

    # Hyperopt pickles the strategy (and its sink) into its workers; a lock does not travel.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


_sinks: weakref.WeakKeyDictionary[StateStore, EventSink] = weakref.WeakKeyDictionary()
_sinks_lock = threading.Lock()


def event_sink(store: StateStore, notify: Callable[[str], None] | None = None) -> EventSink:
    """The process's sink for ``store`` (created on first use); ``notify``, when given,
    becomes its text forwarding."""
    with _sinks_lock:
        sink = _sinks.get(store)
        if sink is None:
            sink = _sinks[store] = EventSink(store)
    if notify is not None:
        sink.replace_notify(notify)
    return sink
