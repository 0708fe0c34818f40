"""Pure measurements for the counterfactual report, from freqtrade trade exports and the record.

- R: a trade's planned risk is its *initial* notional x ``hard_stop_ratio`` (the loss at the
  risk layer's hard stop, a price move), the notional being the first filled entry order's
  ``amount x safe_price`` (``initial_notional``). Freqtrade's ``stake_amount`` is what is left
  after partial exits (a take-profit rung halves it), so R on it inflates winners up to 2x.
  Its R multiple is ``profit_abs / R``. Freqtrade's profits are after fees and funding, so
  every figure here is too.
- On minus off: the two runs' trades paired by (pair, side, open time); a trade only one run
  opened counts 0 R on the other side. The mean difference in R per paired trade comes with a
  paired bootstrap standard error and 95 % interval (``evidence.stats``).
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
from research.evidence.stats import paired_bootstrap_difference

Candidate = tuple[str, str, datetime]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def candidate_of(trade: dict[str, Any]) -> Candidate:
    return (trade["pair"], "short" if trade["is_short"] else "long", _time(trade["open_date"]))


def initial_notional(trade: dict[str, Any]) -> float:
    """The first filled entry's amount x price; without orders, the largest stake x leverage
    (``max_stake_amount`` is the stake before any exit)."""
    entries = [o for o in trade.get("orders") or [] if o.get("ft_is_entry")
               and o.get("order_filled_timestamp") and o.get("amount")]
    if entries:
        first = min(entries, key=lambda o: o["order_filled_timestamp"])
        return float(first["amount"]) * float(first["safe_price"])
    stake = trade.get("max_stake_amount") or trade["stake_amount"]
    return float(stake) * float(trade.get("leverage") or 1.0)


def r_multiple(trade: dict[str, Any], hard_stop_ratio: float) -> float:
    risk = initial_notional(trade) * hard_stop_ratio
    return float(trade["profit_abs"]) / risk if risk > 0 else 0.0


def paired_r(on_trades: Sequence[dict[str, Any]], off_trades: Sequence[dict[str, Any]],
             hard_stop_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """R of each (pair, side, open time) in either run; 0 where that run has no such trade."""
    on = {candidate_of(t): r_multiple(t, hard_stop_ratio) for t in on_trades}
    off = {candidate_of(t): r_multiple(t, hard_stop_ratio) for t in off_trades}
    keys = sorted(on.keys() | off.keys())
    return (np.array([on.get(k, 0.0) for k in keys], dtype=float),
            np.array([off.get(k, 0.0) for k in keys], dtype=float))


def on_minus_off(on_trades: Sequence[dict[str, Any]], off_trades: Sequence[dict[str, Any]],
                 hard_stop_ratio: float) -> dict[str, Any]:
    """Mean R difference per paired trade, with its paired bootstrap standard error."""
    on, off = paired_r(on_trades, off_trades, hard_stop_ratio)
    difference = paired_bootstrap_difference(on, off)
    on_keys = {candidate_of(t) for t in on_trades}
    off_keys = {candidate_of(t) for t in off_trades}
    return {**{k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else
                   (None if isinstance(v, float) else v)) for k, v in difference.items()},
            "total_r_difference": round(float(on.sum() - off.sum()), 4),
            # the interval of the total: the per-pair interval times the pairs
            "total_lower": _scaled(difference["lower"], len(on)),
            "total_upper": _scaled(difference["upper"], len(on)),
            "in_both": len(on_keys & off_keys), "only_on": len(on_keys - off_keys),
            "only_off": len(off_keys - on_keys),
            "pairing": "trades paired by (pair, side, open time); a trade only one run opened "
                       "counts 0 R on the other side"}


def _scaled(value: float, pairs: int) -> float | None:
    return round(value * pairs, 4) if math.isfinite(value) else None


def null_comparison(effect: float | None, null_effects: Sequence[float]) -> dict[str, Any]:
    """The arm's total R difference against the random vetoes' (same skip rate, one per seed):
    where it falls in that distribution and the share of random vetoes that did at least as
    well (an empirical one-sided p-value with the +1 correction, ``(k + 1) / (n + 1)``)."""
    values = [v for v in null_effects if v is not None]
    if effect is None or not values:
        return {"seeds": len(values), "effect": effect, "null_mean": None, "null_sd": None,
                "null_min": None, "null_max": None, "share_at_least_as_good": None,
                "p_value": None}
    at_least = sum(1 for v in values if v >= effect)
    return {"seeds": len(values), "effect": effect,
            "null_mean": round(float(np.mean(values)), 4),
            "null_sd": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else None,
            "null_min": round(min(values), 4), "null_max": round(max(values), 4),
            "share_at_least_as_good": round(at_least / len(values), 4),
            "p_value": round((at_least + 1) / (len(values) + 1), 4)}


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
