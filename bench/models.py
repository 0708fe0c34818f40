"""Benchmark: pooled ranker training time against freqtrade's stock LightGBMRegressor.

Same 10 pairs, same walk-forward windows, same features (computed once, outside the timed
part): the pooled ranker trains one ``lambdarank`` model per window on all pairs; the baseline
runs freqtrade's own ``LightGBMRegressor.train`` (FreqAI's per-pair unit of work: NaN filter,
feature pipeline, fit on the window's 5m rows) once per pair per window, with the same
``model_training_parameters`` as ``config/freqai.json``. ``ratio`` = ranker / stock training
time. Then the live path: 20 series ranked per new 5m candle (the 19 shared USDT-M pairs with
5m candles plus BTC/USDT spot as the 20th), per-candle latency over successive candles. Each
phase runs in its own fresh process, so its peak RSS is its own.

    python -m bench.models [--timerange 20250301-20250501]        (make bench-models)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import PROJECT_ROOT, write_result

PAIRS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT", "BNB/USDT:USDT",
         "DOGE/USDT:USDT", "BCH/USDT:USDT", "ZEC/USDT:USDT", "INJ/USDT:USDT", "OP/USDT:USDT")
LIVE_SERIES = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT",
               "BNB/USDT:USDT", "DOGE/USDT:USDT", "BCH/USDT:USDT", "ZEC/USDT:USDT",
               "INJ/USDT:USDT", "OP/USDT:USDT", "ORCA/USDT:USDT", "PIPPIN/USDT:USDT",
               "HYPE/USDT:USDT", "WLFI/USDT:USDT", "NAORIS/USDT:USDT", "RIVER/USDT:USDT",
               "SPACE/USDT:USDT", "XAG/USDT:USDT", "XAU/USDT:USDT", "BTC/USDT")
CONFIG = PROJECT_ROOT / "config" / "freqai.json"
DATADIR = (PROJECT_ROOT / json.loads(CONFIG.read_text())["datadir"]).resolve()


def _settings():
    from centaur.settings import settings_from

    return settings_from(json.loads(CONFIG.read_text())).models


def _schedule() -> tuple[pd.Timedelta, pd.Timedelta]:
    freqai = json.loads(CONFIG.read_text())["freqai"]
    return (pd.Timedelta(days=freqai["backtest_period_days"]),
            pd.Timedelta(days=freqai["train_period_days"]))


def _panel(pairs, windows):
    from freqai_models.candle_source import DatadirSource
    from freqai_models.panel_sources import DatadirPanels

    period, train = _schedule()
    panels = DatadirPanels(DatadirSource(DATADIR), tuple(pairs), _settings(), train + period,
                           windows[-1].stop, anchor=pd.Timedelta(days=36500))
    return panels(windows[0].train_start, windows[-1].stop)


def _windows(timerange: str):
    from freqai_models.schedule import windows_between

    start, stop = (pd.Timestamp(part, tz="UTC") for part in timerange.split("-"))
    period, train = _schedule()
    return windows_between(start, stop, period, train)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ranker_phase(timerange: str) -> dict[str, Any]:
    """Pooled training: one lambdarank model per window on all 10 pairs."""
    from freqai_models.panel import training_rows
    from freqai_models.ranker import fit_ranker

    windows, settings = _windows(timerange), _settings()
    panel = _panel(PAIRS, windows)
    started, rows = time.perf_counter(), 0
    for window in windows:
        table = training_rows(panel, window, settings)
        fit_ranker(table, settings.ranker)
        rows += len(table.grades)
    return {"train_secs": time.perf_counter() - started, "models": len(windows),
            "train_rows": rows, "peak_rss_mb": _peak_rss_mb()}


def stock_phase(timerange: str) -> dict[str, Any]:
    """freqtrade's LightGBMRegressor.train per pair per window (FreqAI's unit of work)."""
    from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
    from freqtrade.freqai.prediction_models.LightGBMRegressor import LightGBMRegressor

    windows = _windows(timerange)
    panel = _panel(PAIRS, windows)
    with tempfile.TemporaryDirectory() as tmp:
        config = _stock_config(Path(tmp), timerange)
        model = LightGBMRegressor(config=config)
        model.live = False
        started, rows = time.perf_counter(), 0
        for window in windows:
            for pair in PAIRS:
                frame = _freqai_frame(panel, pair, window)
                dk = FreqaiDataKitchen(config, False, pair)
                dk.find_features(frame)
                dk.find_labels(frame)
                model.train(frame, pair, dk)
                rows += len(dk.data_dictionary["train_features"])
        secs = time.perf_counter() - started
    return {"train_secs": secs, "models": len(windows) * len(PAIRS), "train_rows": rows,
            "peak_rss_mb": _peak_rss_mb()}


def _stock_config(user_data: Path, timerange: str) -> dict[str, Any]:
    config = json.loads(CONFIG.read_text())
    config.update({"user_data_dir": user_data, "timerange": timerange,
                   "config_files": [str(CONFIG)], "runmode": "backtest"})
    config["freqai"]["identifier"] = "bench-stock"
    return config


def _freqai_frame(panel, pair: str, window) -> pd.DataFrame:
    """The pair's training frame as FreqAI builds it: 5m rows, ``%`` features, ``&`` label."""
    from freqai_models.labels import label_cutoff

    rows = panel.rows(pair, window.train_start, window.boundary)
    frame = rows.add_prefix("%-").astype("float64")
    cutoff = label_cutoff(window.boundary, 48, panel.timeframe_secs)
    label = panel.forward[pair].reindex(rows.index)
    frame["&-fwd_logret_4h"] = label.where(rows.index <= cutoff).to_numpy()
    frame.insert(0, "date", rows.index)
    return frame.reset_index(drop=True)


