"""``python -m research.models_report``: the models judged out of sample (``make report-models``).

Walk-forward over the shared Binance USDT-M 5m candles (``walk_forward``): per 14-day window
and overall, rank IC with its t-statistic, top-k minus universe forward return after fees,
NDCG@k and hit rate, for the pooled ranker, a per-pair LightGBM regressor and a momentum
ranking, on the same timestamps. Then the drift gate on real data (``drift_study``). Writes
``reports/models.json`` and ``reports/models.md``. Every setting comes from
``config/freqai.json``'s ``centaur.models`` block as it stands before the run; nothing is tuned
on the windows reported here.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import pandas as pd
from freqtrade.enums import CandleType

from centaur.report_files import write_report
from centaur.settings import settings_from
from centaur.settings.models import ModelsSettings
from freqai_models.candle_source import DatadirSource
from freqai_models.feature_catalogue import TRAINING_NAMES, WARMUP_CANDLES
from freqai_models.features import compute_features
from freqai_models.panel_sources import DatadirPanels
from freqai_models.schedule import Window, windows_between
from freqai_models.walk_forward import MODELS, WindowScores, metrics_for, score_window
from research.drift_study import gate_study
from research.models_report_markdown import render

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REPORT_PAIRS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT",
                "BNB/USDT:USDT", "DOGE/USDT:USDT", "BCH/USDT:USDT", "ZEC/USDT:USDT",
                "INJ/USDT:USDT", "OP/USDT:USDT", "ORCA/USDT:USDT", "PIPPIN/USDT:USDT")
STUDY_PAIRS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT")
SPOT_PAIRS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "BNB/USDT", "DOGE/USDT",
              "BCH/USDT")
DAY = pd.Timedelta(days=1)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    settings = settings_from(config).models
    started = time.perf_counter()
    walk = walk_forward(args, settings, config)
    studies = drift_studies(args, settings)
    payload = {**walk, "drift_gate": studies,
               "report_secs": round(time.perf_counter() - started, 1),
               "command": "python -m research.models_report"}
    print(json.dumps(payload["overall"], indent=1))
    write_report(PROJECT_ROOT / args.out / "models", payload, render(payload), indent=1)
    print(f"report took {payload['report_secs']} s")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/freqai.json")
    parser.add_argument("--datadir", default="../shared/data/binance")
    parser.add_argument("--spot-2021", default="../shared/data/binance-2021-22q1")
    parser.add_argument("--pairs", nargs="+", default=list(REPORT_PAIRS))
    parser.add_argument("--stop", default="2026-02-19")
    parser.add_argument("--max-windows", type=int, default=0, help="0: all windows")
    parser.add_argument("--out", default="reports")
    return parser.parse_args(argv)


def walk_forward(args: argparse.Namespace, settings: ModelsSettings, config: dict) -> dict:
    period = pd.Timedelta(days=config["freqai"]["backtest_period_days"])
    train = pd.Timedelta(days=config["freqai"]["train_period_days"])
    source = DatadirSource(PROJECT_ROOT / args.datadir)
    stop = pd.Timestamp(args.stop, tz="UTC")
    panels = DatadirPanels(source, tuple(args.pairs), settings, train + period, stop,
                           anchor=pd.Timedelta(days=36500))
    windows = _windows(source, tuple(args.pairs), period, train, stop, args.max_windows)
    scored: list[WindowScores] = []
    for window in windows:
        scored.append(score_window(panels(window.train_start, window.stop), window, settings))
    return {"setup": _setup(args, settings, period, train, windows),
            "windows": [_window_entry(w, settings) for w in scored],
            "overall": {model: metrics_for(scored, model, settings).as_dict()
                        for model in MODELS},
            "training_secs": {model: round(sum(w.seconds.get(model, 0.0) for w in scored), 2)
                              for model in ("ranker", "per_pair_regressor")}}


def _windows(source: DatadirSource, pairs: tuple[str, ...], period: pd.Timedelta,
             train: pd.Timedelta, stop: pd.Timestamp, limit: int) -> list[Window]:
    first_data = min(source.available(pair)[0] for pair in pairs)
    warmup = pd.Timedelta(seconds=WARMUP_CANDLES * source.timeframe_secs)
    earliest = first_data + warmup + train
    windows = [w for w in windows_between(earliest, stop, period, train)
               if w.boundary >= earliest and w.stop <= stop]
    return windows[:limit] if limit else windows


def _setup(args, settings: ModelsSettings, period, train, windows: list[Window]) -> dict:
    return {"pairs": list(args.pairs), "datadir": args.datadir, "timeframe": "5m",
            "windows": len(windows), "first_window": str(windows[0].boundary) if windows
            else None, "last_window_end": str(windows[-1].stop) if windows else None,
            "period_days": period / DAY, "train_period_days": train / DAY,
            "features": len(TRAINING_NAMES), "ranker": settings.ranker.model_dump(),
            "drift": settings.drift.model_dump(),
            "momentum_baseline": "score = 24 h log return (logret_288), fixed a priori",
            "per_pair_regressor": "lightgbm.LGBMRegressor per pair and window, same "
                                  "hyperparameters and hourly training rows as the ranker, "
                                  "target: the pair's 4 h forward log return"}


def _window_entry(scored: WindowScores, settings: ModelsSettings) -> dict:
    return {"boundary": str(scored.window.boundary), "stop": str(scored.window.stop),
            "train_rows": scored.train_rows,
            "ranker_blocked_share": scored.blocked_share,
            **{model: metrics_for([scored], model, settings).as_dict() for model in MODELS}}


def drift_studies(args: argparse.Namespace, settings: ModelsSettings) -> dict:
    """In distribution, the 2025-10-10 cascade, and the 2021-22 spot market against 2025."""
    futures = DatadirSource(PROJECT_ROOT / args.datadir)
    five_minute = _features(futures, STUDY_PAIRS, "2025-06-01", "2025-11-01", settings)
    cases = {
        "in_distribution_held_out_week": (("2025-07-01", "2025-07-15"), ("2025-07-22",
                                          "2025-08-07"), ("2025-07-15", "2025-07-22")),
        "crash_2025_10_10": (("2025-09-09", "2025-10-09"), None, ("2025-10-09", "2025-10-16")),
    }
    out = {name: {pair: _study(five_minute[pair], ref, extra, test, settings.drift)
                  for pair in STUDY_PAIRS} for name, (ref, extra, test) in cases.items()}
    out["spot_1h_2021_22_vs_2025"] = _spot_regime_study(args, settings)
    return out


def _features(source: DatadirSource, pairs, start: str, stop: str,
              settings: ModelsSettings) -> dict[str, pd.DataFrame]:
    begin = pd.Timestamp(start, tz="UTC") - pd.Timedelta(
        seconds=WARMUP_CANDLES * source.timeframe_secs)
    inputs = {pair: source.inputs(pair, begin, pd.Timestamp(stop, tz="UTC")) for pair in pairs}
    features = compute_features(inputs, settings.garch, source.timeframe_secs)
    return {pair: frame.set_axis(pd.DatetimeIndex(inputs[pair].candles["date"]))
            for pair, frame in features.items()}


def _study(features: pd.DataFrame, reference: tuple[str, str], extra: tuple[str, str] | None,
           test: tuple[str, str], settings) -> dict:
    ref = _span(features, *reference)
    if extra is not None:
        ref = pd.concat([ref, _span(features, *extra)])
    result = gate_study(ref, _span(features, *test), settings).as_dict()
    return {"reference": [reference, extra] if extra else [reference], "test": test, **result}


def _span(features: pd.DataFrame, start: str, stop: str) -> pd.DataFrame:
    index = features.index
    return features[(index >= pd.Timestamp(start, tz="UTC")) & (index < pd.Timestamp(stop,
                                                                                     tz="UTC"))]


def _spot_regime_study(args: argparse.Namespace, settings: ModelsSettings) -> dict:
    """1h spot features: 2025 reference; a held-out 2025 month (control) and 2021-22."""
    recent = DatadirSource(PROJECT_ROOT / args.datadir, "1h", 3600, CandleType.SPOT,
                           side_data=False)
    older = DatadirSource(PROJECT_ROOT / args.spot_2021, "1h", 3600, CandleType.SPOT,
                          side_data=False)
    pairs = [p for p in SPOT_PAIRS if recent.available(p) and older.available(p)]
    now = _features(recent, pairs, "2025-03-01", "2025-10-01", settings)
    then = _features(older, pairs, "2021-11-01", "2022-04-01", settings)
    out = {}
    for pair in pairs[:4]:
        ref = pd.concat([_span(now[pair], "2025-03-01", "2025-06-01"),
                         _span(now[pair], "2025-07-01", "2025-10-01")])
        out[pair] = {
            "control_held_out_2025_06": gate_study(ref, _span(now[pair], "2025-06-01",
                                                              "2025-07-01"),
                                                   settings.drift).as_dict(),
            "regime_2021_11_to_2022_03": gate_study(ref, _span(then[pair], "2021-11-01",
                                                               "2022-04-01"),
                                                    settings.drift).as_dict()}
    return out


if __name__ == "__main__":
    main()
