"""The flagship's two-leg result: run the carry backtest, price the spot legs, print and report.

    python -m research.carry_report --demo        # make demo: backtest + the first screen
    python -m research.carry_report               # reports/carry.{json,md,png} + a ledger look
    options: --config config/carry.json --datadir DIR --pairs P.. --timerange A-B

freqtrade's own output (perp leg only, funding included) goes to ``reports/<stem>-freqtrade.log``
and is labelled as such; the first screen is both legs (``research.carry_result``) against
buy-and-hold and cash, with the random-direction null.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from centaur.report_files import write_report
from centaur.settings import settings_from
from research.carry_result import carry_result, load_candles
from research.evidence.ledger import Ledger, fingerprint
from research.report_options import (
    PROJECT_ROOT,
    add_data_options,
    config_with_data,
    data_options,
    read_config,
    require_data,
)
from strategies.carry_rule import RULE_VERSION

REPORTS = PROJECT_ROOT / "reports"
CARRY_CONFIG = "config/carry.json"
SUBJECT = "carry"


def run_backtest(config: dict[str, Any], timerange: str, log_path: Path) -> pd.DataFrame:
    """freqtrade backtesting of ``config`` in a subprocess; its exported trades."""
    from freqtrade.data.btanalysis import load_backtest_data

    with tempfile.TemporaryDirectory(prefix="centaur-carry-") as scratch:
        directory = Path(scratch)
        (directory / "results").mkdir()
        config_path = directory / "config.json"
        config_path.write_text(json.dumps(config))
        command = [str(Path(sys.executable).parent / "freqtrade"), "backtesting",
                   "-c", str(config_path), "--timerange", timerange, "--export", "trades",
                   "--backtest-directory", str(directory / "results"), "--breakdown", "month"]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            done = subprocess.run(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env=os.environ.copy(), check=False)
        if done.returncode != 0:
            tail = log_path.read_text().splitlines()[-25:]
            raise SystemExit(f"freqtrade backtesting failed (exit {done.returncode}); the end "
                             f"of {log_path}:\n" + "\n".join(tail))
        return load_backtest_data(directory / "results")


def window_of(options) -> str:
    """The ledger's name for the carry's out-of-sample window."""
    return f"{options.timerange} futures carry"


def designs_tried(ledger: Ledger, options, config: dict[str, Any]) -> int:
    """Carry designs looked at on this window, this one included: the deflated Sharpe's
    number of trials."""
    seen = {e["design"] for e in ledger.entries()
            if e["window"] == window_of(options) and e["subject"] == SUBJECT}
    return len(seen | {fingerprint(design_of(config))})


def look(config: dict[str, Any], options, log_path: Path, ledger: Ledger) -> dict[str, Any]:
    """Evaluate, deflated for every design tried on the window, and record the look."""
    report = evaluate(config, options, log_path, trials=designs_tried(ledger, options, config))
    legs = report["figures"]["two_legs"]
    ledger.record(SUBJECT, window_of(options), report["design"],
                  {k: legs[k] for k in ("sharpe", "return_ratio", "max_drawdown_ratio")})
    report["looks"] = [{"at": e["at"], "design": e["design"], "result": e["result"]}
                       for e in ledger.entries()
                       if e["window"] == window_of(options) and e["subject"] == SUBJECT]
    return report


def evaluate(config: dict[str, Any], options, log_path: Path, trials: int = 1
             ) -> dict[str, Any]:
    """Backtest the carry over the options' data and return the two-leg report."""
    require_data(options, kinds=("candles", "funding", "spot"))
    variant = config_with_data(config, options)
    trades = run_backtest(variant, options.timerange, log_path)
    candles = {pair: load_candles(options.datadir, pair, options.timeframe)
               for pair in options.pairs}
    settings = settings_from(variant).carry
    report = carry_result(trades, candles, settings, float(variant["dry_run_wallet"]),
                          options.start, options.stop, trials=trials)
    report["data"] = options.as_dict()
    report["design"] = design_of(variant)
    report["freqtrade_log"] = str(log_path.relative_to(PROJECT_ROOT)) \
        if log_path.is_relative_to(PROJECT_ROOT) else str(log_path)
    return report


def design_of(config: dict[str, Any]) -> dict[str, Any]:
    """What makes a carry design (the ledger's fingerprint): strategy, rule, costs."""
    settings = settings_from(config).carry
    return {"strategy": config["strategy"], "rule_version": RULE_VERSION,
            "carry": settings.model_dump(),
            "leverage": settings.leverage,
            "round_trip_cost_ratio": settings.round_trip_cost_ratio(),
            "entry_hurdle_per_settlement": settings.entry_hurdle_per_settlement()}