def live_phase(candles: int) -> dict[str, Any]:
    """20 series, one new 5m candle at a time: score, rank and gate all of them."""
    from freqai_models.candle_source import DatadirSource
    from freqai_models.panel_sources import FramePanels
    from freqai_models.ranker_engine import PooledRankerEngine
    from freqai_models.window_store import WindowStore

    settings, (_, train) = _settings(), _schedule()
    now = pd.Timestamp("2026-02-12", tz="UTC")
    futures = DatadirSource(DATADIR)
    spot = DatadirSource(DATADIR, candle_type=_spot(), side_data=False)
    history = {pair: (spot if ":" not in pair else futures).inputs(
        pair, now - train - pd.Timedelta(days=10), now + pd.Timedelta(days=1))
        for pair in LIVE_SERIES}
    clock = {"now": now}

    def frames():
        return {pair: _until(item, clock["now"]) for pair, item in history.items()}

    with tempfile.TemporaryDirectory() as tmp:
        engine = PooledRankerEngine(settings, WindowStore(Path(tmp), "bench"),
                                    FramePanels(frames, settings, 300), train, train)
        window = engine.live_window(now, pd.Timedelta(hours=24), None)
        engine.live_train(window)
        latencies = [_one_candle(engine, window, clock, now, step) for step in range(candles)]
    return {"latency_secs": latencies, "series": len(LIVE_SERIES),
            "peak_rss_mb": _peak_rss_mb()}


def _spot():
    from freqtrade.enums import CandleType

    return CandleType.SPOT


def _until(item, now: pd.Timestamp):
    from freqai_models.pair_features import PairInputs

    candles = item.candles[item.candles["date"] < now].reset_index(drop=True)
    return PairInputs(item.pair, candles, item.funding, item.spot)


def _one_candle(engine, window, clock: dict, start: pd.Timestamp, step: int) -> float:
    clock["now"] = start + pd.Timedelta(minutes=5 * (step + 1))
    latest = pd.Series([clock["now"] - pd.Timedelta(minutes=5)])
    began = time.perf_counter()
    for pair in LIVE_SERIES:
        engine.live_predictions(pair, window, latest)
    return time.perf_counter() - began


def _in_fresh_process(function, *args) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timerange", default="20250301-20250501")
    parser.add_argument("--live-candles", type=int, default=12)
    args = parser.parse_args()
    ranker = _in_fresh_process(ranker_phase, args.timerange)
    stock = _in_fresh_process(stock_phase, args.timerange)
    live = _in_fresh_process(live_phase, args.live_candles)
    latency = np.array(live["latency_secs"])
    write_result("models", {
        "baseline": "freqtrade LightGBMRegressor.train, one model per pair per window",
        "ratio": round(ranker["train_secs"] / stock["train_secs"], 4),
        "ranker_train_secs": round(ranker["train_secs"], 2),
        "stock_train_secs": round(stock["train_secs"], 2),
        "ranker_models": ranker["models"], "stock_models": stock["models"],
        "ranker_train_rows": ranker["train_rows"], "stock_train_rows": stock["train_rows"],
        "pairs": list(PAIRS), "timerange": args.timerange,
        "ranker_peak_rss_mb": ranker["peak_rss_mb"], "stock_peak_rss_mb": stock["peak_rss_mb"],
        "live_series": live["series"], "live_candles": len(latency),
        "live_latency_median_secs": round(float(np.median(latency)), 3),
        "live_latency_max_secs": round(float(latency.max()), 3),
        "live_first_candle_secs": round(float(latency[0]), 3),
        "live_peak_rss_mb": live["peak_rss_mb"],
    })


if __name__ == "__main__":
    main()
