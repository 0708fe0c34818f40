"""Signals report: the flagship's ensemble out of sample, attributed to its signals, against
its best single signal - after fees and funding, on the shared futures data.

    python -m research.signals_report [--in-sample 20250101-20250701] \\
        [--out-of-sample 20250701-20260219] [--epochs 24] [--hyperopt-jobs 2] [--jobs 2]
        [--datadir D] [--pairs P ...] [--timeframe 5m] [--timerange A-B]
                                                                     (make report-signals)

``--timerange`` (when the two windows are not given) splits at its middle day: in sample the
first half, out of sample the second. The data options default to the config's.

1. Walk-forward (``strategies.walk_forward``): hyperopt of the signal and ensemble parameters
   over the in-sample window only; backtests with the best parameters in and out of sample;
   OOS/IS Sharpe verdict.
2. The same parameters, one signal at a time ("an ensemble of one": the same tracker, risk
   layer and exits, ``centaur.ensemble.signals = [name]``), in and out of sample.
3. The best single signal is chosen by its *in-sample* Sharpe; the ensemble and that signal
   are compared out of sample (the best in hindsight is shown too, marked as such).
4. The ensemble's out-of-sample trades attributed by ``enter_tag``: per signal, per voter
   combination and per exit reason (trades, win rate, profit, expectancy in R).

Nothing is tuned on the out-of-sample window. Writes reports/signals.json and signals.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT
from centaur.report_files import write_report
from centaur.settings import settings_from
from research import attribution
from research.report_options import (
    add_data_options,
    config_with_data,
    data_options,
    require_data,
)
from research.walk_forward import Search, Workspace, backtest, headline, walk_forward
from strategies.signals import REGISTRY

REPORTS = PROJECT_ROOT / "reports"
DEFAULT_IN_SAMPLE, DEFAULT_OUT_OF_SAMPLE = "20250101-20250701", "20250701-20260219"


def tradeable_signals() -> tuple[list[str], dict[str, str]]:
    """The signals that can vote in the flagship today, and why the others cannot."""
    from strategies.CentaurEnsemble import CentaurEnsemble

    models_wired = CentaurEnsemble.uses_models
    skipped = {} if models_wired else {
        "ranker": "abstains: the flagship has no models layer yet (no ranker_rank column)"}
    return [name for name in REGISTRY if name not in skipped], skipped


def single_signal_runs(workspace: Workspace, names: list[str], windows: dict[str, str],
                       jobs: int) -> dict[str, dict[str, Any]]:
    jobs_list = [(name, label, timerange) for name in names
                 for label, timerange in windows.items()]
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        results = pool.map(lambda job: headline(backtest(
            workspace, job[2], f"single-{job[0]}-{job[1]}", {"signals": [job[0]]})), jobs_list)
    runs: dict[str, dict[str, Any]] = {name: {} for name in names}
    for (name, label, _), result in zip(jobs_list, results, strict=True):
        runs[name][label] = result
    return runs


def comparison(ensemble_oos: dict[str, Any], singles: dict[str, dict[str, Any]],
               min_trades: int) -> dict[str, Any]:
    """The ensemble against the single signal with the best in-sample Sharpe, out of sample."""
    eligible = {n: r for n, r in singles.items() if r["in_sample"]["trades"] >= min_trades}
    if not eligible:
        return {"best_by_in_sample": None, "note": f"no single signal made {min_trades} "
                                                   "trades in sample"}
    chosen = max(eligible, key=lambda n: eligible[n]["in_sample"]["sharpe"])
    hindsight = max(singles, key=lambda n: singles[n]["out_of_sample"]["sharpe"])
    oos = singles[chosen]["out_of_sample"]
    return {
        "best_by_in_sample": chosen,
        "ensemble_oos": ensemble_oos, "single_oos": oos,
        "sharpe_difference": round(ensemble_oos["sharpe"] - oos["sharpe"], 3),
        "return_difference": round(ensemble_oos["return_ratio"] - oos["return_ratio"], 4),
        "ensemble_wins": ensemble_oos["sharpe"] > oos["sharpe"],
        "best_in_hindsight_oos": hindsight,
    }


def build(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    names, skipped = tradeable_signals()
    windows = {"in_sample": args.in_sample, "out_of_sample": args.out_of_sample}
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace.create(Path(tmp), _data_config(args, Path(tmp)))
        search = Search(args.epochs, args.hyperopt_jobs, args.seed, args.min_trades)
        walk = walk_forward(workspace, args.in_sample, args.out_of_sample, search)
        singles = single_signal_runs(workspace, names, windows, args.jobs)
    trades = walk.out_of_sample_stats["trades"]
    stop_ratio = settings_from(workspace.config).risk.stops.hard_stop_ratio
    return {
        "strategy": "CentaurEnsemble",
        "pairs": workspace.config["exchange"]["pair_whitelist"],
        "windows": windows,
        "walk_forward": walk.report,
        "ensemble_vs_best_single": comparison(walk.report["out_of_sample"], singles,
                                              args.min_trades),
        "single_signals": singles,
        "skipped_signals": skipped,
        "attribution_oos": {"by_signal": attribution.by_signal(trades, stop_ratio),
                            "by_tag": attribution.by_tag(trades, stop_ratio),
                            "by_exit": attribution.by_exit(trades, stop_ratio),
                            "total": attribution.summarise(trades, stop_ratio),
                            "one_r": f"notional x {stop_ratio} (the hard stop)"},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runtime_secs": round(time.monotonic() - started),
    }


def _table(rows: dict[str, dict[str, Any]], columns: tuple[str, ...], key: str) -> list[str]:
    lines = [f"| {key} | " + " | ".join(columns) + " |",
             "|---|" + "---|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(str(row.get(c)) for c in columns) + " |"
              for name, row in rows.items()]
    return lines


def markdown(report: dict[str, Any]) -> str:
    walk, vs = report["walk_forward"], report["ensemble_vs_best_single"]
    is_, oos, verdict = walk["in_sample"], walk["out_of_sample"], walk["verdict"]
    attr = report["attribution_oos"]
    columns = ("trades", "win_rate", "profit_usd", "mean_profit_ratio", "expectancy_r",
               "funding_usd")
    singles = {n: {f"IS {k}": r["in_sample"][k] for k in ("trades", "sharpe", "return_ratio")}
               | {f"OOS {k}": r["out_of_sample"][k] for k in ("trades", "sharpe", "return_ratio",
                                                              "max_drawdown_ratio")}
               for n, r in report["single_signals"].items()}
    single_columns = tuple(next(iter(singles.values())).keys()) if singles else ()
    lines = [
        "# Signals report: the flagship ensemble, out of sample", "",
        f"Pairs {', '.join(report['pairs'])}; USDT-M perpetuals, 5m, fees and funding "
        f"charged. In sample {report['windows']['in_sample']} (hyperopt only), out of sample "
        f"{report['windows']['out_of_sample']}. Produced by `make report-signals` in "
        f"{report['runtime_secs']} s. Backtests run with the whole stack, the FreqAI ranker "
        "included (its models trained walk-forward once, then shared by every run); the "
        "in-sample hyperopt runs without it, because freqtrade refuses --analyze-per-epoch "
        "for a FreqAI strategy.", "",
        "## Walk-forward", "",
        "| | in sample | out of sample |", "|---|---|---|",
        *(f"| {k} | {is_[k]} | {oos[k]} |" for k in
          ("trades", "sharpe", "return_ratio", "return_before_fees_ratio", "max_drawdown_ratio",
           "fees_usd", "funding_fees_usd", "halts")), "",
        f"OOS/IS Sharpe: {verdict['oos_to_is_ratio']}. **Verdict: "
        f"{'fit' if verdict['fit'] else 'UNFIT'}** - {verdict['reason']} ({walk['rule']}).", "",
        "## Ensemble vs its best single signal (out of sample)", ""]
    if vs.get("best_by_in_sample"):
        lines += [f"Best single signal by in-sample Sharpe: **{vs['best_by_in_sample']}**. "
                  f"Out of sample: ensemble Sharpe {vs['ensemble_oos']['sharpe']} vs "
                  f"{vs['single_oos']['sharpe']}, return {vs['ensemble_oos']['return_ratio']} "
                  f"vs {vs['single_oos']['return_ratio']} ({vs['ensemble_oos']['trades']} vs "
                  f"{vs['single_oos']['trades']} trades) - the ensemble "
                  f"{'beats' if vs['ensemble_wins'] else 'does not beat'} it. (Best single "
                  f"in hindsight, out of sample: {vs['best_in_hindsight_oos']}.)", ""]
    else:
        lines += [vs["note"], ""]
    lines += ["Each single signal runs as an ensemble of one: the same parameters, tracker, "
              "risk layer and exits.", "", *_table(singles, single_columns, "signal"), ""]
    for name, why in report["skipped_signals"].items():
        lines.append(f"- `{name}` {why}.")
    lines += ["", "## Attribution of the ensemble's out-of-sample trades", "",
              "A trade counts for every signal that voted for it (its `enter_tag`); "
              f"expectancy in R = mean profit / R, 1 R = {attr['one_r']}.", "",
              *_table(attr["by_signal"], columns, "signal"), "",
              *_table({"all trades": attr["total"]}, columns, ""), "",
              "### By voter combination", "", *_table(attr["by_tag"], columns, "enter_tag"),
              "", "### By exit reason", "", *_table(attr["by_exit"], columns, "exit_reason"),
              "", f"Parameters (from the in-sample hyperopt): "
              f"`{json.dumps(walk['params'], sort_keys=True)}`", ""]
    return "\n".join(lines)


def _data_config(args: argparse.Namespace, folder: Path) -> Path:
    """The config with the data options applied (``config_with_data``), checked first."""
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    options = data_options(args, config, f"{args.in_sample.split('-')[0]}-"
                                         f"{args.out_of_sample.split('-')[1]}")
    require_data(options, ("candles", "funding", "mark"))
    path = folder / "data-config.json"
    path.write_text(json.dumps(config_with_data(config, options), indent=2))
    return path


def _split_windows(args: argparse.Namespace) -> None:
    """In and out of sample from ``--timerange`` when not given; else the 2025 defaults."""
    if args.timerange and not (args.in_sample or args.out_of_sample):
        start, stop = (datetime.strptime(d, "%Y%m%d") for d in args.timerange.split("-"))
        middle = start + (stop - start) / 2
        args.in_sample = f"{start:%Y%m%d}-{middle:%Y%m%d}"
        args.out_of_sample = f"{middle:%Y%m%d}-{stop:%Y%m%d}"
    args.in_sample = args.in_sample or DEFAULT_IN_SAMPLE
    args.out_of_sample = args.out_of_sample or DEFAULT_OUT_OF_SAMPLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-sample", default=None, help=f"default {DEFAULT_IN_SAMPLE}")
    parser.add_argument("--out-of-sample", default=None,
                        help=f"default {DEFAULT_OUT_OF_SAMPLE}")
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--hyperopt-jobs", type=int, default=2,
                        help="hyperopt worker processes (1: no worker processes)")
    parser.add_argument("--jobs", type=int, default=2, help="backtests run side by side")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--min-trades", type=int, default=10)
    parser.add_argument("--config", default="config/backtest.json")
    parser.add_argument("--output", default=str(REPORTS / "signals"))
    add_data_options(parser, "YYYYMMDD-YYYYMMDD split at its middle day into the in- and "
                             "out-of-sample windows (when those are not given)")
    args = parser.parse_args()
    _split_windows(args)
    report = build(args)
    print(markdown(report))
    write_report(Path(args.output), report, markdown(report))


if __name__ == "__main__":
    main()
