"""Risk report: the flagship over a real crash, with the risk layer on and off.

    python -m research.risk_report [--timerange 20250101-20260219] [--pairs P ...]
                                   [--datadir D] [--timeframe 5m]   (make report-risk)

Runs ``freqtrade backtesting`` twice on the same config, pairs and period - the period holds
the 10 October 2025 liquidation cascade - once with ``centaur.risk.enabled`` and once without,
and reads freqtrade's own trade exports: return, maximum drawdown, and for every kill-switch
breach its time, the positions it closed, the entries between the breach and the lock's end
(there must be none) and the first entry after it. Writes reports/risk.json and risk.md.
The data options default to the config's (``report_options``); the timerange to the span the
candles cover, which holds the 2025-04-07 and 2025-10-10 crashes on the shared data. Candles,
funding and mark prices are checked before the runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, TimedBacktest, timed_backtest
from centaur.report_files import write_report
from centaur.settings import settings_from
from research.report_options import (
    add_data_options,
    config_with_data,
    data_options,
    require_data,
)

REPORTS = PROJECT_ROOT / "reports"
STRATEGY = "CentaurEnsemble"
BREACH_CODES = ("[DAILY_DRAWDOWN]", "[MAX_DRAWDOWN]", "[KILL_SWITCH]", "[EXCHANGE_ERROR_RATE]")


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def summary(stats: dict[str, Any]) -> dict[str, Any]:
    trades = stats["trades"]
    return {
        "trades": len(trades),
        "return_ratio": round(stats["profit_total"], 4),
        "final_balance_usd": round(stats["final_balance"], 2),
        "max_drawdown_ratio": round(stats["max_drawdown_account"], 4),
        "max_drawdown_abs_usd": round(stats["max_drawdown_abs"], 2),
        "win_rate": round(stats["winrate"], 4),
        "profit_factor": round(stats["profit_factor"], 3),
        "funding_fees_usd": round(sum(t["funding_fees"] for t in trades), 2),
        "exit_reasons": dict(Counter(t["exit_reason"] for t in trades).most_common()),
    }


def breach_events(stats: dict[str, Any]) -> list[dict[str, Any]]:
    trades = stats["trades"]
    events = []
    for lock in sorted(stats["locks"], key=lambda lk: lk["lock_timestamp"]):
        if not lock["reason"].startswith(BREACH_CODES):
            continue
        start, end = lock["lock_timestamp"], lock["lock_end_timestamp"]
        closed = [t for t in trades if f"[{t['exit_reason']}]" in BREACH_CODES
                  and start <= t["close_timestamp"] <= start + 5 * 60_000]
        during = [t for t in trades if start <= t["open_timestamp"] < end]
        after = [t for t in trades if t["open_timestamp"] >= end]
        events.append({
            "reason": lock["reason"],
            "breach_at": _ts(start).isoformat(),
            "lock_ends_at": _ts(end).isoformat() if end < 4_000_000_000_000 else
            "operator resume",
            "positions_closed": [{"pair": t["pair"], "closed_at": t["close_date"],
                                  "exit_reason": t["exit_reason"],
                                  "profit_abs_usd": round(t["profit_abs"], 2)} for t in closed],
            "entries_before_lock_end": len(during),
            "first_entry_after_lock": min((t["open_date"] for t in after), default=None),
        })
    return events


def run_pair_of_backtests(config: dict[str, Any], timerange: str, work: Path
                          ) -> dict[str, TimedBacktest]:
    results = {}
    for label, enabled in (("on", True), ("off", False)):
        variant = copy.deepcopy(config)
        variant.setdefault("centaur", {}).setdefault("risk", {})["enabled"] = enabled
        path = work / f"config-risk-{label}.json"
        path.write_text(json.dumps(variant))
        results[label] = timed_backtest(path, strategy=STRATEGY,
                                        strategy_path=PROJECT_ROOT / "user_data" / "strategies",
                                        timerange=timerange, work_dir=work)
    return results


def markdown(report: dict[str, Any]) -> str:
    on, off = report["layer_on"], report["layer_off"]
    rows = ["| | layer on | layer off |", "|---|---|---|"]
    for key in ("trades", "return_ratio", "max_drawdown_ratio", "max_drawdown_abs_usd",
                "final_balance_usd", "win_rate", "profit_factor", "funding_fees_usd"):
        rows.append(f"| {key} | {on[key]} | {off[key]} |")
    lines = [f"# Risk layer on real crashes ({report['timerange']})", "",
             f"Strategy `{report['strategy']}`, pairs {', '.join(report['pairs'])}, fees and "
             "funding on. Produced by `make report-risk` from freqtrade's trade exports.", "",
             *rows, "", "## Kill-switch and breaker events (layer on)", ""]
    if not report["breaches"]:
        lines.append("No breach in this period.")
    for event in report["breaches"]:
        lines += [f"- **{event['reason']}** at {event['breach_at']}, lock ends "
                  f"{event['lock_ends_at']}: {len(event['positions_closed'])} position(s) "
                  f"closed at the breach, {event['entries_before_lock_end']} entries before the "
                  f"lock ended, first entry after: {event['first_entry_after_lock']}"]
    cap = report.get("position_cap")
    if cap:
        lines += ["", f"Trades sized at the per-position margin cap (from the export): "
                      f"{cap['position_cap_binding']} of {cap['trades']} "
                      f"({cap['position_cap_share']:.1%}). The engine counts every binding cap "
                      "exactly in the status (`sizing`) of a dry-run or live bot."]
    lines += ["", "## Exit reasons", "", f"- layer on: {on['exit_reasons']}",
              f"- layer off: {off['exit_reasons']}", "",
              "Layer off = the signal core alone: the config's fixed stake, fixed 2x leverage "
              "and its own 2 % price stop; no sizing, caps, breakers, kill switches, dynamic "
              "leverage, chandelier, time exit or take-profit ladder."]
    return "\n".join(lines) + "\n"


# --- cap binding (issue 13): how often each sizing cap decides the size -------------------------

def cap_binding(counts: dict[str, Any]) -> dict[str, Any]:
    """The risk engine's sizing counts (``status()["sizing"]``: decisions, ``risk_basis``,
    ``cap_binding``) with shares: of the basis over every sizing decision, of each binding cap
    over the decisions that reached the caps (``none``: no cap cut the size)."""
    decisions = int(counts.get("decisions", 0))
    binding = counts.get("cap_binding", {})
    reached = sum(binding.values())

    def shares(found: dict[str, int], total: int) -> dict[str, dict[str, float]]:
        return {name: {"decisions": n, "share": round(n / total, 4) if total else 0.0}
                for name, n in sorted(found.items(), key=lambda item: -item[1])}

    return {"decisions": decisions, "risk_basis": shares(counts.get("risk_basis", {}), decisions),
            "cap_binding": shares(binding, reached)}


def cap_binding_from_trades(stats: dict[str, Any], max_position_ratio: float,
                            tolerance_ratio: float = 0.02) -> dict[str, Any]:
    """From a backtest's trade export alone: the trades whose stake sat at the per-position
    margin cap (``caps.max_position_ratio`` x equity, within ``tolerance_ratio`` of it).

    Approximate: equity at the entry is the starting balance plus the profits of the trades
    closed by then (open positions' unrealised profit is not in the export), and the caps
    that do not show in the stake (risk per trade, volatility clamp) cannot be told apart -
    the engine's counts (``cap_binding``) are exact."""
    trades = sorted(stats["trades"], key=lambda t: t["open_timestamp"])
    closed = sorted((t["close_timestamp"], float(t["profit_abs"])) for t in trades)
    at_cap = 0
    for trade in trades:
        equity = float(stats["starting_balance"]) + sum(
            profit for close, profit in closed if close <= trade["open_timestamp"])
        cap_usd = equity * max_position_ratio
        stake = float(trade.get("max_stake_amount") or trade["stake_amount"])
        at_cap += abs(stake - cap_usd) <= tolerance_ratio * cap_usd
    return {"trades": len(trades), "position_cap_binding": at_cap,
            "position_cap_share": round(at_cap / len(trades), 4) if trades else 0.0}


def cap_binding_markdown(section: dict[str, Any]) -> list[str]:
    """The "cap binding" section of the report, from ``cap_binding``."""
    lines = ["## Cap binding (sizing decisions)", "",
             f"{section['decisions']} sizing decisions.", "",
             "| binding cap | decisions | share |", "|---|---|---|"]
    lines += [f"| {name} | {row['decisions']} | {row['share']:.1%} |"
              for name, row in section["cap_binding"].items()]
    lines += ["", "| risk basis | decisions | share |", "|---|---|---|"]
    lines += [f"| {name} | {row['decisions']} | {row['share']:.1%} |"
              for name, row in section["risk_basis"].items()]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config/backtest.json")
    add_data_options(parser)
    args = parser.parse_args(argv)
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    options = data_options(args, config)
    require_data(options, ("candles", "funding", "mark"))
    config = config_with_data(config, options)
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_pair_of_backtests(config, options.timerange, Path(tmp))
    report = {
        "strategy": STRATEGY,
        **options.as_dict(),
        "layer_on": summary(runs["on"].stats),
        "layer_off": summary(runs["off"].stats),
        "breaches": breach_events(runs["on"].stats),
        "position_cap": cap_binding_from_trades(
            runs["on"].stats, settings_from(config).risk.caps.max_position_ratio),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(markdown(report))
    write_report(REPORTS / "risk", report, markdown(report))


if __name__ == "__main__":
    main()
