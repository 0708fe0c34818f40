"""Pure measurements for the counterfactual report, from freqtrade trade exports and the record.

- R: a trade's planned risk is ``stake x leverage x hard_stop_ratio`` (the loss at the risk
  layer's hard stop, a price move); its R multiple is ``profit_abs / R``. Freqtrade's profits
  are after fees and funding, so every figure here is too.
- A trade is *vetoed* when the veto-off run opened it and the veto-on run's decision for the
  same candidate (pair, side, entry candle) denied it. Its return is the off run's.
- An intervention's effect: trades opened inside its window (and on its pair, if it names
  one) with the breaker on against the same window without it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from centaur.decision import ReasonCode
from llm_layer.verdict import FAILURE_CODES

Candidate = tuple[str, str, datetime]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def candidate_of(trade: dict[str, Any]) -> Candidate:
    return (trade["pair"], "short" if trade["is_short"] else "long", _time(trade["open_date"]))


def r_multiple(trade: dict[str, Any], hard_stop_ratio: float) -> float:
    risk = float(trade["stake_amount"]) * float(trade.get("leverage") or 1.0) * hard_stop_ratio
    return float(trade["profit_abs"]) / risk if risk > 0 else 0.0


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def trade_summary(trades: Sequence[dict[str, Any]], hard_stop_ratio: float) -> dict[str, Any]:
    profits = [float(t["profit_abs"]) for t in trades]
    wins = [p for p in profits if p > 0]
    losses = [-p for p in profits if p < 0]
    r_values = [r_multiple(t, hard_stop_ratio) for t in trades]
    return {
        "trades": len(trades),
        "profit_usd": round(sum(profits), 2),
        "win_rate": round(len(wins) / len(trades), 4) if trades else None,
        "expectancy_r": _mean(r_values),
        # the noise around it: a mean R within about 2 standard errors of 0 is no evidence
        "expectancy_r_stderr": round(float(np.std(r_values, ddof=1) / math.sqrt(len(r_values))),
                                     4) if len(r_values) > 1 else None,
        "mean_profit_ratio": _mean([float(t["profit_ratio"]) for t in trades]),
        "profit_factor": round(sum(wins) / sum(losses), 3) if losses else None,
    }


def run_summary(stats: dict[str, Any], hard_stop_ratio: float) -> dict[str, Any]:
    return {**trade_summary(stats["trades"], hard_stop_ratio),
            "max_drawdown_account_ratio": round(float(stats.get("max_drawdown_account", 0.0)), 4),
            "max_drawdown_usd": round(float(stats.get("max_drawdown_abs", 0.0)), 2),
            "final_balance_usd": round(float(stats["final_balance"]), 2)}


def denied_candidates(decisions: Iterable[dict[str, Any]]) -> set[Candidate]:
    return {(d["pair"], d["side"], _time(d["decided_at"])) for d in decisions
            if d["allowed"] == 0 and d["decided_at"]}


def vetoed_trades(off_trades: Sequence[dict[str, Any]],
                  on_decisions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    denied = denied_candidates(on_decisions)
    return [t for t in off_trades if candidate_of(t) in denied]


def decision_rates(decisions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    codes = Counter(d["reason_code"] for d in decisions)
    total = len(decisions)
    failures = sum(n for code, n in codes.items() if code in {str(c) for c in FAILURE_CODES})

    def share(count: int) -> float | None:
        return round(count / total, 4) if total else None

    return {"consulted": total, "by_reason": dict(sorted(codes.items())),
            "abstain_rate": share(codes[str(ReasonCode.LLM_SKIP)]),
            "reduce_rate": share(codes[str(ReasonCode.LLM_REDUCE)]),
            "failure_rate": share(failures),
            "replay_misses": codes[str(ReasonCode.LLM_REPLAY_MISS)]}


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95)) -> dict[str, Any]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {f"p{p}": None for p in points} | {"n": 0}
    return {f"p{p}": round(float(np.percentile(finite, p)), 1) for p in points} | {
        "max": round(max(finite), 1), "n": len(finite)}


def same_trades(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> bool:
    """Identical trade lists (entries, exits, amounts, profits)."""
    fields = ("pair", "is_short", "open_date", "close_date", "amount", "open_rate",
              "close_rate", "profit_abs", "exit_reason")
    return [tuple(t[f] for f in fields) for t in a] == [tuple(t[f] for f in fields) for t in b]


def intervention_effects(actions: Sequence[dict[str, Any]], on_trades: Sequence[dict[str, Any]],
                         off_trades: Sequence[dict[str, Any]], hard_stop_ratio: float
                         ) -> list[dict[str, Any]]:
    """For each accepted breaker action, the trades of its window with and without it."""
    effects = []
    for action in actions:
        detail = json.loads(action["detail"])
        start = _time(action["decided_at"])
        end = start + timedelta(hours=detail["hours"] or 0)

        def inside(trade: dict[str, Any]) -> bool:
            return (start <= _time(trade["open_date"]) < end
                    and detail["pair"] in (None, trade["pair"]))

        with_it = trade_summary([t for t in on_trades if inside(t)], hard_stop_ratio)
        without = trade_summary([t for t in off_trades if inside(t)], hard_stop_ratio)
        change = round(with_it["profit_usd"] - without["profit_usd"], 2)
        effects.append({"tool": detail["tool"], "pair": detail["pair"], "value": detail["value"],
                        "from": start.isoformat(), "hours": detail["hours"],
                        "with_intervention": with_it, "without": without,
                        "profit_change_usd": change})
    return effects
