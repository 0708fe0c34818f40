"""``python -m research.models_report``: the models judged out of sample (``make report-models``).

    python -m research.models_report [--datadir D] [--pairs P ...] [--timeframe 5m]
                                     [--timerange 20250101-20260219] [--max-windows N]

Walk-forward over ``--timerange`` of the traded pairs (``config/backtest.json``'s whitelist
unless ``--pairs``), training included, as freqtrade's timerange (``walk_forward``): per 14-day
window and overall, rank IC, top-k minus universe forward return after fees, NDCG@k and hit
rate, for the pooled ranker, a per-pair LightGBM regressor and a momentum ranking, on the same
timestamps; every model's Newey-West t-statistics with the number of models and tests tried and
a Bonferroni call (``models_report_stats``) - no model is headlined as the best. Then the drift
gate on real data, dated from the timerange (``drift_study``). The data kinds needed (candles,
funding, spot) are checked first (``report_options``). Writes ``reports/models.json`` and
``reports/models.md``. Model settings come from ``config/freqai.json``'s ``centaur.models``
block as it stands before the run; nothing is tuned on the windows reported here.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import pandas as pd
from freqtrade.enums import CandleType

from centaur.report_files import write_report
from centaur.settings import settings_from
from centaur.settings.models import ModelsSettings
from freqai_models.candle_source import DatadirSource, spot_pair
from freqai_models.feature_catalogue import TRAINING_NAMES, WARMUP_CANDLES
from freqai_models.features import compute_features
from freqai_models.panel_sources import DatadirPanels
from freqai_models.schedule import Window, windows_between
from freqai_models.walk_forward import MODELS, WindowScores, metrics_for, score_window
from research import models_report_stats
from research.drift_study import EVENTS, Span, events_within, gate_study, held_out_spans
from research.models_report_markdown import render
from research.report_options import (
    DataOptions,
    add_data_options,
    data_options,
    read_config,
    require_data,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STUDY_PAIRS = 4  # the drift study reads the first four pairs (runtime)
SPOT_2021 = (pd.Timestamp("2021-11-01", tz="UTC"), pd.Timestamp("2022-04-01", tz="UTC"))
CONTROL_SPAN = pd.Timedelta(days=30)
MIN_SPOT_REFERENCE = pd.Timedelta(days=90)  # shorter: too few 1h rows to tell drift from noise
DAY = pd.Timedelta(days=1)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    settings = settings_from(config).models
    options = data_options(args, read_config(args.data_config))
    require_data(options, ("candles", "funding", "spot"))
    started = time.perf_counter()
    walk = walk_forward(options, args.max_windows, settings, config)
    studies = drift_studies(options, args.spot_2021, settings)
    payload = {**walk, "drift_gate": studies,
               "report_secs": round(time.perf_counter() - started, 1),
               "command": " ".join(["python -m research.models_report",
                                    *(sys.argv[1:] if argv is None else argv)])}
    print(json.dumps(payload["significance"]["by_model"], indent=1))
    write_report(PROJECT_ROOT / args.out / "models", payload, render(payload), indent=1)
    print(f"report took {payload['report_secs']} s")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/freqai.json",
                        help="model settings (centaur.models, freqai periods)")
    parser.add_argument("--data-config", default="config/backtest.json",
                        help="defaults of the data options")
    add_data_options(parser, "YYYYMMDD-YYYYMMDD, training included (as freqtrade's); default: "
                             "the span the candles of every pair cover")
    parser.add_argument("--spot-2021", default="../shared/data/binance-2021-22q1",
                        help="the 2021-22 spot market the drift gate is shown against")
    parser.add_argument("--max-windows", type=int, default=0, help="0: all windows")
    parser.add_argument("--out", default="reports")
    return parser.parse_args(argv)


def walk_forward(options: DataOptions, max_windows: int, settings: ModelsSettings,
                 config: dict) -> dict:
    period = pd.Timedelta(days=config["freqai"]["backtest_period_days"])
    train = pd.Timedelta(days=config["freqai"]["train_period_days"])
    source = DatadirSource(options.datadir, options.timeframe, options.timeframe_secs)
    panels = DatadirPanels(source, options.pairs, settings, train + period, options.stop,
                           anchor=pd.Timedelta(days=36500))
    windows = _windows(source, options, period, train, max_windows)
    if not windows:
        raise ValueError(f"timerange {options.timerange} holds no {period / DAY:g}-day window "
                         f"after {train / DAY:g} training days. Fix: give a longer --timerange.")
    scored: list[WindowScores] = []
    for window in windows:
        scored.append(score_window(panels(window.train_start, window.stop), window, settings))
    return {"setup": _setup(options, settings, period, train, windows),
            "windows": [_window_entry(w, settings) for w in scored],
            "overall": {model: _overall(scored, model, settings) for model in MODELS},
            "significance": _significance(scored, settings, source.timeframe_secs),
            "training_secs": {model: round(sum(w.seconds.get(model, 0.0) for w in scored), 2)
                              for model in ("ranker", "per_pair_regressor")}}


def _overall(scored: list[WindowScores], model: str, settings: ModelsSettings) -> dict:
    figures = metrics_for(scored, model, settings).as_dict()
    figures["rank_ic_naive_t"] = figures.pop("rank_ic_tstat")  # HAC t: "significance"
    return figures


def _significance(scored: list[WindowScores], settings: ModelsSettings,
                  timeframe_secs: int) -> dict:
    ranker = settings.ranker
    series = {model: models_report_stats.per_timestamp(
        pd.concat([w.scores[model] for w in scored]), pd.concat([w.forward for w in scored]),
        ranker.top_k, ranker.bottom_k, ranker.round_trip_fee_ratio) for model in MODELS}
    spacing = ranker.horizon_candles  # the evaluation grid is one horizon apart
    return models_report_stats.significance(series, ranker.horizon_candles, spacing)


def _windows(source: DatadirSource, options: DataOptions, period: pd.Timedelta,
             train: pd.Timedelta, limit: int) -> list[Window]:
    """Windows whose training (and features' warm-up, when the data has it) fit the range."""
    first_data = min(source.available(pair)[0] for pair in options.pairs)
    warmup = pd.Timedelta(seconds=WARMUP_CANDLES * source.timeframe_secs)
    earliest = max(first_data + warmup, options.start) + train
    windows = [w for w in windows_between(earliest, options.stop, period, train)
               if w.boundary >= earliest and w.stop <= options.stop]
    return windows[:limit] if limit else windows


def _setup(options: DataOptions, settings: ModelsSettings, period, train,
           windows: list[Window]) -> dict:
    return {**options.as_dict(), "datadir": str(options.datadir),
            "windows": len(windows), "first_window": str(windows[0].boundary),
            "last_window_end": str(windows[-1].stop),
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


def drift_studies(options: DataOptions, spot_2021: str, settings: ModelsSettings) -> dict:
    """The range's last week against the month before it, named events the range holds, and
    the 2021-22 spot market against the range's spot candles."""
    pairs = options.pairs[:STUDY_PAIRS]
    futures = DatadirSource(options.datadir, options.timeframe, options.timeframe_secs)
    held_out = held_out_spans(options.start, options.stop)
    events = events_within(options.start, options.stop)
    cases = {"held_out_last_week": held_out, **events}
    begin = min(ref[0] for ref, _ in cases.values())
    five_minute = _features(futures, pairs, begin, options.stop, settings)
    out = {name: {pair: _study(five_minute[pair], ref, test, settings.drift) for pair in pairs}
           for name, (ref, test) in cases.items()}
    out["events_outside_range"] = sorted(set(EVENTS) - set(events))
    out["spot_1h_2021_22_vs_range"] = _spot_regime_study(options, spot_2021, settings)
    return out


def _features(source: DatadirSource, pairs, start: pd.Timestamp, stop: pd.Timestamp,
              settings: ModelsSettings) -> dict[str, pd.DataFrame]:
    begin = start - pd.Timedelta(seconds=WARMUP_CANDLES * source.timeframe_secs)
    inputs = {pair: source.inputs(pair, begin, stop) for pair in pairs}
    features = compute_features(inputs, settings.garch, source.timeframe_secs)
    return {pair: frame.set_axis(pd.DatetimeIndex(inputs[pair].candles["date"]))
            for pair, frame in features.items()}


def _study(features: pd.DataFrame, reference: Span, test: Span, settings) -> dict:
    result = gate_study(_span(features, reference), _span(features, test), settings).as_dict()
    return {"reference": _dates(reference), "test": _dates(test), **result}


def _dates(span: Span) -> list[str]:
    return [f"{span[0]:%Y-%m-%d}", f"{span[1]:%Y-%m-%d}"]


def _span(features: pd.DataFrame, span: Span) -> pd.DataFrame:
    index = features.index
    return features[(index >= span[0]) & (index < span[1])]


def _spot_regime_study(options: DataOptions, spot_2021: str, settings: ModelsSettings) -> dict:
    """1h spot features: the range but its last month as reference; that month (control) and
    the 2021-22 market as tests."""
    recent = DatadirSource(options.datadir, "1h", 3600, CandleType.SPOT, side_data=False)
    older = DatadirSource(PROJECT_ROOT / spot_2021, "1h", 3600, CandleType.SPOT,
                          side_data=False)
    pairs = [spot_pair(p) for p in options.pairs[:STUDY_PAIRS]
             if older.available(spot_pair(p)) and recent.available(spot_pair(p))]
    reference, control = held_out_spans(options.start, options.stop, CONTROL_SPAN,
                                        options.stop - options.start)
    now = _features(recent, pairs, options.start, options.stop, settings)
    then = _features(older, pairs, *SPOT_2021, settings)
    short = reference[1] - reference[0] < MIN_SPOT_REFERENCE
    out = {}
    for pair in pairs:
        ref = _span(now[pair], reference)
        out[pair] = {"reference": _dates(reference), "control": _dates(control),
                     "short_reference": short,
                     "control_last_month": gate_study(ref, _span(now[pair], control),
                                                      settings.drift).as_dict(),
                     "regime_2021_11_to_2022_03": gate_study(ref, _span(then[pair], SPOT_2021),
                                                             settings.drift).as_dict()}
    return out


if __name__ == "__main__":
    main()
