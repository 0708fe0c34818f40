"""Degradation episodes of a backtest, as the circuit breaker defines degradation.

An *episode* is a maximal stretch of the veto-off run during which the breaker's own triggers
(``llm_layer.circuit_breaker.triggers`` on ``performance_report``: rolling win rate, drawdown
from the closed-equity peak, losses in a row, with the breaker's settings) are on, evaluated
after each trade close. It starts at the close that first trips a trigger and ends at the first
close after which none is on (or at the end of the run, ``end = None``).

For each episode, the breaker arm's answer is what it recorded inside the episode (tools,
``no_action`` included), and its effect is the counterfactual of no action: the breaker run's
trades opened inside the episode against the veto-off run's, in R on the initial stake, paired
as in ``on_minus_off`` (a trade one run lacks counts 0 R there).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from centaur.settings.llm import BreakerSettings
from llm_layer.circuit_breaker import TradeOutcome, performance_report, triggers
from research import llm_report_metrics as rm


@dataclass(frozen=True)
class Episode:
    start: datetime
    end: datetime | None
    triggers: tuple[str, ...]  # the triggers seen during the episode (first wording of each)
    closes: int  # trade closes inside it


def _kind(trigger: str) -> str:
    """"win rate 35% ..." -> win rate, "drawdown 16.0% ..." -> drawdown, "5 consecutive ..." ->
    consecutive losses."""
    if trigger.startswith("win rate"):
        return "win rate"
    return "drawdown" if trigger.startswith("drawdown") else "consecutive losses"


def _outcome(trade: dict[str, Any]) -> TradeOutcome:
    return TradeOutcome(trade["pair"], bool(trade["is_short"]), rm._time(trade["close_date"]),
                        float(trade["profit_ratio"]), float(trade["profit_abs"]))


def episodes(trades: Sequence[dict[str, Any]], starting_balance: float,
             settings: BreakerSettings) -> list[Episode]:
    outcomes = sorted((_outcome(t) for t in trades), key=lambda o: o.closed_at)
    found: list[Episode] = []
    start, seen, closes = None, {}, 0
    for i, outcome in enumerate(outcomes):
        report = performance_report(outcomes[:i + 1], starting_balance, outcome.closed_at,
                                    settings)
        on = triggers(report, settings)
        if on:
            if start is None:
                start, seen, closes = outcome.closed_at, {}, 0
            closes += 1
            for text in on:
                seen.setdefault(_kind(text), text)
        elif start is not None:
            found.append(Episode(start, outcome.closed_at, tuple(seen.values()), closes))
            start = None
    if start is not None:
        found.append(Episode(start, None, tuple(seen.values()), closes))
    return found


def _inside(trade: dict[str, Any], episode: Episode) -> bool:
    opened = rm._time(trade["open_date"])
    return opened >= episode.start and (episode.end is None or opened < episode.end)


def episode_effects(found: Sequence[Episode], breaker_rows: Sequence[dict[str, Any]],
                    breaker_trades: Sequence[dict[str, Any]],
                    off_trades: Sequence[dict[str, Any]], hard_stop_ratio: float
                    ) -> list[dict[str, Any]]:
    """Per episode: what the breaker answered inside it and its R against no action."""
    effects = []
    for episode in found:
        rows = [r for r in breaker_rows if r["decided_at"]
                and rm._time(r["decided_at"]) >= episode.start
                and (episode.end is None or rm._time(r["decided_at"]) < episode.end)]
        tools = [json.loads(r["detail"]).get("tool") for r in rows
                 if r["reason_code"] == "BREAKER_ACTION_ACCEPTED"]
        with_it = [t for t in breaker_trades if _inside(t, episode)]
        without = [t for t in off_trades if _inside(t, episode)]
        on, off = rm.paired_r(with_it, without, hard_stop_ratio)
        effects.append({
            "start": episode.start.isoformat(),
            "end": episode.end.isoformat() if episode.end else None,
            "triggers": list(episode.triggers), "closes": episode.closes,
            "breaker_consultations": len({r["key"] for r in rows}),
            "breaker_tools": tools,
            "rejected": sum(1 for r in rows if r["reason_code"] == "BREAKER_ACTION_REJECTED"),
            "trades_with_breaker": len(with_it), "trades_without": len(without),
            "r_with_breaker": round(float(on.sum()), 4), "r_without": round(float(off.sum()), 4),
            "r_difference": round(float(on.sum() - off.sum()), 4)})
    return effects