def first_screen(report: dict[str, Any]) -> list[str]:
    """What ``make demo`` prints: both legs against buy-and-hold and cash, then the costs."""
    f, data = report["figures"], report["data"]
    legs, held = f["two_legs"], report["buy_and_hold"]
    years = f["days"] / 365.0

    def row(name: str, m: dict[str, Any]) -> str:
        ci = m.get("sharpe_ci95") or [None, None]
        sharpe = "    -" if m.get("sharpe") is None else \
            f"{m['sharpe']:+5.2f} [{ci[0]:+.2f}, {ci[1]:+.2f}]"
        per_year = (m["return_ratio"] or 0.0) / years if years else 0.0
        return (f"  {name:<24} {m['return_ratio']:+8.2%} {per_year:+8.2%} "
                f"{m['max_drawdown_ratio']:7.2%}   {sharpe}")

    null = report.get("null_random_direction")
    dsr = legs["deflated_sharpe"]
    lines = [
        f"Centaur flagship: delta-neutral funding carry (short perp + long spot, both legs), "
        f"{len(data['pairs'])} pairs, {data['timerange']} ({f['days']} days), "
        f"capital {legs['start_equity']:,.0f} USDT",
        f"  {'':<24} {'return':>8} {'per year':>8} {'max DD':>7}   daily Sharpe [95 % CI]",
        row("carry, both legs", legs),
        row("buy-and-hold (spot)", held),
        f"  {'cash':<24} {0:+8.2%} {0:+8.2%} {0:7.2%}       -",
        f"  funding received {f['funding_received_usd']:+,.2f} USDT; fees "
        f"{f['perp_fees_usd'] + f['spot_fees_usd']:,.2f} (perp {f['perp_fees_usd']:,.2f}, "
        f"spot {f['spot_fees_usd']:,.2f}); perp leg {f['perp_leg_usd']:+,.2f}, spot leg "
        f"{f['spot_leg_usd']:+,.2f} USDT",
        f"  days in market {f['days_in_market']} of {f['days']}; {f['trades']} trades "
        f"(mean hold {f['mean_hold_days'] or 0:.1f} days), unhedged {f['unhedged_trades']}; "
        f"exits {f['exit_reasons']}",
        f"  deflated Sharpe {dsr['dsr']:.3f} after {dsr['trials']} configuration(s): "
        f"{'significant' if dsr['significant_5pct'] else 'not significant'} at 5 %",
    ]
    if null:
        lines.append(
            f"  null (same trades, random sides, same costs): {null['null_mean_return_ratio']:+.2%}"
            f" [{null['null_ci95'][0]:+.2%}, {null['null_ci95'][1]:+.2%}]; actual "
            f"{null['actual_return_ratio']:+.2%}, p = {null['p_value']:.4f}")
    lines.append("  verdict: " + verdict(report))
    lines += [
        "  directional signals: none enabled - none beat random directions out of sample "
        "after costs (make report-evidence, reports/evidence.md)",
        f"  freqtrade's own tables are the PERP LEG ONLY (funding included): "
        f"{report['freqtrade_log']}",
    ]
    return lines


GOAL_RETURN_PER_YEAR, GOAL_MAX_DRAWDOWN = 0.03, 0.02  # the flagship's stated goal


def goal(report: dict[str, Any]) -> dict[str, Any]:
    """Each part of the goal met or not: return per year, max drawdown, deflated Sharpe."""
    f = report["figures"]
    legs = f["two_legs"]
    parts = {"return_per_year": (f["return_per_year_ratio"] or 0.0) >= GOAL_RETURN_PER_YEAR,
             "max_drawdown": (legs["max_drawdown_ratio"] or 0.0) <= GOAL_MAX_DRAWDOWN,
             "deflated_sharpe": bool(legs["deflated_sharpe"]["significant_5pct"])}
    return {**parts, "met": all(parts.values()),
            "targets": {"return_per_year_ratio": GOAL_RETURN_PER_YEAR,
                        "max_drawdown_ratio": GOAL_MAX_DRAWDOWN},
            "designs_tried_on_window": legs["deflated_sharpe"]["trials"]}


