"""The flagship's rolling walk-forward: parameters chosen in sample per fold, judged only on the
out-of-sample windows, against buy-and-hold and random entries with the same exits and sizing.

    python -m research.evidence.walk_forward_runner --timerange 20250210-20260219 \\
        [--folds 6] [--train-days 60] [--epochs 12] [--jobs 2] [--pairs BTC/USDT:USDT ...] \\
        [--datadir ../shared/data/binance] [--config config/backtest.json] [--output FILE]

Per fold (``folds.rolling_folds``: consecutive test windows, each preceded by a training
window that ends ``purge`` before it - the label horizon, 1 day - and ``embargo`` between test
windows):

1. ``freqtrade hyperopt`` over the training window only (spaces ``signals`` + ``ensemble``,
   ``--analyze-per-epoch``, protections on, Sharpe loss, a fixed random state).
   *The models in hyperopt.* freqtrade refuses ``--analyze-per-epoch`` with FreqAI enabled, and
   the signal parameters act in ``populate_indicators``, so FreqAI cannot run inside it. The
   ranker does not need to: its pooled windows (``freqai_models.window_store``) are stored on
   disk per calendar window, each trained on data before its boundary only, and the ranker
   reads a candle's columns from them as a function of the candle's time. The runner builds
   those windows once for the whole period with the ranker's own engine (``models="stored"``:
   the same fingerprint and folder FreqAI uses), and hyperopt runs ``<strategy>StoredModels`` -
   the strategy with FreqAI off whose models stage reads the stored windows (ranker columns,
   drift columns, the drift gate) instead of calling FreqAI. ``models="off"`` runs hyperopt
   without the ranker (and says so in the result).
2. Backtest of the test window with the fold's best parameters: the real strategy, FreqAI on
   (it reuses the same stored windows), and the random-entry control (``CentaurRandomEntry``:
   the same parameters, gates, sizer, stops and exits, the same number of entry candles per
   pair at seeded random candles).
3. One ledger line per fold (subject ``flagship``, window = the test timerange).

Then the OOS trades of all folds are concatenated into one daily equity curve (starting wallet
+ closed ``profit_abs``, which is after fees and funding; flat days included; the days of the
test windows only) and measured with ``research.evidence.stats``: daily Sharpe with its
bootstrap interval, the deflated Sharpe with trials = every hyperopt epoch of every fold and
their variance = the variance of the epochs' daily Sharpe ratios (from freqtrade's per-epoch
``daily_profit``), max drawdown, return, fees and funding. The same figures for equal-weight
buy-and-hold of the pairs over the same days (from the candles) and for the random control.

Other strategies and data sets: ``--config``, ``--strategy``, ``--trading-mode``,
``--timeframe``, ``--datadir``, ``--pairs``. A config without FreqAI runs with
``models_in_hyperopt: false`` and says why; ``--control auto`` (the default for a strategy
other than the flagship) generates ``<strategy>RandomEntry`` from ``RandomEntryMixin``. E.g.
the 2021-22 spot set (1h, long only): ``--config config/backtest-spot-2021.json --strategy
CentaurEnsembleSpot --timerange 20210801-20220331 --train-days 45``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import PROJECT_ROOT, timed_backtest
from centaur.strategy_base import StrategyMixin
from freqai_models.model_columns import add_model_columns
from freqai_models.models_stage import ModelColumns
from research.evidence import equity, stats
from research.evidence.folds import Fold, rolling_folds
from research.evidence.ledger import Ledger
from research.walk_forward import LOSS, SPACES, Search, Workspace, hyperopt

FLAGSHIP = "CentaurEnsemble"
CONTROL = "CentaurRandomEntry"
STORED_SUFFIX = "StoredModels"
MODELS_MODES = ("stored", "off")
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "backtest.json"
DEFAULT_MODELS_CACHE = PROJECT_ROOT / "user_data" / "models"


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides a walk-forward run (recorded in its result)."""

    timerange: str = "20250210-20260219"
    folds: int = 6
    train_days: float = 60.0
    purge_days: float = 1.0  # the label horizon: training ends this long before the test
    embargo_days: float = 1.0
    epochs: int = 12
    jobs: int = 2
    seed: int = 42
    min_trades: int = 5
    models: str = "stored"  # "stored": hyperopt sees the ranker's stored windows; "off"
    strategy: str = FLAGSHIP
    control: str | None = CONTROL
    control_seed: int = 7
    config: str = str(DEFAULT_CONFIG)
    datadir: str | None = None  # default: the config's
    pairs: tuple[str, ...] | None = None  # default: the config's whitelist
    trading_mode: str | None = None  # default: the config's ("spot" for a spot data set)
    timeframe: str | None = None  # default: the config's (and the strategy's)
    subject: str = "flagship"
    storage: str | None = None  # Optuna RDB URL: each fold's hyperopt is a shared study there
    join: bool = False  # only work on the folds' studies (another machine runs the report)

    def study_name(self, fold: Fold) -> str:
        """The fold's study: the same on every machine that runs the same spec."""
        decisive = {k: v for k, v in asdict(self).items() if k not in ("storage", "join", "jobs")}
        digest = hashlib.sha256(json.dumps(decisive, sort_keys=True, default=str).encode())
        return f"wf-{self.strategy}-{digest.hexdigest()[:10]}-fold{fold.index}"

    def fold_list(self) -> list[Fold]:
        start, end = parse_timerange(self.timerange)
        return day_folds(rolling_folds(start, end, self.folds, timedelta(days=self.train_days),
                                       timedelta(days=self.purge_days),
                                       timedelta(days=self.embargo_days)))


