"""Shared plumbing for the benchmarks: timed freqtrade runs, result files, printed figures.

Every benchmark measures the suite against a named baseline in the same run and reports the
ratio; figures are written to ``bench/results/<name>.json`` and printed. Nothing here asserts a
timing: the numbers are for reading, not for passing.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "bench" / "results"


@dataclass
class TimedBacktest:
    wall_secs: float
    engine_secs: float
    stats: dict[str, Any]


def timed_backtest(config: Path, *, strategy: str, strategy_path: Path, timerange: str,
                   work_dir: Path, extra_args: list[str] | None = None,
                   env: dict[str, str] | None = None) -> TimedBacktest:
    """Run ``freqtrade backtesting`` in a subprocess; wall time and engine time."""
    results_dir = work_dir / f"bt-{strategy}-{time.monotonic_ns()}"
    results_dir.mkdir(parents=True)
    args = [sys.executable, "-m", "freqtrade", "backtesting", "-c", str(config),
            "--strategy", strategy, "--strategy-path", str(strategy_path),
            "--timerange", timerange, "--cache", "none", "--export", "trades",
            "--backtest-directory", str(results_dir), *(extra_args or [])]
    started = time.perf_counter()
    process = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True,
                             env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"backtest of {strategy} failed:\n{process.stdout[-3000:]}"
                           f"\n{process.stderr[-3000:]}")
    archive = next(results_dir.glob("*.zip"))
    with zipfile.ZipFile(archive) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".json") and "_config" not in n)
        stats = json.loads(zipped.read(name))["strategy"][strategy]
    engine = stats["backtest_run_end_ts"] - stats["backtest_run_start_ts"]
    return TimedBacktest(wall, float(engine), stats)


def candle_count(datadir: Path, pairs: list[str], timeframe: str, timerange: str) -> int:
    start, _, end = timerange.partition("-")
    lo = pd.Timestamp(start, tz="UTC")
    hi = pd.Timestamp(end, tz="UTC") if end else pd.Timestamp.max.tz_localize("UTC")
    total = 0
    for pair in pairs:
        stem = pair.replace("/", "_").replace(":", "_")
        frame = pd.read_feather(datadir / "futures" / f"{stem}-{timeframe}-futures.feather",
                                columns=["date"])
        dates = pd.to_datetime(frame["date"], utc=True)
        total += int(((dates >= lo) & (dates < hi)).sum())
    return total


def machine() -> dict[str, Any]:
    import freqtrade

    return {"python": platform.python_version(), "freqtrade": freqtrade.__version__,
            "cpus": os.cpu_count(), "platform": platform.platform()}


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": machine(), **figures}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return path


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a strategy, where it lives, and its config file."""

    strategy: str
    strategy_path: Path
    config: Path


FLAGSHIP = "CentaurEnsemble"
SUITE_STRATEGIES = PROJECT_ROOT / "user_data" / "strategies"


@dataclass(frozen=True)
class BenchSetup:
    args: argparse.Namespace
    config: dict[str, Any]
    pairs: list[str]
    candles: int  # base-timeframe candles of the timerange over all pairs


def every_signal(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (changed in place) with every signal voting where it lists none: research
    judges the flagship's design, and a shipped config that stays flat (``centaur.ensemble.
    signals: []``, the evidence verdict) would give it nothing to measure. A config that names
    signals keeps them."""
    ensemble = config.get("centaur", {}).get("ensemble")
    if ensemble is not None and ensemble.get("signals") == []:
        ensemble["signals"] = None
    return config


def bench_arguments(description: str, timerange: str = "20250101-20250401") -> BenchSetup:
    """The common options (--timerange, --repeat, --config), the config and its candles."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timerange", default=timerange)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default="config/backtest.json")
    args = parser.parse_args()
    # Benchmarks time the whole machinery: every signal votes, whatever the default trades.
    config = every_signal(json.loads((PROJECT_ROOT / args.config).read_text()))
    pairs = config["exchange"]["pair_whitelist"]
    candles = candle_count((PROJECT_ROOT / config["datadir"]).resolve(), pairs,
                           config["timeframe"], args.timerange)
    return BenchSetup(args, config, pairs, candles)


def config_variant(config: dict[str, Any], work: Path, label: str,
                   overrides: dict[str, Any] | None = None) -> Path:
    """``config`` with ``overrides`` deep-merged, written to ``work/<label>.json``."""
    variant = copy.deepcopy(config)
    for key, value in (overrides or {}).items():
        target = variant
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    path = work / f"{label}.json"
    path.write_text(json.dumps(variant))
    return path


def measure(variants: dict[str, Variant], timerange: str, repeat: int, work: Path
            ) -> dict[str, list[TimedBacktest]]:
    """Every variant ``repeat`` times, interleaved (so load drifts hit all of them alike)."""
    runs: dict[str, list[TimedBacktest]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, variant in variants.items():
            runs[name].append(timed_backtest(variant.config, strategy=variant.strategy,
                                             strategy_path=variant.strategy_path,
                                             timerange=timerange, work_dir=work))
    return runs


def best_runs(runs: dict[str, list[TimedBacktest]]) -> dict[str, TimedBacktest]:
    """The fastest run of each variant: the estimator least disturbed by other load."""
    return {name: min(found, key=lambda r: r.wall_secs) for name, found in runs.items()}


def run_figures(runs: dict[str, list[TimedBacktest]], candles: int) -> dict[str, Any]:
    """Per variant: best wall and engine seconds, candles per second, trades; all runs."""
    figures: dict[str, Any] = {}
    for name, run in best_runs(runs).items():
        figures[f"{name}_secs"] = round(run.wall_secs, 2)
        figures[f"{name}_engine_secs"] = round(run.engine_secs, 2)
        figures[f"{name}_candles_per_sec"] = round(candles / run.wall_secs)
        figures[f"{name}_trades"] = run.stats["total_trades"]
    figures["all_wall_secs"] = {name: [round(r.wall_secs, 2) for r in found]
                                for name, found in runs.items()}
    return figures
