"""The live size ramp: a new live strategy trades a fraction of its target size at first.

Rule: in live mode every entry's stake is scaled by a step function of the whole weeks ``k``
since the first live start (``k = floor((now - first_live_start) / 7 days)``):

    ratio(k) = min(1, start_ratio + (1 - start_ratio) * k / (weeks - 1))

so with the defaults (``start_ratio`` 0.25, ``weeks`` 4) weeks 0, 1, 2 and 3 trade 25 %, 50 %,
75 % and 100 % of target, and every later week 100 % (``weeks`` 1: full size at once). The
steps fall at first_live_start + 7, 14, 21 days.

The first live start is written to the state store (``size_ramp`` / ``first_live_start``) the
first time a live bot starts and is never reset by a restart; a lost state store starts the
ramp over, the cautious direction. Dry-run, backtests and hyperopt have no ramp (the factory
returns None).

Applied as an entry-pipeline gate: ``at_sizing`` allows with ``scale=ratio``
(``SIZE_RAMP``) while the ratio is below 1, and the pipeline multiplies the scales into the
sizer's stake. The status shows the ratio, the week and the date of the next step; each new
step is an INFO event.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any


from centaur.decision import Decision, ReasonCode
from centaur.events import OperatorEvent, Severity
from centaur.modes import is_live
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings.tower import SizeRampSettings
from centaur.state import StateStore
from control_tower.part import BasePart, TowerHost

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
NAMESPACE = "size_ramp"
FIRST_START_KEY = "first_live_start"


def ramp_week(first_live_start: datetime, now: datetime) -> int:
    """Whole weeks since the first live start (0 in the first week, never negative)."""
    return max(0, (now - first_live_start) // WEEK)


def ramp_ratio(first_live_start: datetime, now: datetime, settings: SizeRampSettings) -> float:
    """The share of target size live entries get at ``now``."""
    if settings.weeks <= 1:
        return 1.0
    week = ramp_week(first_live_start, now)
    step = (1.0 - settings.start_ratio) / (settings.weeks - 1)
    return min(1.0, settings.start_ratio + step * week)


def next_step_at(first_live_start: datetime, now: datetime, settings: SizeRampSettings
                 ) -> datetime | None:
    """When the ratio next rises; None once the ramp is at full size."""
    if ramp_ratio(first_live_start, now, settings) >= 1.0:
        return None
    return first_live_start + (ramp_week(first_live_start, now) + 1) * WEEK


def first_live_start(store: StateStore, now: datetime) -> datetime:
    """The stored first live start; ``now`` is stored (and returned) the first time."""
    stored = store.get(NAMESPACE, FIRST_START_KEY)
    if stored is not None:
        return datetime.fromisoformat(stored)
    store.put(NAMESPACE, FIRST_START_KEY, now.isoformat())
    return now


class SizeRampGate:
    """Scales live entries by the ramp's ratio at the request's time."""

    name = "size_ramp"

    def __init__(self, first_start: datetime, settings: SizeRampSettings):
        self.first_start = first_start
        self.settings = settings

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        ratio = ramp_ratio(self.first_start, _utc(request.now), self.settings)
        if ratio >= 1.0:
            return Decision.allow()
        return Decision(True, ReasonCode.SIZE_RAMP,
                        f"live week {ramp_week(self.first_start, _utc(request.now))}: "
                        f"{ratio:.0%} of target size", scale=ratio)

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return Decision.allow()


class SizeRamp(BasePart):
    """The ramp's gate, its status, and an event at each step."""

    name = "size_ramp"

    def __init__(self, gate: SizeRampGate, events: Any):
        self.gate = gate
        self._events = events
        self._announced: float | None = None

    def entry_gates(self) -> list[Any]:
        return [self.gate]

    def on_loop(self, now: datetime) -> None:
        ratio = ramp_ratio(self.gate.first_start, now, self.gate.settings)
        if ratio == self._announced:
            return
        self._announced = ratio
        following = next_step_at(self.gate.first_start, now, self.gate.settings)
        until = f", next step {following:%Y-%m-%d %H:%M} UTC" if following else ""
        self._events.emit(OperatorEvent(now, Severity.INFO, ReasonCode.SIZE_RAMP,
                                        f"live size at {ratio:.0%} of target{until}",
                                        data=self.status(now)))

    def status(self, now: datetime) -> dict[str, Any]:
        first, settings = self.gate.first_start, self.gate.settings
        following = next_step_at(first, now, settings)
        return {"ratio": ramp_ratio(first, now, settings), "week": ramp_week(first, now),
                "first_live_start": first.isoformat(),
                "next_step_at": following.isoformat() if following else None,
                "next_ratio": ramp_ratio(first, following, settings) if following else None}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def part(host: TowerHost) -> SizeRamp | None:
    """The tower's factory: live only, when ``centaur.size_ramp.enabled``."""
    settings = host.centaur.size_ramp
    if not settings.enabled or not is_live(host.config):
        return None
    first = first_live_start(host.centaur_state, datetime.now(UTC))
    ramp = SizeRamp(SizeRampGate(first, settings), host.events)
    logger.info("size ramp: live since %s, %s", first.isoformat(),
                ramp.status(datetime.now(UTC)))
    return ramp
