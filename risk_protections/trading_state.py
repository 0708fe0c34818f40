"""Trading state ACTIVE / REDUCING / HALTED, and the persisted risk state behind it.

A halt has a source (its reason code), a start, an end (None: until the operator resumes) and
whether it flattens open positions. State transitions are pure functions of (state, now); the
strategy shell persists the result after every change (``centaur.state``), so a restart - even
after SIGKILL - resumes from the last committed state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from centaur.decision import ReasonCode
from risk_protections.daily_drawdown import DayAnchor
from risk_protections.dynamic_leverage import LeverageState


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # entries at reduced size
    HALTED = "HALTED"  # no new entries


# Halts the operator's resume clears; the others end by time.
OPERATOR_HALTS = frozenset({ReasonCode.MAX_DRAWDOWN, ReasonCode.KILL_SWITCH})


@dataclass(frozen=True)
class Halt:
    source: ReasonCode
    since: datetime
    until: datetime | None
    detail: str
    flatten: bool

    def active(self, now: datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    @property
    def lock_reason(self) -> str:
        """The freqtrade lock reason: stable per source, so resume can release it by reason."""
        ending = "until the operator resumes" if self.until is None else "until the lock ends"
        return f"[{self.source}] halted {ending}"


@dataclass(frozen=True)
class RiskState:
    halts: tuple[Halt, ...] = ()
    day: DayAnchor | None = None
    peak_equity_usd: float | None = None
    leverage: dict[str, LeverageState] = field(default_factory=dict)

    def active_halts(self, now: datetime) -> list[Halt]:
        return [h for h in self.halts if h.active(now)]

    def flatten(self, now: datetime) -> Halt | None:
        return next((h for h in self.active_halts(now) if h.flatten), None)


def trading_state(state: RiskState, now: datetime, reducing: bool) -> TradingState:
    if state.active_halts(now):
        return TradingState.HALTED
    return TradingState.REDUCING if reducing else TradingState.ACTIVE


def with_halt(state: RiskState, halt: Halt, now: datetime) -> tuple[RiskState, bool]:
    """Add ``halt`` unless one from the same source is active (no re-trigger while halted)."""
    if any(h.source == halt.source for h in state.active_halts(now)):
        return state, False
    return replace(state, halts=(*expired_removed(state, now).halts, halt)), True


def expired_removed(state: RiskState, now: datetime) -> RiskState:
    kept = tuple(h for h in state.halts if h.until is None or now < h.until)
    return state if kept == state.halts else replace(state, halts=kept)


def resumed(state: RiskState, include_timed: bool) -> tuple[RiskState, list[Halt]]:
    """Clear operator halts (and timed ones if ``include_timed``); return what was cleared."""
    cleared = [h for h in state.halts if h.source in OPERATOR_HALTS or include_timed]
    kept = tuple(h for h in state.halts if h not in cleared)
    return replace(state, halts=kept), cleared


# --- persistence (JSON in the state store) ---------------------------------------------------


def to_json(state: RiskState) -> dict[str, Any]:
    return {
        "halts": [{**asdict(h), "since": h.since.isoformat(),
                   "until": h.until.isoformat() if h.until else None} for h in state.halts],
        "day": ({**asdict(state.day), "day": state.day.day.isoformat()} if state.day else None),
        "peak_equity_usd": state.peak_equity_usd,
        "leverage": {pair: {"value": s.value, "changed_at": s.changed_at.isoformat()}
                     for pair, s in state.leverage.items()},
    }


def from_json(raw: dict[str, Any] | None) -> RiskState:
    if not raw:
        return RiskState()
    halts = tuple(Halt(ReasonCode(h["source"]), datetime.fromisoformat(h["since"]),
                       datetime.fromisoformat(h["until"]) if h["until"] else None,
                       h["detail"], h["flatten"]) for h in raw.get("halts", []))
    day = raw.get("day")
    anchor = DayAnchor(**{**day, "day": date.fromisoformat(day["day"])}) if day else None
    leverage = {pair: LeverageState(s["value"], datetime.fromisoformat(s["changed_at"]))
                for pair, s in raw.get("leverage", {}).items()}
    return RiskState(halts, anchor, raw.get("peak_equity_usd"), leverage)
