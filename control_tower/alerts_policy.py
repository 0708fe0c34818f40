"""Which operator events become alerts, on which channel, and how often: pure rules, ``now``
injected.

- ranking (``rank``): ``ALERT_UNDELIVERED`` never becomes an alert (a failing channel must not
  alert about itself, recursively); an LLM skip of a signal whose confidence reaches
  ``veto_alert_min_confidence`` becomes a WARNING ``VETO_HIGH_CONVICTION``; every other event
  keeps its severity and code;
- de-duplication (``Deduplicator``): the same alert repeated - same code, pair, severity and
  message text - within ``dedup_secs`` of its first sending is dropped, CRITICAL included. A
  different message is a different alert (another venue, another drift, "entries halted"); a
  severity above the last one sent for the (code, pair) is never a duplicate (a WARNING that
  turns CRITICAL); an event that clears a condition (``CLEARS``: ``OPERATOR_RESUME``,
  ``RECONCILIATION_OK``) forgets the alerts of the codes it clears, so the condition coming
  back is alerted again;
- routing (``ChannelRoute.takes``): a channel takes the alerts at or above its minimum severity;
- rate limit (``RateLimiter``): at most ``max_per_minute`` alerts per channel per minute (the
  window opens at its first alert); more are counted by code and summarised in one line when
  the window closes; CRITICAL always passes (and counts);
- retries (``backoff_secs``): ``base x 2^(attempts - 1)``, at most ``max``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from centaur.decision import ReasonCode
from centaur.events import OperatorEvent, Severity

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
NEVER_ALERTED = frozenset({ReasonCode.ALERT_UNDELIVERED})
RATE_WINDOW_SECS = 60.0  # a channel's max_per_minute counts per window of this length
# The codes an event clears (None: every code - a resume may clear any halt, and names them only
# in its text).
CLEARS: dict[ReasonCode, frozenset[ReasonCode] | None] = {
    ReasonCode.OPERATOR_RESUME: None,
    ReasonCode.RECONCILIATION_OK: frozenset({ReasonCode.RECONCILIATION_DRIFT,
                                             ReasonCode.RECONCILIATION_FAILED}),
}


def rank(event: OperatorEvent, veto_alert_min_confidence: float) -> OperatorEvent | None:
    """The alert an event becomes (its severity and code), or None when it never alerts."""
    if event.code in NEVER_ALERTED:
        return None
    confidence = event.data.get("signal_confidence") if event.data else None
    if event.code is ReasonCode.LLM_SKIP and confidence is not None \
            and float(confidence) >= veto_alert_min_confidence:
        return replace(event, severity=Severity.WARNING, code=ReasonCode.VETO_HIGH_CONVICTION)
    return event


@dataclass(frozen=True)
class ChannelRoute:
    """A channel's share of the alerts: its minimum severity and its rate limit."""

    channel: str
    min_severity: Severity
    max_per_minute: int

    def takes(self, severity: Severity) -> bool:
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.min_severity]


class Deduplicator:
    """An alert whose (code, pair, severity, message) was sent within ``window_secs``: a
    duplicate - unless its severity is above the last one sent for its (code, pair)."""

    def __init__(self, window_secs: float):
        self.window = timedelta(seconds=window_secs)
        self._first: dict[tuple[str, str | None, str, str], datetime] = {}
        self._last: dict[tuple[str, str | None], tuple[Severity, datetime]] = {}

    def fresh(self, alert: OperatorEvent, now: datetime) -> bool:
        self._first = {k: t for k, t in self._first.items() if now - t < self.window}
        self._last = {k: v for k, v in self._last.items() if now - v[1] < self.window}
        topic = (str(alert.code), alert.pair)
        key = (*topic, str(alert.severity), _digest(alert.message))
        last = self._last.get(topic)
        escalated = last is not None and SEVERITY_RANK[alert.severity] > SEVERITY_RANK[last[0]]
        if key in self._first and not escalated:
            return False
        self._first[key] = now
        self._last[topic] = (alert.severity, now)
        return True

    def clear(self, code: ReasonCode) -> None:
        """Forget the alerts of the codes ``code`` clears (``CLEARS``), if it clears any."""
        if code not in CLEARS:
            return
        cleared = CLEARS[code]
        gone = (lambda c: True) if cleared is None else (lambda c: c in cleared)
        self._first = {k: t for k, t in self._first.items() if not gone(k[0])}
        self._last = {k: v for k, v in self._last.items() if not gone(k[0])}


def _digest(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()[:16]


@dataclass
class RateWindow:
    opened_at: datetime
    admitted: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)


class RateLimiter:
    """One channel's window: ``admit`` says whether an alert goes out; ``close_due`` ends a
    window whose time is over and returns the summary of what it held back (or None)."""

    def __init__(self, max_per_window: int, window_secs: float):
        self.max_per_window = max_per_window
        self.window = timedelta(seconds=window_secs)
        self._current: RateWindow | None = None
        self.suppressed_total = 0

    def close_due(self, now: datetime) -> Counter[str] | None:
        current = self._current
        if current is None or now - current.opened_at < self.window:
            return None
        self._current = None
        return current.suppressed or None

    def admit(self, severity: Severity, code: str, now: datetime) -> bool:
        if self._current is None:
            self._current = RateWindow(opened_at=now)
        current = self._current
        if severity is Severity.CRITICAL or current.admitted < self.max_per_window:
            current.admitted += 1
            return True
        current.suppressed[code] += 1
        self.suppressed_total += 1
        return False


def summary_text(channel: str, suppressed: Counter[str], window_secs: float) -> str:
    """The line that replaces the alerts a window held back."""
    counts = ", ".join(f"{code} x{n}" for code, n in sorted(suppressed.items()))
    return (f"{sum(suppressed.values())} alert(s) held back by the {channel} rate limit in the "
            f"last {window_secs:g} s: {counts} (all of them are in the bot's event log)")


def backoff_secs(attempts: int, base_secs: float, max_secs: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones (1, 2, ...)."""
    return min(max_secs, base_secs * 2 ** max(attempts - 1, 0))
