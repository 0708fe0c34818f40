"""The counterfactual replay: does the LLM layer add value after fees? Measured, not assumed.

For each period, the same freqtrade backtest of ``--strategy`` runs:

1. ``off``: no LLM (the baseline);
2. ``on``: the veto, recording every entry signal's opinion from the endpoint;
3. ``replay``: the veto from the record only (must reproduce ``on`` trade for trade);
4. ``inverted``: the opposite gate on the same record (the placebo);
5. ``breaker``: the circuit breaker alone (veto off), recording.

From the trade exports and the record it reports the trades vetoed and what they would have
returned, expectancy in R with and without the veto, drawdown, abstain/failure rates, latency
percentiles, and what each breaker intervention changed against doing nothing.

    python -m research.llm_report            (make report-veto) -> reports/veto.json, veto.md

Periods: ``2022-01``: the nautilus 1m BTC-perp bars (converted at run time, see
``centaur.llm.report_data``) with the real 2021-22 headlines; ``2025-26``: the Binance
USDT-M 5m data of the flagship's eight pairs over the weeks the 2025-26 headline file covers
(2025-11-15 to 2026-02-19; ``--timerange``, ``--pairs``, ``--datadir`` and ``--timeframe``
change it, checked for candles, funding and mark prices before any run). R is measured on the
initial notional, and the on-minus-off difference in R comes with a paired bootstrap standard
error (``llm_report_metrics``). A 135M local model is a plumbing and latency
check; whatever it scores is not evidence that a veto has value.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from centaur.report_files import write_report
from centaur.settings import settings_from
from centaur.settings.llm import LlmSettings
from llm_layer import server
from llm_layer.store import DecisionStore
from research import llm_report_metrics as rm
from research.llm_report_data import build_datadir
from research.llm_report_markdown import markdown
from research.llm_report_runs import Run, run_backtest, snapshot_code, write_config
from research.report_options import DataOptions, data_options, read_config, require_data

PROJECT = Path.cwd()  # run from the project root (make report-veto does)
SHARED = Path(os.environ.get("CENTAUR_SHARED", PROJECT.parent / "shared")) / "data"
NEWS_2022 = {"source": "csv", "separator": ";", "time_column": "date",
             "time_format": "%d-%m-%Y %H:%M", "title_column": "title", "source_column": "source",
             "currencies_column": "subject",
             "csv_path": str(SHARED / "news" / "cryptonews_kaggle_oliviervha_subset.csv")}
NEWS_2026 = {"source": "csv",
             "csv_path": str(SHARED / "news" / "crypto_headlines_2025-11_2026-02.csv")}
HARD_STOP_FALLBACK = 0.02
RECENT_TIMERANGE = "20251115-20260219"  # the 2025-26 headline file starts 2025-11-14


@dataclass(frozen=True)
class Period:
    name: str
    timerange: str
    pairs: list[str]
    news: dict[str, Any]
    data_note: str
    datadir: str | None = None  # None: config/backtest.json's (the shared Binance data)
    timeframe: str | None = None  # None: config/backtest.json's


def _periods(args: argparse.Namespace, work: Path) -> list[Period]:
    periods = []
    if "2022-01" in args.periods:
        derived = build_datadir(SHARED / "orderbooks/nautilus/btc-perp-20211231-20220201_1m.csv",
                                SHARED / "binance-2021-22q1/BTC_USDT-1h.feather",
                                work / "data-2022")
        periods.append(Period(
            "2022-01", "20220103-20220201", ["BTC/USDT:USDT"], NEWS_2022,
            "nautilus 1m BTC-perp bars (venue undocumented) resampled to 5m/1h in a temporary "
            "datadir; timestamps taken as bar close times; mark = 1h candles; funding derived "
            f"per 8 h from the perp-spot premium with Binance's formula (mean "
            f"{derived.funding_mean:.6f}, range {derived.funding_min:.6f}.."
            f"{derived.funding_max:.6f} per settlement) - an estimate, not a record",
            datadir=str(derived.datadir)))
    if "2025-26" in args.periods:
        options = _recent_data(args)
        require_data(options, ("candles", "funding", "mark"))
        periods.append(Period(
            "2025-26", options.timerange, list(options.pairs), NEWS_2026,
            f"USDT-M {options.timeframe} candles with recorded funding and mark prices "
            f"({options.datadir})", datadir=str(options.datadir) if args.datadir else None,
            timeframe=options.timeframe))
    return periods


def _recent_data(args: argparse.Namespace) -> DataOptions:
    """The 2025-26 period's data options; defaults: config/backtest.json and the headlines'."""
    given = argparse.Namespace(datadir=args.datadir, pairs=args.pairs,
                               timeframe=args.timeframe, timerange=args.timerange)
    return data_options(given, read_config(), RECENT_TIMERANGE)


def _llm_block(args: argparse.Namespace, period: Period, mode: str, label: str,
               veto: bool = True, breaker: bool = False) -> dict[str, Any]:
    return {"mode": mode, "base_url": args.base_url, "model": args.model,
            "timeout_secs": args.timeout_secs, "failure_policy": args.failure_policy,
            "store_path": str(args.store), "run_label": label, "news": period.news,
            "budget": {"max_calls_per_day": 100_000, "max_tokens_per_day": 100_000_000},
            "veto": {"enabled": veto},
            "breaker": {"enabled": breaker, "cooldown_hours": args.breaker_cooldown_hours}}


def _hard_stop_ratio(config_path: Path) -> float:
    risk = settings_from(json.loads(config_path.read_text())).risk
    stops = getattr(risk, "stops", None)
    return float(getattr(stops, "hard_stop_ratio", HARD_STOP_FALLBACK))


def _request_headlines(request: str) -> int:
    user = json.loads(request)["messages"][1]["content"]
    return len(json.loads(user).get("headlines", []))


def _veto_section(store: DecisionStore, runs: dict[str, Run], labels: dict[str, str],
                  hard_stop: float) -> dict[str, Any]:
    on_decisions = store.decisions(labels["on"])
    keys = {d["key"] for d in on_decisions if d["key"]}
    calls = {c["key"]: c for c in store.calls("veto") if c["key"] in keys}
    off_trades = runs["off"].stats["trades"]
    vetoed = rm.vetoed_trades(off_trades, on_decisions)
    with_headlines = sum(1 for c in calls.values() if _request_headlines(c["request"]) > 0)
    return {
        "decisions_on": rm.decision_rates(on_decisions),
        "decisions_inverted": rm.decision_rates(store.decisions(labels["inverted"])),
        "replay_identical_to_on": rm.same_trades(runs["on"].stats["trades"],
                                                 runs["replay"].stats["trades"]),
        "replay_misses": rm.decision_rates(store.decisions(labels["replay"]))["replay_misses"],
        "vetoed_trades": rm.trade_summary(vetoed, hard_stop),
        "on_minus_off_r": rm.on_minus_off(runs["on"].stats["trades"], off_trades, hard_stop),
        "inverted_minus_off_r": rm.on_minus_off(runs["inverted"].stats["trades"], off_trades,
                                                hard_stop),
        "latency_ms": rm.percentiles([c["latency_ms"] for c in calls.values()]),
        "calls_over_2s_ratio": round(sum(1 for c in calls.values() if (c["latency_ms"] or 0) > 2000)
                                     / len(calls), 4) if calls else None,
        "signals_with_headlines_ratio": round(with_headlines / len(calls), 4) if calls else None,
    }


def _breaker_section(store: DecisionStore, runs: dict[str, Run], label: str,
                     hard_stop: float) -> dict[str, Any]:
    rows = store.decisions(label, kind="breaker")
    accepted = [json.loads(r["detail"]) | {"at": r["decided_at"]} for r in rows
                if r["reason_code"] == "BREAKER_ACTION_ACCEPTED"]
    interventions = [r for r in rows if r["reason_code"] == "BREAKER_ACTION_ACCEPTED"
                     and json.loads(r["detail"]).get("hours")]
    return {
        "consultations": len({r["key"] for r in rows}),
        "by_reason": dict(sorted(rm.decision_rates(rows)["by_reason"].items())),
        "no_action_calls": sum(1 for a in accepted if a["tool"] == "no_action"),
        "accepted": [a for a in accepted if a["tool"] != "no_action"],
        "rejected": [json.loads(r["detail"]) | {"at": r["decided_at"]} for r in rows
                     if r["reason_code"] == "BREAKER_ACTION_REJECTED"],
        "intervention_effects": rm.intervention_effects(
            interventions, runs["breaker"].stats["trades"], runs["off"].stats["trades"], hard_stop),
        "run_with_breaker": rm.run_summary(runs["breaker"].stats, hard_stop),
    }


def run_period(args: argparse.Namespace, period: Period, work: Path, code: Path, stamp: str,
               store: DecisionStore) -> dict[str, Any]:
    print(f"period {period.name} ({period.timerange}, {', '.join(period.pairs)})", flush=True)
    labels = {name: f"{period.name}-{name}-{stamp}" for name in
              ("off", "on", "replay", "inverted", "breaker")}
    plan = {"off": ("off", True, False), "on": ("record", True, False),
            "replay": ("replay", True, False), "inverted": ("invert", True, False),
            "breaker": ("record", False, True)}
    base = json.loads((code / "config" / "backtest.json").read_text())
    (work / "user_data").mkdir(parents=True, exist_ok=True)
    runs, configs = {}, {}
    for name, (mode, veto, breaker) in plan.items():
        if name == "breaker" and not args.breaker:
            continue
        overrides = {"exchange": {**base["exchange"], "pair_whitelist": period.pairs},
                     "user_data_dir": str(work / "user_data"),
                     "freqaimodel_path": str(code / "user_data" / "freqaimodels"),
                     "centaur": {"llm": _llm_block(args, period, mode, labels[name], veto,
                                                   breaker),
                                 # the veto is measured on the design, every signal voting
                                 "ensemble": {**base.get("centaur", {}).get("ensemble", {}),
                                              "signals": None}}}
        if period.timeframe:
            overrides["timeframe"] = period.timeframe
        if period.name == "2022-01":
            # A converted month with no history before it: nothing to train the ranker on.
            overrides["datadir"] = period.datadir
            overrides["freqai"] = {**base.get("freqai", {}), "enabled": False}
        else:
            if period.datadir:
                overrides["datadir"] = period.datadir
            overrides["centaur"]["models"] = {"ranker": {"universe": period.pairs}}
        configs[name] = write_config(base, PROJECT, work / f"{name}.json", overrides)
        runs[name] = run_backtest(code, configs[name], args.strategy, period.timerange,
                                  work / f"results-{name}", f"{period.name}-{name}")
    hard_stop = _hard_stop_ratio(configs["off"])
    result = {
        "period": period.name, "timerange": period.timerange, "pairs": period.pairs,
        "data": period.data_note, "news_file": Path(period.news["csv_path"]).name,
        "r_definition": f"initial notional (first filled entry: amount x price) x hard stop "
                        f"{hard_stop:g} (price move); not the stake left after partial exits",
        "runs": {name: rm.run_summary(run.stats, hard_stop) | {"wall_secs": round(run.wall_secs, 1)}
                 for name, run in runs.items()},
        "veto": _veto_section(store, runs, labels, hard_stop),
    }
    if "breaker" in runs:
        result["breaker"] = _breaker_section(store, runs, labels["breaker"], hard_stop)
    return result


def _ensure_server(args: argparse.Namespace, work: Path) -> bool:
    """Start the bundled local model if the endpoint is the default loopback and silent."""
    if args.base_url != LlmSettings().base_url or server.healthy(server.LOOPBACK,
                                                                 server.DEFAULT_PORT):
        return False
    server.start(server.ServerSpec(str(server.bundled_gguf())), work / "llm-server.json",
                 work / "llm-server.log")
    return True


def main(argv: list[str] | None = None) -> int:
    defaults = LlmSettings()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="CentaurEnsemble")
    parser.add_argument("--periods", nargs="+", default=["2022-01", "2025-26"],
                        choices=["2022-01", "2025-26"])
    parser.add_argument("--timerange", "--timerange-recent", default=None,
                        help=f"the 2025-26 period; default {RECENT_TIMERANGE} (the headline "
                             "file starts 2025-11-14)")
    parser.add_argument("--pairs", "--pairs-recent", nargs="+", default=None,
                        help="the 2025-26 period's pairs; default: config/backtest.json's "
                             "whitelist")
    parser.add_argument("--datadir", default=None,
                        help="the 2025-26 period's data; default: config/backtest.json's")
    parser.add_argument("--timeframe", default=None,
                        help="the 2025-26 period's timeframe; default: config/backtest.json's")
    parser.add_argument("--base-url", default=defaults.base_url)
    parser.add_argument("--model", default=defaults.model)
    parser.add_argument("--timeout-secs", type=float, default=60.0,
                        help="recording timeout (the live default is 2 s; see calls_over_2s_ratio)")
    parser.add_argument("--failure-policy", default="skip", choices=["skip", "proceed"])
    parser.add_argument("--store", type=Path, default=PROJECT / "user_data/llm/report.sqlite",
                        help="the record (cache): a rerun replays what it holds")
    parser.add_argument("--no-breaker", dest="breaker", action="store_false")
    parser.add_argument("--breaker-cooldown-hours", type=float, default=24.0,
                        help="bounds the breaker's calls over a month (live default: 6)")
    parser.add_argument("--out", type=Path, default=PROJECT / "reports")
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with tempfile.TemporaryDirectory(prefix="centaur-veto-") as tmp:
        work = Path(tmp)
        started_server = _ensure_server(args, work)
        try:
            fingerprint = snapshot_code(PROJECT, work / "code")
            store = DecisionStore(args.store, lambda: datetime.now(UTC))
            periods = [run_period(args, p, work / p.name, work / "code", stamp, store)
                       for p in _periods(args, work)]
        finally:
            if started_server:
                server.stop(work / "llm-server.json")
    report = {"report": "veto", "generated_at": stamp, "strategy": args.strategy,
              "model": args.model, "base_url": args.base_url,
              "recording_timeout_secs": args.timeout_secs, "failure_policy": args.failure_policy,
              "breaker_cooldown_hours": args.breaker_cooldown_hours,
              "record": str(args.store), "code_sha256": fingerprint, "periods": periods,
              "caveat": "SmolLM2-135M is a plumbing and latency check: its decisions are not "
                        "evidence that a veto adds value; the counterfactual runs are the test."}
    write_report(args.out / "veto", report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
