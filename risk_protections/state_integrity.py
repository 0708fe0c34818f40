"""State integrity: the suite's risk state and freqtrade's locks are one truth, checked at start.

A trading bot whose risk state is missing, empty, unreadable, schema-invalid - or disagrees
with freqtrade's open locks (a suite lock whose halt the state does not know) - starts HALTED:
the halts behind freqtrade's suite locks are adopted (so ``/resume`` clears both), and a
``STATE_LOST`` / ``STATE_CORRUPT`` halt is added that only the operator's explicit
``/state_reset`` clears. A missing file is a first start only while freqtrade has no history
(no trade, no lock) either. Pure: the facts are gathered by the strategy shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from centaur.decision import Decision, ReasonCode
from centaur.state import StoreHealth
from risk_protections import trading_state as ts

# The codes a suite halt can carry (its freqtrade lock reason starts with "[CODE]").
HALT_CODES = (ReasonCode.DAILY_DRAWDOWN, ReasonCode.MAX_DRAWDOWN, ReasonCode.EXCHANGE_ERROR_RATE,
              ReasonCode.KILL_SWITCH, ReasonCode.STATE_LOST, ReasonCode.STATE_CORRUPT,
              ReasonCode.RECONCILIATION_DRIFT, ReasonCode.RECONCILIATION_FAILED)
FLATTENING = frozenset({ReasonCode.DAILY_DRAWDOWN, ReasonCode.KILL_SWITCH})
OPEN_ENDED_AFTER = timedelta(days=365)  # a lock this long is "until the operator resumes"


@dataclass(frozen=True)
class SuiteLock:
    """An active freqtrade lock placed for a suite halt."""

    source: ReasonCode
    since: datetime
    until: datetime
    reason: str


def suite_lock(reason: str | None, since: datetime, until: datetime) -> SuiteLock | None:
    """The suite lock behind a freqtrade lock reason, or None for anyone else's lock."""
    code = (reason or "").partition("]")[0].removeprefix("[")
    if not (reason or "").startswith("[") or code not in {str(c) for c in HALT_CODES}:
        return None
    return SuiteLock(ReasonCode(code), since, until, reason or "")


@dataclass(frozen=True)
class StartFacts:
    path: str
    health: StoreHealth
    moved_aside: str | None
    raw: Any  # the stored risk record (None: none stored)
    read_error: str | None  # the stored record failed its checksum or JSON
    freqtrade_has_history: bool
    locks: tuple[SuiteLock, ...]


def checked_start(facts: StartFacts, now: datetime) -> tuple[ts.RiskState, Decision]:
    """The risk state to start from, and whether it may be trusted (allowed) or not."""
    problem = _problem(facts)
    if problem is not None:
        return _adopted(ts.RiskState(), facts.locks), problem
    state = ts.from_json(facts.raw)
    missing = _halts_missing(state, facts.locks, now)
    # freqtrade ends a timed lock at the next candle after the halt's end, so a timed lock may
    # outlive its halt by a candle: adopted (it ends by itself), not a disagreement.
    open_ended = tuple(lock for lock in missing if _open_ended(lock))
    if not open_ended:
        return _adopted(state, missing), Decision.allow()
    return _adopted(state, missing), Decision(
        False, ReasonCode.STATE_CORRUPT,
        f"{facts.path} disagrees with freqtrade's locks: "
        f"{', '.join(lock.reason for lock in open_ended)} have no halt in the suite state")


def _problem(facts: StartFacts) -> Decision | None:
    path = facts.path
    if facts.health is StoreHealth.CORRUPT:
        return Decision(False, ReasonCode.STATE_CORRUPT,
                        f"{path} is unreadable and was moved aside to {facts.moved_aside}")
    if facts.read_error is not None:
        return Decision(False, ReasonCode.STATE_CORRUPT, facts.read_error)
    if facts.raw is None:
        if not facts.freqtrade_has_history and not facts.locks:
            return None  # a first start: nothing to lose
        how = {StoreHealth.NEW: "is missing", StoreHealth.EMPTY: "is empty (truncated)"}.get(
            facts.health, "holds no risk state")
        return Decision(False, ReasonCode.STATE_LOST,
                        f"{path} {how}, but freqtrade's database has trades or locks")
    try:
        ts.from_json(facts.raw)
    except ts.RiskStateInvalid as err:
        return Decision(False, ReasonCode.STATE_CORRUPT, f"{path}: {err}")
    return None


def _halts_missing(state: ts.RiskState, locks: tuple[SuiteLock, ...], now: datetime
                   ) -> tuple[SuiteLock, ...]:
    known = {h.source for h in state.active_halts(now)}
    return tuple(lock for lock in locks if lock.source not in known)


def _adopted(state: ts.RiskState, locks: tuple[SuiteLock, ...]) -> ts.RiskState:
    """The halts behind freqtrade's suite locks, added to ``state`` (lock = halt, one truth)."""
    halts = list(state.halts)
    for lock in locks:
        if any(h.source is lock.source for h in halts):
            continue
        halts.append(ts.Halt(lock.source, lock.since, None if _open_ended(lock) else lock.until,
                             f"adopted from freqtrade's lock: {lock.reason}",
                             lock.source in FLATTENING))
    return ts.RiskState(tuple(halts), state.day, state.peak_equity_usd, state.leverage)


def _open_ended(lock: SuiteLock) -> bool:
    return lock.until - lock.since >= OPEN_ENDED_AFTER


def fix_text(path: str, backup: str | None) -> str:
    restore = (f"restore {backup} over {path} while the bot is stopped, or " if backup else "")
    return (f"Fix: find out why the state was lost or damaged; then {restore}start a fresh "
            "state with Telegram /state_reset or POST /api/v1/centaur/state/reset (the halts "
            "behind freqtrade's locks are kept; /resume clears those).")
