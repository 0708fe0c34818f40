"""Risk report: the flagship over a real crash, with the risk layer on and off.

    python -m research.risk_report [--timerange 20250101-20260219]   (make report-risk)

Runs ``freqtrade backtesting`` twice on the same config, pairs and period - the period holds
the 10 October 2025 liquidation cascade - once with ``centaur.risk.enabled`` and once without,
and reads freqtrade's own trade exports: return, maximum drawdown, and for every kill-switch
breach its time, the positions it closed, the entries between the breach and the lock's end
(there must be none) and the first entry after it. Writes reports/risk.json and risk.md.
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
    lines += ["", "## Exit reasons", "", f"- layer on: {on['exit_reasons']}",
              f"- layer off: {off['exit_reasons']}", "",
              "Layer off = the signal core alone: the config's fixed stake, fixed 2x leverage "
              "and its own 2 % price stop; no sizing, caps, breakers, kill switches, dynamic "
              "leverage, chandelier, time exit or take-profit ladder."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timerange", default="20250101-20260219",
                        help="default: the whole shared futures year, crashes included "
                             "(2025-04-07, the 2025-10-10 cascade)")
    parser.add_argument("--config", default="config/backtest.json")
    args = parser.parse_args()
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_pair_of_backtests(config, args.timerange, Path(tmp))
    report = {
        "strategy": STRATEGY,
        "timerange": args.timerange,
        "pairs": config["exchange"]["pair_whitelist"],
        "layer_on": summary(runs["on"].stats),
        "layer_off": summary(runs["off"].stats),
        "breaches": breach_events(runs["on"].stats),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(markdown(report))
    write_report(REPORTS / "risk", report, markdown(report))


if __name__ == "__main__":
    main()