def day_folds(folds: list[Fold]) -> list[Fold]:
    """The folds on whole UTC days (freqtrade's ``--timerange`` is a day): every boundary
    floored. Within a fold train end and test start share their time of day, and so do one
    test's end and the next test's start, so the purge and the embargo stay exact."""
    def floor(moment: datetime) -> datetime:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)

    return [Fold(f.index, floor(f.train_start), floor(f.train_end), floor(f.test_start),
                 floor(f.test_end)) for f in folds]


def parse_timerange(timerange: str) -> tuple[datetime, datetime]:
    start, _, end = timerange.partition("-")
    if not start or not end:
        raise ValueError(f"timerange {timerange!r}: give both ends, YYYYMMDD-YYYYMMDD")
    return (datetime.strptime(start, "%Y%m%d").replace(tzinfo=UTC),
            datetime.strptime(end, "%Y%m%d").replace(tzinfo=UTC))


# --- the models in hyperopt: the ranker's stored windows ------------------------------------


def ranker_engine(config: dict[str, Any], stop: pd.Timestamp | None, train: bool):
    """The pooled ranker's engine on the store FreqAI uses for this config (same folder, same
    fingerprint as ``CentaurLGBMRanker``). ``train`` False: a missing window is an error, never
    trained silently (hyperopt workers only read)."""
    from freqtrade.enums import CandleType
    from freqtrade.exchange import timeframe_to_seconds

    from centaur.settings import settings_from
    from freqai_models.candle_source import DatadirSource
    from freqai_models.CentaurLGBMRanker import ranker_key
    from freqai_models.panel_sources import DatadirPanels
    from freqai_models.ranker_engine import PooledRankerEngine
    from freqai_models.universe import resolve_universe
    from freqai_models.window_store import WindowStore

    freqai = config["freqai"]
    models = settings_from(config).models
    universe = resolve_universe(config)
    timeframe = config["timeframe"]
    secs = timeframe_to_seconds(timeframe)
    period = pd.Timedelta(days=float(freqai.get("backtest_period_days", 7)))
    train_period = pd.Timedelta(days=float(freqai.get("train_period_days", 30)))
    # CentaurLGBMRanker's own key (the OOS backtests also check that FreqAI read the same
    # windows: check_same_windows)
    key = ranker_key(config)
    root = store_root(config)
    if train:
        candle_type = CandleType.FUTURES if config.get("trading_mode") == "futures" \
            else CandleType.SPOT
        source = DatadirSource(Path(config["datadir"]), timeframe, secs, candle_type)
        last = stop + pd.Timedelta(seconds=secs) if stop is not None else None
        panels = DatadirPanels(source, universe, models, train_period + period, last)
    else:
        panels = NoTraining(str(root / "pooled" / key))
    return PooledRankerEngine(models, WindowStore(root, key), panels, period, train_period)


def store_root(config: dict[str, Any]) -> Path:
    """FreqAI's folder for the config's identifier (``IFreqaiModel.full_path``)."""
    return Path(config["user_data_dir"]) / "models" / str(config["freqai"]["identifier"])


def fingerprints(config: dict[str, Any]) -> set[str]:
    """The pooled-window fingerprints present in the config's model folder."""
    pooled = store_root(config) / "pooled"
    return {p.name for p in pooled.iterdir() if p.is_dir()} if pooled.is_dir() else set()


def check_same_windows(before: set[str], after: set[str], read: str) -> None:
    """Fail when a FreqAI backtest wrote windows under another fingerprint than the one
    hyperopt read: the hyperopt would have seen other models than the OOS backtest."""
    new = after - before - {read}
    if new:
        raise RuntimeError(
            f"the OOS FreqAI backtest built ranker windows under fingerprint(s) {sorted(new)}, "
            f"hyperopt read {read}: research.evidence.walk_forward_runner.ranker_engine's "
            "fingerprint is out of step with CentaurLGBMRanker's key. Fix: make the two "
            "fingerprints the same (its parts are listed in CentaurLGBMRanker.__init__)")


