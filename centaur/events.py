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
    """Emits operator events; ``notify`` forwards the text to freqtrade's RPC when running."""

    def __init__(self, store: StateStore, notify: Callable[[str], None] | None = None):
        self._store = store
        self._notify = notify
        self._sequence = len(store.items(_NAMESPACE))
        self._listeners: list[Callable[[OperatorEvent], None]] = []

    def subscribe(self, listener: Callable[[OperatorEvent], None]) -> None:
        self._listeners.append(listener)

    def replace_notify(self, notify: Callable[[str], None] | None) -> None:
        """A channel that delivers events itself (the alert router) turns the plain text
        forwarding off, so an operator does not get each event twice."""
        self._notify = notify

    def emit(self, event: OperatorEvent) -> OperatorEvent:
        logger.log(_LOG_LEVEL[event.severity], event.text())
        self._sequence += 1
        record = {**asdict(event), "time": event.time.isoformat()}
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
