"""The evidence report: what the suite may trade, decided against the null.

    python -m research.evidence_report [--config config/backtest.json] [--datadir DIR]
        [--pairs BTC/USDT:USDT ...] [--timeframe 5m] [--timerange 20250101-20260219]
        [--oos-start 20250701] [--second-config config/backtest-spot-2021.json]
        [--second-timerange 20211001-20220331] [--walk-forward] [--folds 6] [--epochs 8]
                                                                    (make report-evidence)

1. Signals. Each period's candles are analysed by the flagship in freqtrade's Backtesting
   (every signal on, FreqAI off: the ranker is judged by ``make report-models``). Every
   signal's calls are scored at its own horizon and at one day, against the same calls with
   random directions (exact null), after the tracker's round-trip cost. The out-of-sample
   record is the part of the first period after ``--oos-start`` (the signals' parameters were
   chosen before it) and the whole second period (never used for design), concatenated.
2. Verdict. A signal is an *edge* at a horizon when its out-of-sample excess hit rate is above
   zero at 5 % one-sided after a Bonferroni correction for every (signal, horizon) tried, and
   its mean net return after costs is positive. The default config trades only signals that
   pass; when none does, the flagship stays flat.
3. Flagship (``--walk-forward``): rolling purged folds, parameters chosen in sample per fold,
   out-of-sample pieces concatenated, daily-equity Sharpe with a bootstrap interval and the
   deflated Sharpe for every configuration tried (``research.evidence.walk_forward_runner``).
4. The ledger: every out-of-sample evaluation is appended to ``research/oos_ledger.jsonl``;
   the report prints how often each window has been looked at.

Writes reports/evidence.json, reports/evidence.md and reports/evidence_*.png (signals'
intervals; the flagship's out-of-sample equity). ``--recount`` re-renders the last report with
the ledger's current look counts (no evaluation: no new look).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from freqtrade.exchange import timeframe_to_seconds

from bench.common import PROJECT_ROOT
from centaur.report_files import write_report
from centaur.settings import settings_from
from research import carry_report
from research.evidence import signal_evidence as se
from research.evidence import stats
from research.evidence.ledger import Ledger
from research.news_sources import headline_set
from strategies.signals import REGISTRY

REPORTS = PROJECT_ROOT / "reports"
ONE_DAY_SECS = 86_400
WF_START_AFTER_DAYS = 40  # FreqAI's 30 training days and part of its first 14-day window
ALPHA_ONE_SIDED = 0.05


def period_config(config_file: Path, workdir: Path, datadir: str | None, pairs: list[str] | None,
                  timeframe: str | None, news: str = "none") -> dict[str, Any]:
    """A run config: the file's, every signal on, FreqAI off, the options applied; with
    a headline set (``research.news_sources``), its headlines scored into the candles' ``news_*``
    columns (published-time aligned) so the news signal is judged like any other."""
    config = json.loads(config_file.read_text())
    if news != "none":
        config.setdefault("centaur", {}).setdefault("llm", {})["news"] = {
            **headline_set(news), "sentiment": True}
    if datadir:
        config["datadir"] = datadir
    config["datadir"] = str((PROJECT_ROOT / config["datadir"]).resolve()) \
        if not Path(config["datadir"]).is_absolute() else config["datadir"]
    if pairs:
        config["exchange"]["pair_whitelist"] = pairs
    if timeframe:
        config["timeframe"] = timeframe
    if "freqai" in config:
        config["freqai"]["enabled"] = False
    ensemble = config.setdefault("centaur", {}).setdefault("ensemble", {})
    ensemble["signals"] = [n for n in REGISTRY if n != "ranker"]
    offline = config["centaur"].get("exchange", {}).get("offline_markets")
    if offline and not Path(offline["recordings_dir"]).is_absolute():
        offline["recordings_dir"] = str((PROJECT_ROOT / offline["recordings_dir"]).resolve())
    config["user_data_dir"] = str(workdir / "user_data")
    config["strategy_path"] = str(PROJECT_ROOT / "user_data" / "strategies")
    (workdir / "user_data").mkdir(parents=True, exist_ok=True)
    return config


def in_fresh_process(function, *args):
    """``function(*args)`` in a new interpreter: freqtrade keeps per-process state (strategy
    classes' informative decorators resolve their candle type once), so two periods of
    different trading modes cannot be analysed in one process."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def period_label(config: dict[str, Any]) -> str:
    """A period's name in the ledger: its market type and timeframe (e.g. ``futures 5m``)."""
    return f"{config.get('trading_mode', 'spot')} {config['timeframe']}"


def horizons_of(name: str, timeframe_secs: int) -> dict[str, int]:
    """The signal's own horizon and one day, in candles of the analysed timeframe."""
    signal = REGISTRY[name].signal
    own_secs = signal.horizon_at(300) * 300
    return {f"{own_secs // 3600}h": signal.horizon_at(timeframe_secs),
            "1d": max(ONE_DAY_SECS // timeframe_secs, 1)}


def period_calls(analysed: dict, names: list[str], timeframe_secs: int, cost: float
                 ) -> dict[str, dict[str, se.Calls]]:
    result: dict[str, dict[str, se.Calls]] = {}
    for name in names:
        result[name] = {}
        quiet = REGISTRY[name].signal.horizon_at(timeframe_secs)
        for label, candles in horizons_of(name, timeframe_secs).items():
            result[name][label] = se.Calls.concat([
                se.calls_of(frame, f"sig_{name}_direction", candles, quiet, timeframe_secs,
                            cost) for frame in analysed.values()])
    return result


def split_ns(day: str) -> int:
    return int(datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).timestamp()) * 10 ** 9


def verdicts(oos: dict[str, dict[str, se.Calls]], cost: float) -> dict[str, Any]:
    tests = sum(len(h) for h in oos.values())
    level = 1 - 2 * ALPHA_ONE_SIDED / max(tests, 1)  # two-sided level of a one-sided test
    out: dict[str, Any] = {"tests": tests, "alpha_one_sided": ALPHA_ONE_SIDED,
                           "correction": f"Bonferroni over {tests} (signal, horizon) tests",
                           "signals": {}}
    for name, by_horizon in oos.items():
        rows = {}
        for label, calls in by_horizon.items():
            row = se.summary(calls, cost, confidence_level=level)
            passed = bool(row.get("calls") and row["excess_hit_rate"]["lower"] > 0
                          and row["net_return_bps"]["mean"] > 0)
            rows[label] = {**row, "edge": passed}
        out["signals"][name] = {"horizons": rows,
                                "edge_at": [h for h, r in rows.items() if r["edge"]]}
    out["passing"] = [n for n, v in out["signals"].items() if v["edge_at"]]
    return out


def evaluate_period(label: str, config: dict, timerange: str, oos_start: str | None,
                    cost: float, span_secs: int) -> dict[str, Any]:
    started = time.monotonic()
    window_secs = settings_from(config).ensemble.tracker.window_days * ONE_DAY_SECS
    analysed = se.load_analysed(config, timerange)
    timeframe_secs = timeframe_to_seconds(config["timeframe"])
    names = config["centaur"]["ensemble"]["signals"]
    calls = period_calls(analysed, names, timeframe_secs, cost)
    cut = split_ns(oos_start) if oos_start else None
    parts: dict[str, Any] = {}
    for name, by_horizon in calls.items():
        parts[name] = {}
        for horizon, record in by_horizon.items():
            in_sample = record.where(record.call_at_ns < cut) if cut else None
            oos = record.where(record.call_at_ns >= cut) if cut else record
            parts[name][horizon] = {
                "in_sample": se.summary(in_sample, cost) if in_sample is not None else None,
                "out_of_sample": se.summary(oos, cost),
                "persistence": se.persistence(se.window_excess(record, cost, window_secs)),
                "tracker_power": se.tracker_power(record, cost, window_secs, span_secs)}
    oos_calls = {n: {h: (r.where(r.call_at_ns >= cut) if cut else r) for h, r in b.items()}
                 for n, b in calls.items()}
    return {"label": label, "pairs": sorted(analysed), "timeframe": config["timeframe"],
            "timerange": timerange, "out_of_sample_from": oos_start or timerange.split("-")[0],
            "signals": parts, "runtime_secs": round(time.monotonic() - started),
            "_oos_calls": oos_calls}


def _by_label(periods: list[dict[str, Any]], names: set[str]) -> dict[str, dict[str, se.Calls]]:
    """Out-of-sample calls of every period, per signal and horizon label (own horizon, 1d)."""
    out: dict[str, dict[str, se.Calls]] = {}
    for name in sorted(names, key=list(REGISTRY).index):
        out[name] = {}
        for period in periods:
            for horizon, record in period["_oos_calls"].get(name, {}).items():
                out[name].setdefault(horizon, []).append(record)
        out[name] = {h: se.Calls.concat(parts) for h, parts in out[name].items()}
    return out


def record_looks(ledger: Ledger, periods: list[dict[str, Any]],
                 cost: float) -> None:
    for period in periods:
        window = f"{period['out_of_sample_from']}-{period['timerange'].split('-')[1]}" \
            f" {period['label']}"
        for name, by_horizon in period["signals"].items():
            design = {"signal": name, "cost": cost, "timeframe": period["timeframe"],
                      "pairs": period["pairs"], "describe": REGISTRY[name].signal.__name__}
            result = {h: v["out_of_sample"].get("excess_hit_rate", {}).get("estimate")
                      for h, v in by_horizon.items()}
            ledger.record(f"signal:{name}", window, design, result)


def build(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    tracker = settings_from({}).ensemble.tracker
    cost = tracker.outcome_cost_ratio
    periods, skipped = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        first = period_config(PROJECT_ROOT / args.config, Path(tmp) / "first", args.datadir,
                              args.pairs, args.timeframe, args.news)
        start, end = args.timerange.split("-")
        span = (split_ns(end) - split_ns(start)) // 10 ** 9
        periods.append(in_fresh_process(evaluate_period, period_label(first), first,
                                        args.timerange, args.oos_start, cost, span))
        if args.second_config:
            try:
                second = period_config(PROJECT_ROOT / args.second_config, Path(tmp) / "second",
                                       args.second_datadir, args.second_pairs, None,
                                       args.second_news)
                s_start, s_end = args.second_timerange.split("-")
                periods.append(in_fresh_process(
                    evaluate_period, period_label(second), second, args.second_timerange, None,
                    cost,
                    (split_ns(s_end) - split_ns(s_start)) // 10 ** 9))
            except Exception as err:  # the period is reported as not run, with why
                skipped["second"] = f"{type(err).__name__}: {err}"
        verdict = verdicts(_by_label(periods, {n for p in periods for n in p["_oos_calls"]}),
                           cost)
        ledger = Ledger(Path(args.ledger)) if args.ledger else Ledger()
        record_looks(ledger, periods, cost)
        flagship = run_flagship(args, ledger) if args.walk_forward else None
        carry = run_carry(args, ledger) if args.carry_config else None
    for period in periods:
        period.pop("_oos_calls")
    return {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "cost_ratio": cost, "tracker_window_days": tracker.window_days,
            "periods": periods, "periods_not_run": skipped, "verdict": verdict,
            "flagship": flagship, "carry": carry, **look_counts(ledger),
            "runtime_secs": round(time.monotonic() - started)}


def run_carry(args: argparse.Namespace, ledger: Ledger) -> dict[str, Any]:
    """The carry flagship over the whole futures span (a fixed rule, nothing fitted: every day
    is out of sample until looked at), deflated for every carry design the ledger has seen on
    this window, and checked against the issue's goal."""
    config = carry_report.read_config(args.carry_config)
    options = carry_report.data_options(argparse.Namespace(
        datadir=args.datadir, pairs=args.carry_pairs, timeframe=None,
        timerange=args.timerange), config)
    log_path = Path(args.out).parent / f"{Path(args.out).name}-carry-freqtrade.log"
    report = carry_report.look(config, options, log_path, ledger)
    report["goal"] = carry_report.goal(report)
    report["screen"] = carry_report.first_screen(report)
    report.pop("curves")
    return report


def look_counts(ledger: Ledger) -> dict[str, Any]:
    """Per out-of-sample window: runs that looked at it, subjects, (subject, design) pairs."""
    looks = ledger.looks()
    return {"looks": dict(looks),
            "subjects_per_window": {w: ledger.subjects(w) for w in looks},
            "designs_per_window": {w: ledger.designs_seen(w) for w in looks}}


def run_flagship(args: argparse.Namespace, ledger: Ledger) -> dict[str, Any]:
    """The flagship's purged walk-forward on each period, and the verdict on the concatenated
    out-of-sample days of both (deflated for every epoch tried in every fold)."""
    from research.evidence import walk_forward_runner as runner

    periods = {"futures": runner.run_walk_forward(
        config_path=PROJECT_ROOT / args.config, datadir=args.datadir, pairs=args.pairs,
        timerange=args.wf_timerange, folds=args.folds, epochs=args.epochs, jobs=args.jobs,
        ledger=ledger, train_days=args.train_days)}
    if args.second_config:
        try:
            periods["spot"] = runner.run_walk_forward(
                config_path=PROJECT_ROOT / args.second_config, datadir=args.second_datadir,
                pairs=args.second_pairs, timerange=args.second_wf_timerange, folds=args.folds,
                epochs=args.epochs, jobs=args.jobs, ledger=ledger,
                train_days=args.second_train_days, strategy=args.second_strategy)
        except Exception as err:  # reported as not run, with why
            periods["spot"] = {"not_run": f"{type(err).__name__}: {err}"}
    return {"periods": periods, "combined": combined_verdict(periods)}


def combined_verdict(periods: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Daily Sharpe, its interval and the deflated Sharpe of every period's out-of-sample days
    joined (trials: every epoch of every fold; their variance: the epochs' pooled variance)."""
    ran = {k: p for k, p in periods.items() if "out_of_sample" in p}
    returns = np.concatenate([np.asarray(p["out_of_sample"].get("daily_returns", []))
                              for p in ran.values()]) if ran else np.empty(0)
    trials = sum(int(p["trials"]["epochs_evaluated"]) for p in ran.values())
    variances = [p["trials"]["daily_sharpe_variance"] for p in ran.values()
                 if p["trials"].get("daily_sharpe_variance") is not None]
    deflated = stats.deflated_sharpe(returns, max(trials, 1),
                                     float(np.mean(variances)) if variances else None)
    low, high = stats.bootstrap_interval(returns)
    return {"periods": list(ran), "days": len(returns), "trials": trials,
            "sharpe": round(stats.sharpe(returns), 4),
            "sharpe_ci95": [round(low, 4), round(high, 4)],
            "deflated_sharpe": deflated.as_dict(), "edge": bool(deflated.significant)}


def markdown(report: dict[str, Any]) -> str:
    verdict = report["verdict"]
    lines = ["# Evidence: what beats its random-direction null", "",
             f"Generated {report['generated_at']} in {report['runtime_secs']} s. Cost per call "
             f"{report['cost_ratio'] * 1e4:.0f} bp round trip. Excess hit rate = hit rate minus "
             "the same calls' hit rate with random directions (exact null).", ""]
    passing = verdict["passing"]
    lines += ["## Verdict", "",
              (f"Signals with an out-of-sample edge: {', '.join(passing)}." if passing else
               "**No signal has an out-of-sample edge over random after costs.** The "
               "flagship's default config trades nothing (`centaur.ensemble.signals: []`): "
               "it stays flat."),
              f"({verdict['correction']}, one-sided {verdict['alpha_one_sided']:.0%}.)", "",
              "| signal | horizon | OOS calls | moves | hit | null | excess [interval] | "
              "net bp/call [interval] | edge |", "|---|---|---|---|---|---|---|---|---|"]
    for name, row in verdict["signals"].items():
        for horizon, h in row["horizons"].items():
            if not h.get("calls"):
                lines.append(f"| {name} | {horizon} | 0 | | | | | | no |")
                continue
            e, n = h["excess_hit_rate"], h["net_return_bps"]
            lines.append(f"| {name} | {horizon} | {h['calls']} | {h['clusters']} | "
                         f"{h['hit_rate']:.1%} | {h['null_hit_rate']:.1%} | "
                         f"{e['estimate']:+.2%} [{e['lower']:+.2%}, {e['upper']:+.2%}] | "
                         f"{n['mean']:+.1f} [{n['lower']:+.1f}, {n['upper']:+.1f}] | "
                         f"{'yes' if h['edge'] else 'no'} |")
    for period in report["periods"]:
        lines += ["", f"## Period {period['label']}: {period['timerange']} "
                      f"({period['timeframe']}, {len(period['pairs'])} pairs, out of sample "
                      f"from {period['out_of_sample_from']})", "",
                  "| signal | horizon | IS excess | OOS excess | persistence r [interval] | "
                  "next after top third / overall | tracker MDE (moves/window) |",
                  "|---|---|---|---|---|---|---|"]
        for name, by_h in period["signals"].items():
            for horizon, v in by_h.items():
                ins = (v["in_sample"] or {}).get("excess_hit_rate", {}).get("estimate")
                oos = v["out_of_sample"].get("excess_hit_rate", {}).get("estimate")
                p, power = v["persistence"], v["tracker_power"]
                corr = (f"{p['correlation']:+.2f} [{p['correlation_interval'][0]:+.2f}, "
                        f"{p['correlation_interval'][1]:+.2f}]" if "correlation" in p
                        else p.get("note", ""))
                nxt = (f"{p['next_after_top_third']:+.3f} / {p['next_overall']:+.3f}"
                       if "correlation" in p else "")
                mde = (f"{power['minimum_detectable_excess']:.3f} "
                       f"({power['clusters_per_window']})" if power else "")
                lines.append(f"| {name} | {horizon} | {_pct(ins)} | {_pct(oos)} | {corr} | "
                             f"{nxt} | {mde} |")
    for label, why in report["periods_not_run"].items():
        lines += ["", f"Period {label} not run: {why}"]
    lines += carry_markdown(report.get("carry"))
    lines += flagship_markdown(report.get("flagship"))
    lines += ["", "## Looks at each out-of-sample window (research/oos_ledger.jsonl)", "",
              "| window | looks (runs) | subjects | subject designs |", "|---|---|---|---|"]
    subjects = report.get("subjects_per_window", {})
    lines += [f"| {w} | {n} | {subjects.get(w, '')} | {report['designs_per_window'][w]} |"
              for w, n in sorted(report["looks"].items())]
    return "\n".join(lines) + "\n"


def carry_markdown(carry: dict[str, Any] | None) -> list[str]:
    """The flagship: the funding carry, both legs, against its goal."""
    lines = ["", "## The flagship: delta-neutral funding carry (both legs)", ""]
    if carry is None:
        return lines + ["Not run in this report (`--carry-config ''`)."]
    goal = carry["goal"]
    lines += ["```", *carry["screen"], "```", "",
              f"Goal: >= {goal['targets']['return_per_year_ratio']:.0%}/year, max drawdown <= "
              f"{goal['targets']['max_drawdown_ratio']:.0%}, deflated Sharpe significant at 5 % "
              f"(after {goal['designs_tried_on_window']} carry design(s) looked at on this "
              f"window): **{'met' if goal['met'] else 'not met'}** (return "
              f"{'ok' if goal['return_per_year'] else 'short'}, drawdown "
              f"{'ok' if goal['max_drawdown'] else 'over'}, deflated Sharpe "
              f"{'significant' if goal['deflated_sharpe'] else 'not significant'}). One year "
              "of real funding is one draw of the funding regime; the rule has no fitted "
              "parameter, so the whole year is out of sample on its first look, and every "
              "look is in the ledger. The whole flagship is the carry alone (no directional "
              "signal passed above), so it is exactly as good as carry alone.", ""]
    return lines


def flagship_markdown(flagship: dict[str, Any] | None) -> list[str]:
    lines = ["", "## Flagship: purged rolling walk-forward", ""]
    if flagship is None:
        return lines + ["Not run in this report (`--walk-forward` off)."]
    combined = flagship["combined"]
    deflated = combined["deflated_sharpe"]
    lines += [f"Out-of-sample days of {', '.join(combined['periods'])} concatenated: "
              f"{combined['days']} days, daily Sharpe {combined['sharpe']:+.2f} "
              f"[{combined['sharpe_ci95'][0]:+.2f}, {combined['sharpe_ci95'][1]:+.2f}], "
              f"deflated Sharpe {deflated['dsr']:.3f} for {combined['trials']} configurations "
              f"tried: **{'an edge' if combined['edge'] else 'no edge'}** (significant above "
              "0.95).", ""]
    for name, period in flagship["periods"].items():
        if "out_of_sample" not in period:
            lines += [f"Period {name} not run: {period.get('not_run')}", ""]
            continue
        spec = period["spec"]
        lines += [f"### {name}: {period['strategy']} {spec['timeframe']}, "
                  f"{len(spec['pairs'])} pairs, {spec['folds']} folds x {spec['epochs']} "
                  f"epochs, {spec['train_days']:.0f} training days, purge "
                  f"{spec['purge_days']:.0f} d, embargo {spec['embargo_days']:.0f} d; "
                  f"models in hyperopt: {period['models_in_hyperopt']}", "",
                  "| out of sample | trades | daily Sharpe [95 %] | DSR | return | max DD | "
                  "fees USD | funding USD |", "|---|---|---|---|---|---|---|---|"]
        rows = {"flagship": period["out_of_sample"], **period["benchmarks"]}
        for label, row in rows.items():
            ci = row.get("sharpe_ci95") or [float("nan")] * 2
            lines.append(
                f"| {label} | {row.get('trades', '-')} | {row['sharpe']:+.2f} "
                f"[{ci[0]:+.2f}, {ci[1]:+.2f}] | {row['deflated_sharpe']['dsr']:.3f} | "
                f"{row['return_ratio']:+.2%} | {row['max_drawdown_ratio']:.2%} | "
                f"{row.get('fees_usd', '-')} | {row.get('funding_fees_usd', '-')} |")
        for label, diff in period.get("differences_daily_return", {}).items():
            lines.append(f"\nFlagship {label.replace('_', ' ')}: {diff['mean']:+.4%} a day "
                         f"[{diff['lower']:+.4%}, {diff['upper']:+.4%}] (paired bootstrap).")
        lines += ["", "| fold | train | test | IS trades | IS Sharpe | OOS trades | "
                      "OOS Sharpe | OOS return |", "|---|---|---|---|---|---|---|---|"]
        for fold in period["folds"]:
            ins, oos = fold.get("in_sample") or {}, fold["out_of_sample"]
            lines.append(f"| {fold['fold']} | {fold['train']} | {fold['test']} | "
                         f"{ins.get('trades', '-')} | {ins.get('sharpe', '-')} | "
                         f"{oos['trades']} | {oos['sharpe']:+.2f} | "
                         f"{oos['return_ratio']:+.2%} |")
        lines.append("")
    return lines


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.2%}"


def plot(report: dict[str, Any], stem: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(f"{n} {h}", v) for n, s in report["verdict"]["signals"].items()
            for h, v in s["horizons"].items() if v.get("calls")]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    for i, (label, v) in enumerate(rows):
        e = v["excess_hit_rate"]
        ax.errorbar(e["estimate"], i, xerr=[[e["estimate"] - e["lower"]],
                                            [e["upper"] - e["estimate"]]],
                    fmt="o", color="tab:green" if v["edge"] else "tab:grey")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlabel("out-of-sample excess hit rate over random directions (corrected interval)")
    fig.tight_layout()
    path = stem.parent / f"{stem.name}_signals.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_flagship(report: dict[str, Any], stem: Path) -> Path | None:
    """The flagship's out-of-sample equity per period (test windows joined), from 1.0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    periods = {name: p["out_of_sample"]["daily_returns"]
               for name, p in ((report.get("flagship") or {}).get("periods") or {}).items()
               if "out_of_sample" in p}
    if not periods:
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, returns in periods.items():
        ax.plot(np.cumprod(1 + np.asarray(returns)), label=f"flagship, {name}")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("out-of-sample day (the folds' test windows joined)")
    ax.set_ylabel("equity / start")
    ax.legend()
    fig.tight_layout()
    path = stem.parent / f"{stem.name}_flagship.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary_lines(report: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """What the demo prints last: the verdict and what the default config trades."""
    verdict = report["verdict"]
    enabled = config.get("centaur", {}).get("ensemble", {}).get("signals")
    looks = report.get("looks", {})
    lines = [f"Evidence (reports/evidence.md, {report['generated_at'][:10]}): "
             f"{verdict['tests']} (signal, horizon) pairs tested against random directions "
             "out of sample after costs."]
    if verdict["passing"]:
        lines.append(f"Signals with an edge: {', '.join(verdict['passing'])}.")
    else:
        lines.append("No signal beats random directions out of sample after costs.")
    if enabled == []:
        lines.append("The flagship's default config (centaur.ensemble.signals: []) therefore "
                     "trades nothing: it stays flat, and the backtest above made no trade.")
    elif enabled:
        lines.append(f"The default config trades: {', '.join(enabled)}.")
    combined = (report.get("flagship") or {}).get("combined")
    if combined:
        lines.append(
            f"The whole design (every signal, parameters hyperopted per fold) out of sample, "
            f"{combined['days']} days of {' and '.join(combined['periods'])}: daily Sharpe "
            f"{combined['sharpe']:+.2f} [{combined['sharpe_ci95'][0]:+.2f}, "
            f"{combined['sharpe_ci95'][1]:+.2f}], deflated Sharpe "
            f"{combined['deflated_sharpe']['dsr']:.3f} after {combined['trials']} "
            f"configurations: {'an edge' if combined['edge'] else 'no edge'}.")
    if looks:
        lines.append("Looks per out-of-sample window: " + "; ".join(
            f"{w}: {n}" for w, n in sorted(looks.items())))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="config/backtest.json")
    parser.add_argument("--datadir", default=None)
    parser.add_argument("--pairs", nargs="+", default=None)
    parser.add_argument("--timeframe", default=None)
    parser.add_argument("--timerange", default="20250101-20260219")
    parser.add_argument("--oos-start", default="20250701",
                        help="first day of the first period never used to choose parameters")
    parser.add_argument("--second-config", default="config/backtest-spot-2021.json")
    parser.add_argument("--second-datadir", default=None)
    parser.add_argument("--second-pairs", nargs="+", default=None)
    parser.add_argument("--second-timerange", default="20211001-20220331")
    parser.add_argument("--no-second", action="store_true")
    parser.add_argument("--news", default="2025-26",
                        help="headline set for the first period's news signal (2025-26, "
                             "2021-22 or none)")
    parser.add_argument("--second-news", default="2021-22",
                        help="headline set for the second period's news signal")
    parser.add_argument("--walk-forward", action="store_true")
    parser.add_argument("--wf-timerange", default=None,
                        help="the flagship walk-forward's span; default: --timerange starting "
                             f"{WF_START_AFTER_DAYS} days later (the first fold trains once the "
                             "ranker's first 30-day window is trained)")
    parser.add_argument("--train-days", type=float, default=60)
    parser.add_argument("--second-wf-timerange", default="20210901-20220331")
    parser.add_argument("--second-train-days", type=float, default=45)
    parser.add_argument("--second-strategy", default="CentaurEnsembleSpot")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--carry-config", default="config/carry.json",
                        help="the carry flagship's config ('' to skip the carry)")
    parser.add_argument("--carry-pairs", nargs="+", default=None,
                        help="the carry's pairs; default: the carry config's whitelist")
    parser.add_argument("--ledger", default=None, help="ledger file (default: the committed one)")
    parser.add_argument("--out", default=str(REPORTS / "evidence"))
    parser.add_argument("--summary", action="store_true",
                        help="print the last report's verdict (make demo) and exit")
    parser.add_argument("--recount", action="store_true",
                        help="rewrite the last report with the ledger's current look counts "
                             "(no evaluation, so no new look)")
    args = parser.parse_args(argv)
    if args.recount:
        stem = Path(args.out)
        stored = json.loads(stem.with_suffix(".json").read_text())
        ledger = Ledger(Path(args.ledger)) if args.ledger else Ledger()
        stored.update(look_counts(ledger))
        write_report(stem, stored, markdown(stored))
        print(f"wrote {plot(stored, stem)} and {plot_flagship(stored, stem)}")
        return
    if args.summary:
        stored = Path(args.out).with_suffix(".json")
        if not stored.exists():
            raise SystemExit(f"{stored} is missing: run `make report-evidence` first")
        config = json.loads((PROJECT_ROOT / args.config).read_text())
        print("\n".join(summary_lines(json.loads(stored.read_text()), config)))
        return
    if args.wf_timerange is None:
        start, stop = args.timerange.split("-")
        later = datetime.strptime(start, "%Y%m%d") + timedelta(days=WF_START_AFTER_DAYS)
        args.wf_timerange = f"{later:%Y%m%d}-{stop}"
    if args.no_second or not (PROJECT_ROOT / args.second_config).exists():
        args.second_config = None
    report = build(args)
    stem = Path(args.out)
    write_report(stem, report, markdown(report))
    print(f"wrote {plot(report, stem)} and {plot_flagship(report, stem)}")
    passing = report["verdict"]["passing"]
    print("signals with an out-of-sample edge:", ", ".join(passing) if passing else
          "none - the flagship stays flat")


if __name__ == "__main__":
    main()