@dataclass(frozen=True)
class NoTraining:
    """The panel source of a read-only engine: asking for a panel means a window is missing."""

    store: str

    def __call__(self, start: pd.Timestamp, stop: pd.Timestamp):
        raise RuntimeError(
            f"ranker window for [{start}, {stop}) is not in {self.store}: the walk-forward "
            "builds the stored windows before hyperopt (precompute_models); a changed config "
            "or model code changes the fingerprint")


def startup_span(config: dict[str, Any]) -> timedelta:
    """How far before a timerange freqtrade loads candles (the strategy's startup candles,
    the models' longest window) and a day: hyperopt's frames start there."""
    from freqtrade.exchange import timeframe_to_seconds

    from freqai_models.feature_catalogue import WARMUP_CANDLES

    return timedelta(seconds=WARMUP_CANDLES * timeframe_to_seconds(config["timeframe"]),
                     days=1)


def precompute_models(config: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    """Build (or reuse) every stored ranker window whose candles fall in [start, end)."""
    from freqai_models.schedule import windows_between

    stop = pd.Timestamp(end)
    engine = ranker_engine(config, stop, train=True)
    started = time.perf_counter()
    windows = windows_between(pd.Timestamp(start), stop, engine.period, engine.train_period)
    untrained = []  # too little data before the boundary: its candles are blocked
    for window in windows:
        if engine.result(window, stop).booster is None:
            untrained.append(str(window.boundary))
    return {"windows": len(windows), "trained": engine.trainings,
            "reused": len(windows) - engine.trainings,
            "secs": round(time.perf_counter() - started, 1),
            "fingerprint": engine.store.root.name, "first_boundary": str(windows[0].boundary),
            "untrained_windows": untrained}


class StoredModelColumns(ModelColumns):
    """The models stage with the ranker's columns read from its stored windows (FreqAI off):
    the same ``add_model_columns`` and drift events as with FreqAI on. The engine is opened
    lazily in each process (hyperopt pickles the strategy to its workers)."""

    def __init__(self, base: ModelColumns, config: dict[str, Any]):
        self.__dict__.update(base.__dict__)
        self.freqai_on = True  # the pipeline builds the drift gate
        self._config = config
        self._engine = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_engine": None}

    def _stop(self) -> pd.Timestamp:
        """The timerange's end and one candle (the ranker fills the end candle too)."""
        from freqtrade.configuration import TimeRange

        timerange = self._config.get("timerange")
        stopts = TimeRange.parse_timerange(timerange).stopts if timerange else 0
        if not stopts:
            return pd.Timestamp.max.tz_localize("UTC")
        return pd.Timestamp(stopts, unit="s", tz="UTC") + pd.Timedelta(seconds=self._step_secs)

    def add(self, dataframe: pd.DataFrame, metadata: dict, freqai: Any, strategy: Any
            ) -> pd.DataFrame:
        from freqai_models.pooled_window import PREDICTION_COLUMNS
        from freqai_models.ranker_engine import do_predict

        if self._engine is None:
            self._engine = ranker_engine(self._config, None, train=False)
        pair = metadata["pair"]
        frame = self._engine.predictions(pair, dataframe["date"], self._stop())
        dataframe = dataframe.drop(columns=[*PREDICTION_COLUMNS, "do_predict"], errors="ignore")
        for column in PREDICTION_COLUMNS:
            dataframe[column] = frame[column].to_numpy()
        dataframe["do_predict"] = do_predict(frame)
        dataframe = add_model_columns(dataframe, self._settings, pair, self._step_secs)
        self._drift_events.emit(dataframe, pair, self._events)
        return dataframe


class StoredModelsMixin(StrategyMixin):
    """Mix into a suite strategy run with ``freqai.enabled`` false: its models stage reads the
    stored ranker windows (``StoredModelColumns``) and its pipeline gets the drift gate.
    Based on ``StrategyMixin`` so hyperopt can pickle it to its workers (see there)."""

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        if getattr(self, "models", None) is None:
            return
        self.models = StoredModelColumns(self.models, self.config)
        self.pipeline = self._build_pipeline()


def random_entry_file(workspace: Workspace, strategy: str, module: str | None = None) -> str:
    """A resolver file in the workspace for ``<strategy>RandomEntry``: any suite strategy with
    ``RandomEntryMixin`` (the control of a strategy without a control class of its own, e.g.
    a spot variant); returns its name."""
    name = f"{strategy}RandomEntry"
    (workspace.strategy_path / f"{name}.py").write_text(
        '"""Generated by research.evidence.walk_forward_runner (scratch workspace only)."""\n\n'
        "from strategies.CentaurRandomEntry import RandomEntryMixin\n"
        f"from {module or 'strategies.' + strategy} import {strategy} as _Base\n\n\n"
        f"class {name}(RandomEntryMixin, _Base):\n    pass\n")
    return name


def control_name(workspace: Workspace, spec: RunSpec) -> str | None:
    """The control strategy: ``spec.control``; "auto" (or the flagship's control asked for
    another strategy) generates ``<strategy>RandomEntry``."""
    if not spec.control:
        return None
    if spec.control == "auto" or (spec.control == CONTROL and spec.strategy != FLAGSHIP):
        return random_entry_file(workspace, spec.strategy)
    return spec.control


def stored_models_file(workspace: Workspace, strategy: str) -> str:
    """A resolver file in the workspace for ``<strategy>StoredModels``; returns its name."""
    name = f"{strategy}{STORED_SUFFIX}"
    module = f"strategies.{strategy}"
    (workspace.strategy_path / f"{name}.py").write_text(
        '"""Generated by research.evidence.walk_forward_runner (scratch workspace only)."""\n\n'
        "from research.evidence.walk_forward_runner import StoredModelsMixin\n"
        f"from {module} import {strategy} as _Base\n\n\n"
        f"class {name}(StoredModelsMixin, _Base):\n    pass\n")
    return name


# --- configs, parameters, runs ----------------------------------------------------------------


def prepare_workspace(root: Path, spec: RunSpec, models_cache: Path | None) -> Workspace:
    workspace = Workspace.create(root, Path(spec.config))
    config = workspace.config
    datadir = Path(spec.datadir or config.get("datadir", "user_data/data"))
    config["datadir"] = str(datadir if datadir.is_absolute() else
                            (PROJECT_ROOT / datadir).resolve())
    if spec.pairs:
        config["exchange"]["pair_whitelist"] = list(spec.pairs)
    if spec.trading_mode:
        config["trading_mode"] = spec.trading_mode
        if spec.trading_mode == "spot":
            config.pop("margin_mode", None)
    if spec.timeframe:
        config["timeframe"] = spec.timeframe
    recordings = config.get("centaur", {}).get("exchange", {}).get("offline_markets", {})
    if recordings.get("recordings_dir") and not Path(recordings["recordings_dir"]).is_absolute():
        recordings["recordings_dir"] = str((PROJECT_ROOT / recordings["recordings_dir"])
                                           .resolve())
    config["random_entry"] = {"seed": spec.control_seed}
    if models_cache is not None:
        models_cache.mkdir(parents=True, exist_ok=True)
        link = root / "user_data" / "models"
        if not link.exists():
            link.symlink_to(models_cache.resolve(), target_is_directory=True)
    return workspace


def write_config(workspace: Workspace, name: str, freqai: bool) -> Path:
    config = json.loads(json.dumps(workspace.config))
    if "freqai" in config:
        config["freqai"]["enabled"] = freqai and config["freqai"].get("enabled", False)
    path = workspace.root / f"{name}.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def write_params(workspace: Workspace, strategy: str, params: dict[str, Any]) -> None:
    """The fold's parameters beside ``strategy``'s resolver file (freqtrade loads them)."""
    (workspace.strategy_path / f"{strategy}.json").write_text(json.dumps(
        {"strategy_name": strategy, "params": params, "ft_stratparam_v": 1,
         "export_time": datetime.now(UTC).isoformat()}, indent=2))


def latest_epochs(workspace: Workspace, strategy: str) -> list[dict[str, Any]]:
    """The epochs of the last hyperopt of ``strategy`` in the workspace (freqtrade's .fthypt)."""
    folder = workspace.root / "user_data" / "hyperopt_results"
    files = sorted(folder.glob(f"strategy_{strategy}_*.fthypt"), key=lambda p: p.stat().st_mtime)
    if not files:
        return []
    return [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]


def epoch_daily_sharpe(metrics: dict[str, Any]) -> float:
    """Per-day (not annualised) Sharpe of one hyperopt epoch, from its ``daily_profit``."""
    start = metrics.get("backtest_start")
    end = metrics.get("backtest_end")
    balance = float(metrics.get("starting_balance") or 0)
    if not start or not end or balance <= 0:
        return float("nan")
    # dated at 00:00: a profit on the end day (force exits) counts on the last day
    trades = [{"close_date": f"{day} 00:00", "profit_abs": profit}
              for day, profit in metrics.get("daily_profit") or []]
    curve = equity.daily_equity(trades, balance, start, end)
    returns = stats.daily_returns(curve).to_numpy()
    return stats.sharpe(returns, periods_per_year=1)


def oos_backtest(workspace: Workspace, strategy: str, fold: Fold, config: Path
                 ) -> dict[str, Any]:
    run = timed_backtest(config, strategy=strategy, strategy_path=workspace.strategy_path,
                         timerange=fold.timerange("test"), work_dir=workspace.root / "results",
                         extra_args=["--enable-protections"])
    return {"stats": run.stats, "wall_secs": round(run.wall_secs, 1)}


def headline(trades: list[dict[str, Any]], curve: pd.Series, freqtrade_stats: dict[str, Any]
             | None = None, **metric_args) -> dict[str, Any]:
    costs = equity.trade_costs(trades)
    out = {"trades": len(trades), **equity.curve_metrics(curve, **metric_args),
           "fees_usd": round(costs["fees_usd"], 2),
           "funding_fees_usd": round(costs["funding_fees_usd"], 2),
           "profit_abs": round(sum(float(t["profit_abs"]) for t in trades), 2)}
    if freqtrade_stats is not None:
        out["freqtrade_sharpe"] = round(float(freqtrade_stats.get("sharpe") or 0), 3)
    return out


# --- the run --------------------------------------------------------------------------------


@dataclass
class FoldResult:
    fold: Fold
    params: dict[str, Any]
    epochs: list[dict[str, Any]] = field(default_factory=list)
    oos: dict[str, Any] = field(default_factory=dict)
    control: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    note: str | None = None


def run_walk_forward(config_path: str | Path = DEFAULT_CONFIG, datadir: str | Path | None = None,
                     pairs: Sequence[str] | None = None, timerange: str = RunSpec.timerange,
                     folds: int = RunSpec.folds, epochs: int = RunSpec.epochs,
                     jobs: int = RunSpec.jobs, *, ledger: Ledger | None = None,
                     models_cache: Path | None = DEFAULT_MODELS_CACHE,
                     workdir: Path | None = None, **options: Any) -> dict[str, Any]:
    """The rolling walk-forward (module docstring); a JSON-ready dict.

    ``options`` are the other ``RunSpec`` fields (train_days, purge_days, embargo_days, seed,
    min_trades, models, strategy, control, control_seed, trading_mode, timeframe, subject).
    ``models_cache`` is where the stored ranker windows live (default ``user_data/models``,
    shared with ``make demo``; ``None``: inside the scratch workspace). ``ledger`` defaults to
    ``research/oos_ledger.jsonl``."""
    spec = RunSpec(timerange=timerange, folds=folds, epochs=epochs, jobs=jobs,
                   config=str(config_path), datadir=str(datadir) if datadir else None,
                   pairs=tuple(pairs) if pairs else None, **options)
    if spec.models not in MODELS_MODES:
        raise ValueError(f"models={spec.models!r}: one of {MODELS_MODES}")
    if spec.join and not spec.storage:
        raise ValueError("join=True needs a storage URL: the studies to join live there")
    ledger = ledger or Ledger()
    fold_list = spec.fold_list()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        workspace = prepare_workspace(Path(tmp), spec, models_cache)
        result = _run(workspace, spec, fold_list, ledger)
    result["runtime_secs"] = round(time.perf_counter() - started, 1)
    return result


def _run(workspace: Workspace, spec: RunSpec, fold_list: list[Fold], ledger: Ledger
         ) -> dict[str, Any]:
    config = workspace.config
    freqai_configured = bool(config.get("freqai", {}).get("enabled", False))
    models_on = spec.models == "stored" and freqai_configured
    timings: dict[str, float] = {}
    models_info: dict[str, Any] = {"models_in_hyperopt": models_on}
    hyperopt_strategy = spec.strategy
    if models_on:
        began = time.perf_counter()
        precompute = precompute_models(config, fold_list[0].train_start - startup_span(config),
                                       fold_list[-1].test_end + timedelta(days=1))
        timings["precompute_models_secs"] = round(time.perf_counter() - began, 1)
        hyperopt_strategy = stored_models_file(workspace, spec.strategy)
        models_info.update({
            "how": "hyperopt runs the strategy with FreqAI off and its models stage reading the "
                   "FreqAI ranker's stored pooled windows (each trained only on data before its "
                   "calendar boundary; the same store and fingerprint FreqAI reuses in the OOS "
                   "backtests); ranker, drift columns and the drift gate are all on",
            "precompute": precompute})
    else:
        models_info["reason"] = (
            "the config has FreqAI off" if not freqai_configured else
            "models='off' was asked: freqtrade refuses --analyze-per-epoch for a FreqAI "
            "strategy and the signal parameters need it, so hyperopt ran without the ranker "
            "(no ranker columns, no drift gate); OOS backtests run as configured")
    hyperopt_config = write_config(workspace, "hyperopt", freqai=False)
    oos_config = write_config(workspace, "oos", freqai=True)
    # Every fold's in-sample search first (with a storage each fold is a shared study that
    # workers on other machines join: ``--join``), then the folds' OOS backtests.
    searched = [_fold_search(workspace, spec, fold, hyperopt_strategy, hyperopt_config)
                for fold in fold_list]
    if spec.join:
        return {"joined": [spec.study_name(f) for f in fold_list],
                "hyperopt_secs": [r.timings["hyperopt_secs"] for r in searched]}
    results = [_fold(workspace, spec, result, oos_config, ledger, hyperopt_config,
                     hyperopt_strategy) for result in searched]
    return _report(workspace, spec, results, models_info, timings)


def _fold_search(workspace: Workspace, spec: RunSpec, fold: Fold, hyperopt_strategy: str,
                 hyperopt_config: Path) -> FoldResult:
    """The fold's in-sample hyperopt: its best parameters and every epoch it tried."""
    search = Search(spec.epochs, spec.jobs, spec.seed, spec.min_trades, spec.storage,
                    spec.study_name(fold) if spec.storage else None)
    (workspace.strategy_path / f"{hyperopt_strategy}.json").unlink(missing_ok=True)
    began = time.perf_counter()
    note = None
    try:
        params = hyperopt(workspace, fold.timerange("train"), search,
                          strategy=hyperopt_strategy, config=hyperopt_config)
    except RuntimeError as err:
        if "found no epoch" not in str(err) and "No good result" not in str(err):
            raise
        params, note = None, (f"no epoch made {search.min_trades} trades in sample: the OOS "
                              "backtests use the strategy's default parameters")
    result = FoldResult(fold, params, latest_epochs(workspace, hyperopt_strategy), note=note)
    result.timings["hyperopt_secs"] = round(time.perf_counter() - began, 1)
    return result


def _fold(workspace: Workspace, spec: RunSpec, result: FoldResult, oos_config: Path,
          ledger: Ledger, hyperopt_config: Path, hyperopt_strategy: str) -> FoldResult:
    fold, params = result.fold, result.params
    control = control_name(workspace, spec)
    runs = [spec.strategy] + ([control] if control else [])
    for name in runs:
        if params is None:
            (workspace.strategy_path / f"{name}.json").unlink(missing_ok=True)
        else:
            write_params(workspace, name, params)
    began = time.perf_counter()
    # the FreqAI backtests share one model folder: run them one after the other
    workers = 1 if json.loads(oos_config.read_text()).get("freqai", {}).get("enabled") else 2
    models_on = json.loads(hyperopt_config.read_text()).get("freqai") is not None \
        and hyperopt_strategy.endswith(STORED_SUFFIX)
    before = fingerprints(workspace.config) if models_on else set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda name: oos_backtest(workspace, name, fold, oos_config), runs))
    if models_on and workers == 1:
        read = ranker_engine(workspace.config, None, train=False).store.root.name
        check_same_windows(before, fingerprints(workspace.config), read)
    result.timings["oos_secs"] = round(time.perf_counter() - began, 1)
    result.oos = done[0]
    result.control = done[1] if len(done) > 1 else None
    trades = result.oos["stats"]["trades"]
    balance = float(result.oos["stats"]["starting_balance"])
    curve = equity.daily_equity(trades, balance, fold.test_start, fold.test_end)
    figures = headline(trades, curve, result.oos["stats"])
    ledger.record(spec.subject, fold.timerange("test"),
                  {"strategy": spec.strategy, "params": params, "models": spec.models,
                   "config": Path(spec.config).name, "pairs": workspace.config["exchange"]
                   ["pair_whitelist"], "timeframe": workspace.config["timeframe"]},
                  {k: figures[k] for k in ("trades", "sharpe", "return_ratio",
                                           "max_drawdown_ratio")}
                  | {"source": "research.evidence.walk_forward_runner", "fold": fold.index})
    return result


