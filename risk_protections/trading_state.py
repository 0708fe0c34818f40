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


# Halts the operator's resume clears; the others end by time - except the state halts, which
# only the operator's explicit fresh start (/state_reset) ends.
OPERATOR_HALTS = frozenset({ReasonCode.MAX_DRAWDOWN, ReasonCode.KILL_SWITCH})
STATE_HALTS = frozenset({ReasonCode.STATE_LOST, ReasonCode.STATE_CORRUPT})
# Halts that end when their condition clears (the control tower's reconciliation lifts them
# after a clean run), not by time or the operator's plain resume.
CONDITION_HALTS = frozenset({ReasonCode.RECONCILIATION_DRIFT, ReasonCode.RECONCILIATION_FAILED})


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
        ending = ("until the condition clears" if self.source in CONDITION_HALTS
                  else "until the operator resumes" if self.until is None
                  else "until the lock ends")
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
    """Clear operator halts (and timed ones if ``include_timed``), never the state halts;
    return what was cleared."""
    cleared = [h for h in state.halts if h.source not in STATE_HALTS
               and (h.source in OPERATOR_HALTS or include_timed)]
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


class RiskStateInvalid(ValueError):
    """A stored risk state that is not of the schema ``to_json`` writes."""


_KEYS = frozenset({"halts", "day", "peak_equity_usd", "leverage"})


def from_json(raw: dict[str, Any] | None) -> RiskState:
    """The stored state; None (nothing stored) is a fresh state, anything malformed -
    ``{}`` included - is ``RiskStateInvalid`` naming what is wrong."""
    if raw is None:
        return RiskState()
    if not isinstance(raw, dict) or set(raw) != _KEYS:
        keys = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise RiskStateInvalid(f"risk state has keys {keys}, expected {sorted(_KEYS)}")
    try:
        halts = tuple(Halt(ReasonCode(h["source"]), _utc(h["since"]),
                           _utc(h["until"]) if h["until"] else None,
                           str(h["detail"]), bool(h["flatten"])) for h in raw["halts"])
        day = raw["day"]
        anchor = DayAnchor(**{**day, "day": date.fromisoformat(day["day"])}) if day else None
        leverage = {pair: LeverageState(float(s["value"]), _utc(s["changed_at"]))
                    for pair, s in raw["leverage"].items()}
        peak = raw["peak_equity_usd"]
        return RiskState(halts, anchor, None if peak is None else float(peak), leverage)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise RiskStateInvalid(f"risk state field invalid: {type(err).__name__}: {err}") from err


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    return value