def verdict(report: dict[str, Any]) -> str:
    """One sentence: the goal (return per year, drawdown, deflated Sharpe) met or not, and why."""
    f = report["figures"]
    legs = f["two_legs"]
    per_year, drawdown = f["return_per_year_ratio"] or 0.0, legs["max_drawdown_ratio"] or 0.0
    checked = goal(report)
    low, high = legs["sharpe_ci95"]
    misses = []
    if not checked["return_per_year"]:
        why = ""
        if f.get("funding_per_year_of_notional_ratio") is not None:
            why = (f" (funding paid {f['funding_per_year_of_notional_ratio']:.2%}/year of the "
                   f"notional held, and a unit of capital held "
                   f"{f['mean_notional_per_capital_ratio']:.2f} of notional on average: the "
                   "spot leg is fully paid and the perp needs margin)")
        misses.append(f"{per_year:+.2%}/year is below the {GOAL_RETURN_PER_YEAR:.0%} goal{why}")
    if not checked["max_drawdown"]:
        misses.append(f"max drawdown {drawdown:.2%} is above {GOAL_MAX_DRAWDOWN:.0%}")
    if not checked["deflated_sharpe"]:
        misses.append(f"the daily Sharpe's interval [{low:+.2f}, {high:+.2f}] "
                      + ("spans 0" if low is not None and low <= 0 else "is wide")
                      + " and the deflated Sharpe is not significant at 5 %")
    if not misses:
        return "goal met (return, drawdown and deflated Sharpe)."
    return "goal NOT met: " + "; ".join(misses) + "."


def markdown(report: dict[str, Any]) -> str:
    body = "\n".join(first_screen(report))
    return ("# The flagship's two-leg result (funding carry)\n\n"
            f"Generated {report['generated_at']} by `{report['command']}`.\n\n"
            f"```\n{body}\n```\n\n"
            f"Design: `{json.dumps(report['design'], sort_keys=True)}`\n\n"
            "Method: `research/carry_result.py` (daily marking of both legs, the spot legs "
            "priced like the backtest's simulated hedge, the random-direction null).\n"
            + looks_markdown(report.get("looks", [])))


def looks_markdown(looks: list[dict[str, Any]]) -> str:
    """Every look at this window (the ledger), so a changed design is never silent."""
    if not looks:
        return ""
    rows = [f"| {e['at']} | `{e['design']}` | {e['result'].get('return_ratio')} | "
            f"{e['result'].get('max_drawdown_ratio')} | {e['result'].get('sharpe')} | "
            f"{e['result'].get('note', '')} |" for e in looks]
    designs = len({e["design"] for e in looks})
    return ("\n## Looks at this window (`research/oos_ledger.jsonl`)\n\n"
            f"{len(looks)} look(s), {designs} design(s); the deflated Sharpe counts every "
            "design. A design changed after a look is biased towards this window: read its "
            "figures with that in mind.\n\n"
            "| at | design | return | max DD | daily Sharpe | note |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")


def plot(report: dict[str, Any], stem: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = report["curves"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    start = float(curves["two_legs"].iloc[0])
    ax.plot(curves["two_legs"].index, curves["two_legs"] / start - 1, label="carry, both legs")
    ax.plot(curves["buy_and_hold"].index, curves["buy_and_hold"] / start - 1,
            label="buy-and-hold (spot)", alpha=0.6)
    ax.axhline(0, color="grey", lw=0.8, label="cash")
    ax.set_ylabel("return on capital")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend()
    ax.set_title("Funding carry: both legs, daily marked")
    path = stem.with_suffix(".png")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def jsonable(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k != "curves"}
    out["curves"] = {name: {f"{d:%Y-%m-%d}": round(float(v), 2) for d, v in curve.items()}
                     for name, curve in report["curves"].items()}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=CARRY_CONFIG)
    add_data_options(parser)
    parser.add_argument("--demo", action="store_true",
                        help="print the first screen only (no report file, no ledger look)")
    parser.add_argument("--out", default=str(REPORTS / "carry"))
    parser.add_argument("--ledger", default=None)
    args = parser.parse_args(argv)
    config = read_config(args.config)
    options = data_options(args, config, timerange=config.get("timerange"))
    stem = Path(args.out)
    started = time.monotonic()
    log_path = stem.parent / f"{stem.name}-freqtrade.log"
    ledger = Ledger(Path(args.ledger)) if args.ledger else Ledger()
    report = evaluate(config, options, log_path, trials=designs_tried(ledger, options, config)) \
        if args.demo else look(config, options, log_path, ledger)
    report["generated_at"] = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
    report["command"] = "python -m research.carry_report " + " ".join(argv or sys.argv[1:])
    print("\n".join(first_screen(report)))
    if args.demo:
        print(f"  ({time.monotonic() - started:.0f} s)")
        return
    write_report(stem, jsonable(report), markdown(report))
    print(f"wrote {stem}.json, {stem}.md and {plot(report, stem)}")


if __name__ == "__main__":
    main()
