"""The alert outbox: an alert is kept in the state store until its channel has accepted it.

Each (alert, channel) is one row of namespace ``alerts_outbox``, written before any delivery
is tried and deleted only once the channel answered success, so a failing channel or a
restart loses nothing. A channel delivers its alerts CRITICAL first, then in the order they
were made; a failure puts the whole channel on hold until the failed alert's next try
(``next_attempt_at``), so a channel that is down is not hammered and keeps its order.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from centaur.state import StateStore

NAMESPACE = "alerts_outbox"


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    channel: str
    severity: str
    code: str
    pair: str | None
    text: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_error: str | None = None

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat(),
                "next_attempt_at": self.next_attempt_at.isoformat()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> OutboxEntry:
        return cls(**{**record, "created_at": datetime.fromisoformat(record["created_at"]),
                      "next_attempt_at": datetime.fromisoformat(record["next_attempt_at"])})

    @property
    def order(self) -> tuple[bool, str]:
        return (self.severity != "critical", self.key)


class Outbox:
    """Undelivered alerts per channel, persisted in ``store``."""

    def __init__(self, store: StateStore):
        self._store = store
        self._sequence = itertools.count(1)

    def add(self, channel: str, severity: str, code: str, pair: str | None, text: str,
            now: datetime) -> OutboxEntry:
        key = f"{now:%Y%m%dT%H%M%S%f}-{next(self._sequence):06d}-{channel}"
        entry = OutboxEntry(key, channel, severity, code, pair, text, now, now)
        self._store.put(NAMESPACE, key, entry.record())
        return entry

    def pending(self, channel: str | None = None) -> list[OutboxEntry]:
        entries = [OutboxEntry.from_record(r) for r in self._store.items(NAMESPACE).values()]
        return sorted((e for e in entries if channel is None or e.channel == channel),
                      key=lambda e: e.order)

    def due(self, channel: str, now: datetime) -> list[OutboxEntry]:
        """The channel's alerts to try now, in order; none while the channel is on hold."""
        entries = self.pending(channel)
        if any(e.next_attempt_at > now for e in entries):
            return []
        return entries

    def delivered(self, entry: OutboxEntry) -> None:
        self._store.delete(NAMESPACE, entry.key)

    def failed(self, entry: OutboxEntry, error: str, retry_in_secs: float,
               now: datetime) -> OutboxEntry:
        retried = replace(entry, attempts=entry.attempts + 1, last_error=error,
                          next_attempt_at=now + timedelta(seconds=retry_in_secs))
        self._store.put(NAMESPACE, entry.key, retried.record())
        return retried