def _report(workspace: Workspace, spec: RunSpec, results: list[FoldResult],
            models_info: dict[str, Any], timings: dict[str, float]) -> dict[str, Any]:
    config = workspace.config
    balance = float(config.get("dry_run_wallet", 1000))
    pairs = list(config["exchange"]["pair_whitelist"])
    epoch_sharpes = [epoch_daily_sharpe(e["results_metrics"])
                     for r in results for e in r.epochs]
    finite = np.array([s for s in epoch_sharpes if np.isfinite(s)])
    trials = sum(len(r.epochs) for r in results) or spec.folds * spec.epochs
    trials_variance = float(finite.var(ddof=1)) if len(finite) > 2 else None
    folds_out = []
    flagship_days, control_days = [], []
    for r in results:
        fold = r.fold
        trades = r.oos["stats"]["trades"]
        curve = equity.daily_equity(trades, balance, fold.test_start, fold.test_end)
        flagship_days.append(curve.diff().dropna())
        best = min(r.epochs, key=lambda e: e["loss"]) if r.epochs else None
        entry = {**fold.as_dict(), "params": r.params, "note": r.note,
                 "in_sample": _in_sample(best, balance) if best else None,
                 "out_of_sample": headline(trades, curve, r.oos["stats"]),
                 "epochs": len(r.epochs), "timings": {**r.timings,
                                                      "oos_backtest_secs": r.oos["wall_secs"]}}
        if r.control is not None:
            control_trades = r.control["stats"]["trades"]
            control_curve = equity.daily_equity(control_trades, balance, fold.test_start,
                                                fold.test_end)
            control_days.append(control_curve.diff().dropna())
            entry["random_entry"] = headline(control_trades, control_curve,
                                             r.control["stats"])
        folds_out.append(entry)
    oos_trades = [t for r in results for t in r.oos["stats"]["trades"]]
    flagship_curve = _joined(flagship_days, balance)
    metric_args = {"trials": trials, "trials_variance": trials_variance}
    concatenated = headline(oos_trades, flagship_curve, None, **metric_args)
    benchmarks: dict[str, Any] = {}
    hold_curve = _buy_and_hold(config, pairs, [r.fold for r in results], balance)
    benchmarks["buy_and_hold"] = {
        "what": "equal weight of the pairs, bought at each test window's open, held to its "
                "end; same days; no fees or funding",
        **equity.curve_metrics(hold_curve)}
    if control_days:
        control_trades = [t for r in results for t in (r.control or {}).get("stats", {})
                          .get("trades", [])]
        control_curve = _joined(control_days, balance)
        benchmarks["random_entry"] = {
            "what": f"{control_name(workspace, spec)}: {spec.strategy} with its entry candles "
                    "moved to seeded random candles (same count per pair, side mix, tags and "
                    "their confidence; same gates, sizer, stops and exits)",
            **headline(control_trades, control_curve, None)}
    returns = flagship_curve.pct_change().dropna().to_numpy()  # the test days only
    comparisons = {}
    for name, curve in (("vs_buy_and_hold", hold_curve),
                        ("vs_random_entry", _joined(control_days, balance)
                         if control_days else None)):
        if curve is not None:
            other = curve.pct_change().dropna().to_numpy()
            if len(other) == len(returns):
                comparisons[name] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v
                                     in stats.paired_bootstrap_difference(returns, other).items()}
    return {
        "strategy": spec.strategy, "subject": spec.subject,
        "spec": {**asdict(spec), "pairs": pairs, "datadir": config["datadir"],
                 "trading_mode": config.get("trading_mode"), "timeframe": config["timeframe"],
                 "spaces": list(SPACES), "loss": LOSS},
        **models_info,
        "folds": folds_out,
        "trials": {"epochs_evaluated": trials, "epochs_per_fold": [len(r.epochs) for r in results],
                   "daily_sharpe_variance": None if trials_variance is None
                   else round(trials_variance, 6),
                   "variance_source": "per-epoch daily Sharpe from freqtrade's daily_profit"
                   if trials_variance is not None else "default 1/days (stats.deflated_sharpe)"},
        "out_of_sample": {"days": int(len(flagship_curve) - 1),
                          "windows": [r.fold.timerange("test") for r in results],
                          **concatenated,
                          "daily_returns": [round(float(x), 8) for x in returns]},
        "benchmarks": benchmarks, "differences_daily_return": comparisons,
        "timings": {**timings, "hyperopt_secs": round(sum(r.timings["hyperopt_secs"]
                                                          for r in results), 1),
                    "oos_secs": round(sum(r.timings["oos_secs"] for r in results), 1)},
    }


