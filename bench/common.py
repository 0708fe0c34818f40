"""Shared plumbing for the benchmarks: timed freqtrade runs, result files, printed figures.

Every benchmark measures the suite against a named baseline in the same run and reports the
ratio; figures are written to ``bench/results/<name>.json`` and printed. Nothing here asserts a
timing: the numbers are for reading, not for passing.
"""

from __future__ import annotations

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
