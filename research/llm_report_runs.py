"""Running the report's backtests on one frozen copy of the code.

The five runs of a period must see the same strategy code, or the replay would miss and the
comparison would mix versions. The report therefore copies the suite's packages into its
temporary folder once (``snapshot_code``, fingerprinted) and runs every ``freqtrade
backtesting`` from there (working directory and ``PYTHONPATH``), so edits made to the working
tree while the report runs cannot leak into it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CODE_DIRS = ("centaur", "strategies", "risk_protections", "freqai_models", "sor_exchange",
             "user_data/strategies", "user_data/freqaimodels", "config")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass
class Run:
    label: str
    stats: dict[str, Any]
    wall_secs: float


def snapshot_code(project: Path, target: Path) -> str:
    """Copy the suite's code under ``target``; return the sha256 fingerprint of what was copied."""
    digest = hashlib.sha256()
    for name in CODE_DIRS:
        if (project / name).is_dir():
            shutil.copytree(project / name, target / name, ignore=_IGNORED)
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(target)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_config(base: dict[str, Any], project: Path, path: Path,
                 overrides: dict[str, Any]) -> Path:
    """A backtest config with absolute data paths (runs start in the snapshot)."""
    config = json.loads(json.dumps(base))
    config.update({k: v for k, v in overrides.items() if k != "centaur"})
    config.setdefault("centaur", {}).update(overrides.get("centaur", {}))
    config["datadir"] = str((project / config["datadir"]).resolve())
    offline = config["centaur"].get("exchange", {}).get("offline_markets")
    if offline:
        offline["recordings_dir"] = str((project / offline["recordings_dir"]).resolve())
    path.write_text(json.dumps(config, indent=2))
    return path


def run_backtest(code: Path, config: Path, strategy: str, timerange: str, results: Path,
                 label: str) -> Run:
    results.mkdir(parents=True)
    args = [sys.executable, "-m", "freqtrade", "backtesting", "-c", str(config),
            "--strategy", strategy, "--strategy-path", str(code / "user_data" / "strategies"),
            "--timerange", timerange, "--cache", "none", "--export", "trades",
            "--backtest-directory", str(results)]
    env = {**os.environ, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    process = subprocess.run(args, cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"backtest {label} failed:\n{process.stdout[-3000:]}\n"
                           f"{process.stderr[-3000:]}")
    with zipfile.ZipFile(next(results.glob("*.zip"))) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".json") and "_config" not in n)
        stats = json.loads(zipped.read(name))["strategy"][strategy]
    print(f"  {label}: {stats['total_trades']} trades in {wall:.1f} s", flush=True)
    return Run(label, stats, wall)
