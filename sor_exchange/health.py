"""Venue cool-downs: a venue that failed sits out for a while, then is tried again.

Pure bookkeeping with the time passed in: ``exclude`` a venue at ``now`` with a reason, ask
``available`` at a later ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class VenueHealth:
    cooldown_secs: float
    _until: dict[str, datetime] = field(default_factory=dict)
    _reasons: dict[str, str] = field(default_factory=dict)

    def exclude(self, venue: str, now: datetime, reason: str) -> datetime:
        until = now + timedelta(seconds=self.cooldown_secs)
        self._until[venue] = max(until, self._until.get(venue, until))
        self._reasons[venue] = reason
        return self._until[venue]

    def available(self, venue: str, now: datetime) -> bool:
        until = self._until.get(venue)
        return until is None or now >= until

    def excluded(self, now: datetime) -> dict[str, tuple[datetime, str]]:
        return {v: (u, self._reasons[v]) for v, u in self._until.items() if now < u}
