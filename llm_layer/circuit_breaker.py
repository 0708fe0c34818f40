"""LLM circuit breaker: on degradation only, the model may answer with bounded, expiring calls.

Triggers (pure, ``triggers``): rolling win rate below ``min_win_rate_ratio`` over the last
``window_trades`` closed trades (once ``min_trades`` exist), current drawdown from the equity
peak above ``max_drawdown_ratio``, or ``max_consecutive_losses`` losses in a row. Then, at most
once per ``cooldown_hours`` and only when a trade closed since the last look, the model gets
the structured performance report and may answer only from the palette
(``centaur.llm.palette``). Accepted calls become expiring ``Intervention``s in the
``InterventionBook`` (the risk layer applies them inside its own clamps) and are announced
through the ``EventSink`` (Telegram); rejected calls are logged and announced with the reason.

How it runs: ``BreakerStage.on_loop`` (every loop live, every candle in backtests),
one bounded call (the layer's ``timeout_secs``, no retry) when triggered. Backtests record or
replay the answers like the veto does. ``list_active``, ``revoke`` and ``announce_expired`` are
what the operator commands (Telegram / REST) call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from freqtrade.persistence import Trade

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.interventions import Intervention, InterventionBook
from centaur.settings.llm import BreakerSettings
from centaur.state import StateStore
from centaur.trade_stats import closed_drawdown_ratio, consecutive_losses
from llm_layer.consultant import Answer, Consultant, Parser
from llm_layer.palette import (
    INTERVENTION_OF,
    Action,
    BreakerAnswer,
    Rejection,
    Tool,
    palette_description,
    palette_wire_schema,
    parse_breaker_answer,
    validate_calls,
)
from llm_layer.prompt import LlmRequest
from llm_layer.store import DecisionRecord

logger = logging.getLogger(__name__)

SOURCE = "llm_breaker"
_STATE_NS, _STATE_KEY = "llm_breaker", "state"


# --- pure: the performance report and the triggers ---------------------------------------------

@dataclass(frozen=True)
class TradeOutcome:
    pair: str
    is_short: bool
    closed_at: datetime
    profit_ratio: float
    profit_usd: float


@dataclass(frozen=True)
class PerformanceReport:
    as_of: datetime
    closed_trades: int
    window_trades: int
    window_win_rate: float | None
    drawdown_ratio: float
    consecutive_losses: int
    by_pair: dict[str, dict[str, float]]
    by_side: dict[str, dict[str, float]]

    def to_prompt(self) -> dict[str, Any]:
        return {**asdict(self), "as_of": self.as_of.strftime("%Y-%m-%dT%H:%MZ")}


def _summary(outcomes: Sequence[TradeOutcome]) -> dict[str, float]:
    wins = sum(1 for o in outcomes if o.profit_usd > 0)
    return {"trades": len(outcomes), "win_rate": round(wins / len(outcomes), 3),
            "profit_usd": round(sum(o.profit_usd for o in outcomes), 2)}


def current_drawdown(outcomes: Sequence[TradeOutcome], starting_balance: float) -> float:
    """(peak equity - equity now) / peak equity, over closed trades."""
    return closed_drawdown_ratio((o.profit_usd for o in outcomes), starting_balance)


def trailing_losses(outcomes: Sequence[TradeOutcome]) -> int:
    return consecutive_losses([o.profit_usd for o in outcomes])


def performance_report(outcomes: Sequence[TradeOutcome], starting_balance: float,
                       now: datetime, settings: BreakerSettings) -> PerformanceReport:
    ordered = sorted(outcomes, key=lambda o: o.closed_at)
    window = ordered[-settings.window_trades:]
    win_rate = _summary(window)["win_rate"] if len(ordered) >= settings.min_trades else None
    pairs = sorted({o.pair for o in window})
    sides = {"long": [o for o in window if not o.is_short],
             "short": [o for o in window if o.is_short]}
    return PerformanceReport(
        as_of=now, closed_trades=len(ordered), window_trades=len(window),
        window_win_rate=win_rate,
        drawdown_ratio=round(current_drawdown(ordered, starting_balance), 4),
        consecutive_losses=trailing_losses(ordered),
        by_pair={p: _summary([o for o in window if o.pair == p]) for p in pairs},
        by_side={side: _summary(items) for side, items in sides.items() if items})


def triggers(report: PerformanceReport, settings: BreakerSettings) -> list[str]:
    """The degradations present in ``report`` (empty: the breaker stays silent)."""
    found = []
    if report.window_win_rate is not None and report.window_win_rate < settings.min_win_rate_ratio:
        found.append(f"win rate {report.window_win_rate:.0%} over the last "
                     f"{report.window_trades} trades < {settings.min_win_rate_ratio:.0%}")
    if report.drawdown_ratio > settings.max_drawdown_ratio:
        found.append(f"drawdown {report.drawdown_ratio:.1%} > {settings.max_drawdown_ratio:.0%}")
    if report.consecutive_losses >= settings.max_consecutive_losses:
        found.append(f"{report.consecutive_losses} consecutive losses "
                     f">= {settings.max_consecutive_losses}")
    return found


def intervention_of(action: Action, now: datetime, rationale: str) -> Intervention | None:
    """The expiring intervention an accepted action writes (None for alerts, no_action)."""
    if action.tool not in INTERVENTION_OF:
        return None
    return Intervention(kind=INTERVENTION_OF[action.tool], pair=action.pair, value=action.value,
                        created_at=now, expires_at=now + timedelta(hours=action.hours),
                        source=SOURCE, reason=rationale)


# --- operator functions (Telegram / REST call these) ------------------------------------------

def list_active(book: InterventionBook, now: datetime) -> list[Intervention]:
    return sorted(book.active(now), key=lambda i: (i.expires_at, i.id))


def revoke(book: InterventionBook, events: EventSink, intervention_id: str, now: datetime,
           by: str) -> Intervention | None:
    revoked = book.revoke(intervention_id, now)
    if revoked is not None:
        events.emit(OperatorEvent(now, Severity.WARNING, ReasonCode.INTERVENTION_REVOKED,
                                  f"{by} revoked {_describe(revoked)}", pair=revoked.pair,
                                  data={"id": revoked.id}))
    return revoked


def announce_expired(book: InterventionBook, events: EventSink, since: datetime,
                     now: datetime) -> list[Intervention]:
    """Announce interventions that expired in (since, now] (not revoked ones)."""
    expired = [i for i in book.all()
               if i.revoked_at is None and since < i.expires_at <= now]
    for intervention in expired:
        events.emit(OperatorEvent(now, Severity.INFO, ReasonCode.INTERVENTION_EXPIRED,
                                  f"expired: {_describe(intervention)}", pair=intervention.pair,
                                  data={"id": intervention.id}))
    return expired


def _describe(i: Intervention) -> str:
    value = f" {i.value:g}" if i.value is not None else ""
    return f"{i.kind}{value} on {i.pair or 'all pairs'} until {i.expires_at:%Y-%m-%d %H:%M} UTC"


# --- the shell: consult, apply, announce ------------------------------------------------------

def breaker_request(report: PerformanceReport, found: list[str], pairs: Collection[str],
                    settings: BreakerSettings, llm_max_tokens: int, temperature: float,
                    seed: int) -> LlmRequest:
    system = (
        "You are the circuit breaker of a crypto futures trading system whose performance "
        "degraded. The user message is a JSON performance report (data). Answer with one JSON "
        "object: rationale (at most 160 characters) and calls, a list of calls from this "
        f"palette only: {palette_description(settings)} Use no_action if nothing should change.")
    document = json.dumps({"triggers": found, "report": report.to_prompt()}, sort_keys=True,
                          separators=(",", ":"))
    return LlmRequest(({"role": "system", "content": system},
                       {"role": "user", "content": document}),
                      palette_wire_schema(pairs, settings), max(llm_max_tokens, 384),
                      temperature, seed)


def _parse(text: str | None):
    answer = parse_breaker_answer(text)
    return answer, answer.model_dump(mode="json"), ReasonCode.OK


BREAKER_PARSER: Parser[BreakerAnswer] = Parser("breaker", _parse)


class CircuitBreaker:
    """``leverage_ceiling``: the risk layer's operator ceiling, when it has one, bounds
    ``adjust_leverage`` (otherwise ``centaur.llm.breaker.leverage_ceiling``)."""

    def __init__(self, consultant: Consultant, book: InterventionBook, events: EventSink,
                 state: StateStore, pairs: Collection[str], leverage_ceiling: float | None = None):
        self._consultant = consultant
        settings = consultant.settings
        if leverage_ceiling is not None:
            breaker = settings.breaker.model_copy(update={"leverage_ceiling": leverage_ceiling})
            settings = settings.model_copy(update={"breaker": breaker})
        self._settings = settings
        self._book = book
        self._events = events
        self._state = state
        self._pairs = sorted(pairs)
        self._expiry_checked_at: datetime | None = None

    def step(self, now: datetime, closed_count: int,
             outcomes: Callable[[], Sequence[TradeOutcome]], starting_balance: float
             ) -> list[Action]:
        """Look at closed trades; consult and apply when degraded (bounded by the cooldown).

        ``outcomes`` is only called when ``closed_count`` changed since the last step.
        """
        self._announce_expiries(now)
        memory = self._state.get(_STATE_NS, _STATE_KEY, {"seen": 0, "consulted_at": None})
        if closed_count == memory["seen"]:
            return []
        memory["seen"] = closed_count
        breaker = self._settings.breaker
        report = performance_report(outcomes(), starting_balance, now, breaker)
        found = triggers(report, breaker)
        consult = bool(found) and not self._cooling(memory, now)
        if consult:
            memory["consulted_at"] = now.isoformat()
        self._state.put(_STATE_NS, _STATE_KEY, memory)
        return self._consult(now, report, found) if consult else []

    def _cooling(self, memory: dict[str, Any], now: datetime) -> bool:
        last = memory["consulted_at"]
        cooldown = timedelta(hours=self._settings.breaker.cooldown_hours)
        return last is not None and now - datetime.fromisoformat(last) < cooldown

    def _announce_expiries(self, now: datetime) -> None:
        if self._expiry_checked_at is not None:
            announce_expired(self._book, self._events, self._expiry_checked_at, now)
        self._expiry_checked_at = now

    def _consult(self, now: datetime, report: PerformanceReport, found: list[str]) -> list[Action]:
        self._events.emit(OperatorEvent(now, Severity.WARNING, ReasonCode.BREAKER_TRIGGERED,
                                        "; ".join(found), data={"report": report.to_prompt()}))
        s = self._settings
        request = breaker_request(report, found, self._pairs, s.breaker, s.max_tokens,
                                  s.temperature, s.seed)
        answer = self._consultant.ask(request, BREAKER_PARSER)
        if not answer.ok:
            self._record(now, answer, str(answer.code), None, answer.detail)
            logger.warning("[%s] circuit breaker: no usable answer (%s); no action taken",
                           answer.code, answer.detail)
            return []
        accepted, rejected = validate_calls(answer.value.calls, self._pairs, s.breaker)
        for rejection in rejected:
            self._reject(now, answer, rejection)
        for action in accepted:
            self._apply(now, answer, action)
        return accepted

    def _apply(self, now: datetime, answer: Answer[BreakerAnswer], action: Action) -> None:
        rationale = answer.value.rationale
        intervention = intervention_of(action, now, rationale)
        stored = self._book.add(intervention) if intervention is not None else None
        severity = action.severity or Severity.WARNING
        text = _describe(stored) if stored else f"{action.tool}: {rationale}"
        if action.tool is not Tool.NO_ACTION:
            self._events.emit(OperatorEvent(now, severity, ReasonCode.BREAKER_ACTION_ACCEPTED,
                                            text, pair=action.pair,
                                            data={"id": stored.id if stored else None}))
        self._record(now, answer, str(ReasonCode.BREAKER_ACTION_ACCEPTED), action,
                     json.dumps({**asdict(action), "id": stored.id if stored else None,
                                 "rationale": rationale}, default=str))

    def _reject(self, now: datetime, answer: Answer[BreakerAnswer], rejection: Rejection) -> None:
        logger.warning("[%s] circuit breaker call %s: %s", ReasonCode.BREAKER_ACTION_REJECTED,
                       rejection.call, rejection.reason)
        self._events.emit(OperatorEvent(now, Severity.INFO, ReasonCode.BREAKER_ACTION_REJECTED,
                                        f"rejected {rejection.call.get('tool')}: "
                                        f"{rejection.reason}", data={"call": rejection.call}))
        self._record(now, answer, str(ReasonCode.BREAKER_ACTION_REJECTED), None,
                     json.dumps({"call": rejection.call, "reason": rejection.reason}))

    def _record(self, now: datetime, answer: Answer[BreakerAnswer], code: str,
                action: Action | None, detail: str) -> None:
        s = self._settings
        self._consultant.store.record_decisions([DecisionRecord(
            run_label=s.run_label, kind="breaker", mode=str(s.mode),
            pair=action.pair if action else None, side=None, decided_at=now, key=answer.key,
            allowed=None, reason_code=code, scale=action.value if action else None,
            origin=answer.origin, latency_ms=answer.latency_ms, detail=detail)])


# --- the loop stage ------------------------------------------------------------------------------

class BreakerStage:
    """Runs the circuit breaker every loop when ``centaur.llm.breaker.enabled``."""

    name = "llm_breaker"

    def __init__(self, breaker: CircuitBreaker):
        self._breaker = breaker

    def on_loop(self, now: datetime, closed: Sequence[Trade], starting_balance_usd: float
                ) -> None:
        self._breaker.step(now, len(closed), lambda: [
            TradeOutcome(t.pair, t.is_short, t.close_date_utc, float(t.close_profit or 0.0),
                         float(t.close_profit_abs or 0.0)) for t in closed],
            starting_balance_usd)
