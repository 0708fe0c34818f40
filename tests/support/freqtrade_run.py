"""Running the real ``freqtrade`` command in a subprocess and reading its exports.

A subprocess is what an operator runs: it goes through the ``.pth`` start-up hook, freqtrade's
resolvers and its own configuration loading, exactly as in production.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.paths import BINANCE_DATA, PROJECT_ROOT, RECORDINGS, TEST_STRATEGIES


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_project_config(name: str) -> dict[str, Any]:
    return json.loads((PROJECT_ROOT / "config" / name).read_text())


def venue_ccxt_config(venue_url: str) -> dict[str, Any]:
    """``exchange.ccxt_config`` of config/dry-run.json pointed at a local venue's URL."""
    urls = load_project_config("dry-run.json")["exchange"]["ccxt_config"]["urls"]["api"]
    return {"urls": {"api": {name: url.replace("http://127.0.0.1:8765", venue_url)
                             for name, url in urls.items()}}}


def write_config(directory: Path, base: str, overrides: dict[str, Any] | None = None,
                 name: str = "config.json", freqai: bool = False) -> Path:
    """A project config with absolute data paths (tests run from any cwd) and overrides.

    FreqAI (walk-forward training) is off unless asked for: the models layer has its own
    tests on config/freqai.json, and the other layers' scenarios do not need trained models.
    Every signal votes unless the overrides name them: the shipped configs trade only what
    the evidence harness passed (``centaur.ensemble.signals``), and these tests check the
    mechanics, not the edge.
    """
    config = deep_merge(load_project_config(base), overrides or {})
    ensemble = config.get("centaur", {}).get("ensemble", {})
    if "signals" in ensemble and "signals" not in (
            (overrides or {}).get("centaur", {}).get("ensemble", {})):
        ensemble["signals"] = None
    if "freqai" in config and not freqai:
        config["freqai"]["enabled"] = False
    if "datadir" in config:
        config["datadir"] = str(BINANCE_DATA)
    offline = config.get("centaur", {}).get("exchange", {}).get("offline_markets")
    if offline:
        offline["recordings_dir"] = str(RECORDINGS)
    config["user_data_dir"] = str(directory / "user_data")
    config.setdefault("strategy_path", str(PROJECT_ROOT / "user_data" / "strategies"))
    (directory / "user_data").mkdir(exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(config, indent=2))
    return path


def freqtrade_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    env["PYTHONUNBUFFERED"] = "1"
    # freqtrade logs to stderr through Rich, which wraps lines at the terminal width (80 when
    # there is none): a long path could split the phrase a test looks for
    env["COLUMNS"] = "1000"
    env.update(extra or {})
    return env


def run_freqtrade(args: list[str], *, env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT,
                  timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freqtrade", *args],
        cwd=cwd, env=freqtrade_env(env), capture_output=True, text=True, timeout=timeout,
    )


def strategy_path(strategy: str | None) -> Path:
    """Test scenario strategies live in tests/strategies; the suite's in user_data/strategies."""
    if strategy and any(f"class {strategy}(" in path.read_text()
                        for path in TEST_STRATEGIES.glob("*.py")):
        return TEST_STRATEGIES
    return PROJECT_ROOT / "user_data" / "strategies"


@dataclass
class BacktestResult:
    strategy: str
    stats: dict[str, Any]
    process: subprocess.CompletedProcess[str]

    @property
    def trades(self) -> list[dict[str, Any]]:
        return self.stats["trades"]

    @property
    def locks(self) -> list[dict[str, Any]]:
        return self.stats["locks"]


def backtest(directory: Path, config: Path, *, timerange: str, strategy: str | None = None,
             extra_args: list[str] | None = None, env: dict[str, str] | None = None
             ) -> BacktestResult:
    results_dir = directory / "backtest_results"
    results_dir.mkdir(exist_ok=True)
    args = ["backtesting", "-c", str(config), "--timerange", timerange, "--cache", "none",
            "--export", "trades", "--backtest-directory", str(results_dir),
            "--strategy-path", str(strategy_path(strategy)),
            *(["--strategy", strategy] if strategy else []),
            *(extra_args or [])]
    process = run_freqtrade(args, env=env)
    if process.returncode != 0:
        raise AssertionError(f"freqtrade backtesting failed:\n{process.stdout[-4000:]}\n"
                             f"{process.stderr[-4000:]}")
    archive = max(results_dir.glob("*.zip"), key=lambda p: p.stat().st_mtime)
    with zipfile.ZipFile(archive) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".json") and "_config" not in n)
        content = json.loads(zipped.read(name))
    (strategy_name, stats), = content["strategy"].items()
    return BacktestResult(strategy_name, stats, process)