def _in_sample(epoch: dict[str, Any], balance: float) -> dict[str, Any]:
    metrics = epoch["results_metrics"]
    per_day = epoch_daily_sharpe(metrics)
    return {"trades": int(metrics.get("total_trades", 0)),
            "sharpe": None if not np.isfinite(per_day) else round(per_day * np.sqrt(365), 4),
            "return_ratio": round(float(metrics.get("profit_total", 0)), 4),
            "max_drawdown_ratio": round(float(metrics.get("max_drawdown_account", 0)), 4),
            "freqtrade_sharpe": round(float(metrics.get("sharpe") or 0), 3),
            "loss": round(float(epoch["loss"]), 4)}


def _joined(day_profits: list[pd.Series], balance: float) -> pd.Series:
    """One equity curve over the test days of every fold, in order (gaps are left out)."""
    profits = pd.concat(day_profits) if day_profits else pd.Series(dtype=float)
    curve = balance + profits.cumsum()
    first = profits.index[0] - pd.Timedelta(days=1) if len(profits) else pd.Timestamp(0, tz="UTC")
    return pd.concat([pd.Series([balance], index=[first]), curve]).astype(float)


def _buy_and_hold(config: dict[str, Any], pairs: list[str], folds: list[Fold],
                  balance: float) -> pd.Series:
    """Equal-weight buy and hold over the folds' test days, one window after the other."""
    from freqtrade.data.history import load_pair_history
    from freqtrade.enums import CandleType

    candle_type = CandleType.FUTURES if config.get("trading_mode") == "futures" \
        else CandleType.SPOT
    closes = {}
    for pair in pairs:
        frame = load_pair_history(pair, config["timeframe"], Path(config["datadir"]),
                                  candle_type=candle_type)
        closes[pair] = frame.set_index(pd.to_datetime(frame["date"], utc=True))["close"]
    returns = []
    for fold in folds:
        curve = equity.buy_and_hold_equity(closes, balance, fold.test_start, fold.test_end)
        returns.append(curve.pct_change().dropna())
    joined = pd.concat(returns)
    first = joined.index[0] - pd.Timedelta(days=1)
    return pd.concat([pd.Series([1.0], index=[first]), (1 + joined).cumprod()]) * balance


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = RunSpec()
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--timerange", default=defaults.timerange)
    parser.add_argument("--pairs", nargs="+", default=None)
    parser.add_argument("--datadir", default=None)
    parser.add_argument("--folds", type=int, default=defaults.folds)
    parser.add_argument("--train-days", type=float, default=defaults.train_days)
    parser.add_argument("--purge-days", type=float, default=defaults.purge_days)
    parser.add_argument("--embargo-days", type=float, default=defaults.embargo_days)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--jobs", type=int, default=defaults.jobs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--min-trades", type=int, default=defaults.min_trades)
    parser.add_argument("--models", choices=MODELS_MODES, default=defaults.models)
    parser.add_argument("--strategy", default=defaults.strategy)
    parser.add_argument("--control", default=defaults.control,
                        help="the random-entry control strategy; 'auto': generated for "
                             "--strategy from RandomEntryMixin; 'none' to skip it")
    parser.add_argument("--control-seed", type=int, default=defaults.control_seed)
    parser.add_argument("--trading-mode", choices=("futures", "spot"), default=None)
    parser.add_argument("--timeframe", default=None)
    parser.add_argument("--models-cache", default=str(DEFAULT_MODELS_CACHE),
                        help="folder of the stored ranker windows ('none': scratch only)")
    parser.add_argument("--ledger", default=None, help="default research/oos_ledger.jsonl")
    parser.add_argument("--storage", default=None,
                        help="an Optuna RDB URL (postgresql+pg8000://...): each fold's hyperopt "
                             "is a shared study (centaur hyperopt) that --join workers on other "
                             "machines work on")
    parser.add_argument("--join", action="store_true",
                        help="with --storage: only work on the folds' studies and stop (the "
                             "machine that runs without --join backtests and reports)")
    parser.add_argument("--output", default=str(PROJECT_ROOT / "reports" /
                                                 "evidence_walk_forward.json"))
    args = parser.parse_args(argv)
    result = run_walk_forward(
        args.config, args.datadir, args.pairs, args.timerange, args.folds, args.epochs,
        args.jobs, ledger=Ledger(Path(args.ledger)) if args.ledger else None,
        models_cache=None if args.models_cache == "none" else Path(args.models_cache),
        train_days=args.train_days, purge_days=args.purge_days,
        embargo_days=args.embargo_days, seed=args.seed, min_trades=args.min_trades,
        models=args.models, strategy=args.strategy,
        control=None if args.control == "none" else args.control,
        control_seed=args.control_seed, trading_mode=args.trading_mode,
        timeframe=args.timeframe, storage=args.storage, join=args.join)
    if args.join:
        print(json.dumps(result, indent=2))
        return
    text = json.dumps(result, indent=2, default=str)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    summary = {k: result[k] for k in ("models_in_hyperopt", "trials", "out_of_sample",
                                      "benchmarks", "differences_daily_return", "runtime_secs")}
    print(json.dumps(summary, indent=2, default=str))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
