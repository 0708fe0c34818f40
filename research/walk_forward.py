"""Walk-forward check of the flagship: hyperopt in sample, backtest the window that follows.

    python -m research.walk_forward --in-sample 20250101-20250701 \\
        --out-of-sample 20250701-20260219 [--epochs 30] [--jobs 2]

1. ``freqtrade hyperopt`` of CentaurEnsemble over the in-sample window: spaces ``signals`` and
   ``ensemble``, ``--analyze-per-epoch`` (signal parameters act in ``populate_indicators``),
   the suite's protections on, ``-j`` worker processes, Sharpe loss, a fixed random state.
2. ``freqtrade backtesting`` with the best parameters over the in-sample window and over the
   out-of-sample window that follows it (nothing of it was seen by step 1).
3. Verdict (a screen; what counts is ``make report-evidence``: rolling purged folds and the
   deflated Sharpe): Sharpe from the daily equity curve, the out-of-sample look recorded in
   the ledger (``research/oos_ledger.jsonl``). The strategy is *unfit* when its out-of-sample
   Sharpe is below
   ``MIN_OOS_TO_IS_RATIO`` x the in-sample Sharpe or below ``MIN_OOS_SHARPE`` (or when the
   in-sample Sharpe is not positive: there is nothing to carry forward).

Everything runs in a scratch workspace: the parameters hyperopt writes next to the strategy
file land there, never in ``user_data/strategies``. Writes ``reports/walk_forward.json`` and
``.md`` (``strategies.report`` runs the same steps for ``make report-signals``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, every_signal, timed_backtest
from centaur.report_files import write_report
from research.evidence import equity
from research.evidence.ledger import Ledger

STRATEGY = "CentaurEnsemble"
MIN_OOS_TO_IS_RATIO = 0.5
MIN_OOS_SHARPE = 0.3
REPORTS = PROJECT_ROOT / "reports"


@dataclass(frozen=True)
class Verdict:
    fit: bool
    reason: str
    oos_to_is_ratio: float | None


def verdict(in_sample_sharpe: float, out_of_sample_sharpe: float) -> Verdict:
    """Unfit below ``MIN_OOS_TO_IS_RATIO`` of the in-sample Sharpe or ``MIN_OOS_SHARPE``."""
    if in_sample_sharpe <= 0:
        return Verdict(False, f"in-sample Sharpe {in_sample_sharpe:.2f} <= 0: nothing to carry "
                              "out of sample", None)
    ratio = out_of_sample_sharpe / in_sample_sharpe
    if out_of_sample_sharpe < MIN_OOS_SHARPE:
        return Verdict(False, f"out-of-sample Sharpe {out_of_sample_sharpe:.2f} < "
                              f"{MIN_OOS_SHARPE}", ratio)
    if ratio < MIN_OOS_TO_IS_RATIO:
        return Verdict(False, f"OOS/IS Sharpe {ratio:.2f} < {MIN_OOS_TO_IS_RATIO}", ratio)
    return Verdict(True, f"OOS/IS Sharpe {ratio:.2f} >= {MIN_OOS_TO_IS_RATIO} and OOS Sharpe "
                         f"{out_of_sample_sharpe:.2f} >= {MIN_OOS_SHARPE}", ratio)


@dataclass(frozen=True)
class Workspace:
    """A scratch copy of the strategy resolver files and a config pointing into it."""

    root: Path
    strategy_path: Path
    config: dict[str, Any]

    @classmethod
    def create(cls, root: Path, config_file: Path) -> Workspace:
        strategy_path = root / "strategies"
        strategy_path.mkdir(parents=True, exist_ok=True)
        for thin in (PROJECT_ROOT / "user_data" / "strategies").glob("*.py"):
            shutil.copy(thin, strategy_path / thin.name)
        config = every_signal(json.loads(config_file.read_text()))
        config["user_data_dir"] = str(root / "user_data")
        config["freqaimodel_path"] = str(PROJECT_ROOT / "user_data" / "freqaimodels")
        (root / "user_data").mkdir(exist_ok=True)
        return cls(root, strategy_path, config)

    def config_file(self, name: str, ensemble: dict[str, Any] | None = None,
                    freqai: bool = True) -> Path:
        """The workspace config; ``freqai`` False switches the models' ranker off (the
        in-sample hyperopt: freqtrade refuses --analyze-per-epoch for a FreqAI strategy)."""
        config = json.loads(json.dumps(self.config))
        if ensemble:
            config.setdefault("centaur", {}).setdefault("ensemble", {}).update(ensemble)
        if "freqai" in config:
            config["freqai"]["enabled"] = freqai and config["freqai"].get("enabled", False)
        path = self.root / f"{name}.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def params(self, strategy: str = STRATEGY) -> dict[str, Any] | None:
        path = self.strategy_path / f"{strategy}.json"
        return json.loads(path.read_text())["params"] if path.exists() else None


@dataclass(frozen=True)
class Search:
    """What the in-sample hyperopt tries."""

    epochs: int = 30
    jobs: int = 2
    seed: int = 42
    min_trades: int = 10
    storage: str | None = None  # an Optuna RDB URL: run ``centaur hyperopt`` on a shared study
    study_name: str | None = None


SPACES = ("signals", "ensemble")
LOSS = "SharpeHyperOptLoss"


def hyperopt(workspace: Workspace, timerange: str, search: Search, strategy: str = STRATEGY,
             config: Path | None = None) -> dict[str, Any]:
    """In-sample hyperopt; returns the best parameters (freqtrade writes them beside the
    workspace's strategy file, where the backtests below load them). ``config`` defaults to
    the workspace config with the FreqAI ranker off."""
    config = config or workspace.config_file("hyperopt", freqai=False)
    command = ["freqtrade", "hyperopt"] if search.storage is None else \
        ["dev_tools.cli", "hyperopt", "--storage", search.storage, "--write-results",
         *(["--study-name", search.study_name] if search.study_name else [])]
    args = [sys.executable, "-m", *command, "-c", str(config),
            "--strategy", strategy,
            "--strategy-path", str(workspace.strategy_path), "--timerange", timerange,
            "--spaces", *SPACES, "--analyze-per-epoch", "--enable-protections",
            "--epochs", str(search.epochs), "-j", str(search.jobs), "--random-state",
            str(search.seed), "--hyperopt-loss", LOSS,
            "--min-trades", str(search.min_trades)]
    process = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(f"hyperopt failed (exit {process.returncode}):\n"
                           f"{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    params = workspace.params(strategy)
    if params is None:
        raise RuntimeError(f"hyperopt found no epoch with at least {search.min_trades} trades "
                           f"in {timerange}. Fix: more epochs, a longer window or a lower "
                           "--min-trades.")
    return params


def backtest(workspace: Workspace, timerange: str, name: str,
             ensemble: dict[str, Any] | None = None) -> dict[str, Any]:
    """A backtest of the flagship in the workspace (its parameters, if hyperopt wrote any)."""
    run = timed_backtest(workspace.config_file(name, ensemble), strategy=STRATEGY,
                         strategy_path=workspace.strategy_path, timerange=timerange,
                         work_dir=workspace.root / "results",
                         extra_args=["--enable-protections"])
    return run.stats


def headline(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's figures; ``sharpe`` from its daily equity curve (with a bootstrap interval),
    not freqtrade's (a daily mean over a per-trade standard deviation), kept beside it."""
    trades = stats["trades"]
    fees_usd = sum(t["amount"] * (t["open_rate"] * t["fee_open"] + t["close_rate"] * t["fee_close"])
                   for t in trades)
    curve = equity.curve_metrics(equity.daily_equity(
        trades, float(stats["starting_balance"]), stats["backtest_start"],
        stats["backtest_end"]))
    return {"trades": len(trades), "sharpe": curve["sharpe"],
            "sharpe_ci95": curve["sharpe_ci95"],
            "freqtrade_sharpe": round(stats["sharpe"], 3),
            "return_ratio": round(stats["profit_total"], 4),
            "return_before_fees_ratio": round(stats["profit_total"]
                                              + fees_usd / stats["starting_balance"], 4),
            "max_drawdown_ratio": round(stats["max_drawdown_account"], 4),
            "funding_fees_usd": round(sum(t["funding_fees"] for t in trades), 2),
            "fees_usd": round(fees_usd, 2),
            "halts": sorted({lock["reason"].split("]")[0] + "]" for lock in stats["locks"]
                             if lock["reason"].startswith("[")})}


@dataclass(frozen=True)
class WalkForward:
    report: dict[str, Any]  # what reports/walk_forward.json holds
    in_sample_stats: dict[str, Any]  # freqtrade's backtest statistics, trades included
    out_of_sample_stats: dict[str, Any]


def walk_forward(workspace: Workspace, in_sample: str, out_of_sample: str, search: Search,
                 ledger: Ledger | None = None) -> WalkForward:
    params = hyperopt(workspace, in_sample, search)
    is_stats = backtest(workspace, in_sample, "in-sample")
    oos_stats = backtest(workspace, out_of_sample, "out-of-sample")
    is_head, oos_head = headline(is_stats), headline(oos_stats)
    result = verdict(is_head["sharpe"] or 0.0, oos_head["sharpe"] or 0.0)
    config = workspace.config
    (ledger or Ledger()).record(f"{STRATEGY} single split", f"{out_of_sample} "
                    f"{config.get('trading_mode', 'spot')} {config['timeframe']}",
                    {"params": params, "search": asdict(search)},
                    {k: oos_head[k] for k in ("trades", "sharpe", "return_ratio")})
    report = {"in_sample": {"timerange": in_sample, **is_head},
              "out_of_sample": {"timerange": out_of_sample, **oos_head},
              "verdict": asdict(result), "params": params, "search": asdict(search),
              "rule": f"unfit below {MIN_OOS_TO_IS_RATIO} x in-sample Sharpe or below "
                      f"{MIN_OOS_SHARPE} out of sample"}
    return WalkForward(report, is_stats, oos_stats)


def markdown(report: dict[str, Any]) -> str:
    is_, oos, v = report["in_sample"], report["out_of_sample"], report["verdict"]
    rows = ["| | in sample | out of sample |", "|---|---|---|",
            *(f"| {key} | {is_[key]} | {oos[key]} |" for key in
              ("timerange", "trades", "sharpe", "sharpe_ci95", "freqtrade_sharpe", "return_ratio",
             "return_before_fees_ratio",
               "max_drawdown_ratio", "fees_usd", "funding_fees_usd", "halts"))]
    return "\n".join([
        f"# Walk-forward: {STRATEGY}", "",
        f"Hyperopt ({report['search']['epochs']} epochs, spaces signals + ensemble, protections "
        "on) over "
        f"{is_['timerange']}; backtests with the best parameters over both windows. The "
        "hyperopt runs without the FreqAI ranker (freqtrade refuses --analyze-per-epoch for a "
        "FreqAI strategy, and the signal parameters act in populate_indicators); both "
        "backtests run with it.", "",
        *rows, "",
        f"**Verdict: {'fit' if v['fit'] else 'UNFIT'}** - {v['reason']} ({report['rule']}).",
        "", f"Parameters: `{json.dumps(report['params'], sort_keys=True)}`", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-sample", default="20250101-20250701")
    parser.add_argument("--out-of-sample", default="20250701-20260219")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--min-trades", type=int, default=10)
    parser.add_argument("--config", default="config/backtest.json")
    parser.add_argument("--output", default=str(REPORTS / "walk_forward"))
    parser.add_argument("--ledger", default=None, help="default research/oos_ledger.jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace.create(Path(tmp), PROJECT_ROOT / args.config)
        search = Search(args.epochs, args.jobs, args.seed, args.min_trades)
        ledger = Ledger(Path(args.ledger)) if args.ledger else None
        report = walk_forward(workspace, args.in_sample, args.out_of_sample, search,
                              ledger).report
    print(markdown(report))
    write_report(Path(args.output), report, markdown(report))


if __name__ == "__main__":
    main()
