"""Rule: every model is judged on the same out-of-sample windows, timestamps and pairs, with
numbers fixed before any window is seen.

Walk-forward on calendar windows (``schedule``): for each window, the pooled ranker, one
per-pair LightGBM regressor per pair (the estimator FreqAI's ``LightGBMRegressor`` fits,
with ``lgbm_defaults``, predicting the pair's 4 h forward log return from the same features
and the same hourly training rows) and a plain momentum ranking (score = 24 h log return,
a lookback fixed a priori) score the window's candles; ``metrics.evaluate`` reads all three
on the same non-overlapping 4 h timestamps. Nothing is fitted on a window's own candles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor

from centaur.settings.models import ModelsSettings
from freqai_models.feature_catalogue import TRAINING_NAMES
from freqai_models.lgbm_defaults import with_defaults
from freqai_models.metrics import RankingMetrics, evaluate, non_overlapping
from freqai_models.panel import Panel, training_rows
from freqai_models.pooled_window import build_window
from freqai_models.schedule import Window

MOMENTUM_FEATURE = "logret_288"
MODELS = ("ranker", "per_pair_regressor", "momentum")


@dataclass
class WindowScores:
    window: Window
    scores: dict[str, pd.DataFrame]  # model -> dates x pairs (evaluation timestamps)
    forward: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    blocked_share: dict[str, float] = field(default_factory=dict)
    train_rows: int = 0


def score_window(panel: Panel, window: Window, settings: ModelsSettings) -> WindowScores:
    """All three models' scores on the window's evaluation timestamps."""
    started = time.perf_counter()
    ranker = build_window(panel, window, settings, window.stop)
    ranker_secs = time.perf_counter() - started
    wide = ranker.predictions.pivot(index="date", columns="pair", values="ranker_score")
    timestamps = non_overlapping(pd.DatetimeIndex(wide.index),
                                 settings.ranker.horizon_candles, panel.timeframe_secs)
    started = time.perf_counter()
    regressor = per_pair_regressor_scores(panel, window, settings, timestamps)
    regressor_secs = time.perf_counter() - started
    columns = list(panel.pairs)
    scores = {"ranker": wide.reindex(index=timestamps, columns=columns),
              "per_pair_regressor": regressor.reindex(columns=columns),
              "momentum": momentum_scores(panel, timestamps)}
    forward = panel.forward.reindex(index=timestamps, columns=columns)
    return WindowScores(window, scores, forward,
                        {"ranker": ranker_secs, "per_pair_regressor": regressor_secs},
                        ranker.meta.get("blocked_share", {}), ranker.meta["train_rows"])


def momentum_scores(panel: Panel, timestamps: pd.DatetimeIndex) -> pd.DataFrame:
    present = panel.present(timestamps[0], timestamps[-1] + pd.Timedelta(seconds=1))
    momentum = pd.DataFrame({pair: panel.features[pair][MOMENTUM_FEATURE] for pair in
                             panel.pairs})
    return momentum.reindex(timestamps).where(present.reindex(timestamps).fillna(False))


def per_pair_regressor_scores(panel: Panel, window: Window, settings: ModelsSettings,
                              timestamps: pd.DatetimeIndex) -> pd.DataFrame:
    """One LightGBM regressor per pair, trained on that pair's rows of the ranker's table."""
    rows = training_rows(panel, window, settings)
    present = panel.present(timestamps[0], timestamps[-1] + pd.Timedelta(seconds=1))
    out = {}
    for pair in panel.pairs:
        mine = rows.features.xs(pair, level="pair", drop_level=True) \
            if pair in rows.features.index.get_level_values("pair") else None
        if mine is None or len(mine) < 100:
            continue
        target = panel.forward[pair].reindex(mine.index)
        keep = target.notna()
        model = LGBMRegressor(**_regressor_params(settings))
        model.fit(mine[keep].to_numpy(np.float32), target[keep].to_numpy())
        features = panel.features[pair].reindex(timestamps)[list(TRAINING_NAMES)]
        out[pair] = pd.Series(model.predict(features.to_numpy(np.float32)), index=timestamps)
    frame = pd.DataFrame(out, index=timestamps)
    return frame.where(present.reindex(index=timestamps, columns=frame.columns).fillna(False))


def _regressor_params(settings: ModelsSettings) -> dict:
    ranker = settings.ranker
    return with_defaults({
        "n_estimators": ranker.n_estimators, "learning_rate": ranker.learning_rate,
        "num_leaves": ranker.num_leaves, "min_child_samples": ranker.min_child_samples,
        "colsample_bytree": ranker.feature_fraction, "subsample": ranker.bagging_fraction,
        "subsample_freq": 1, "n_jobs": ranker.threads, "random_state": ranker.seed})


def metrics_for(windows: list[WindowScores], model: str,
                settings: ModelsSettings) -> RankingMetrics:
    """One model's figures over the given windows' timestamps, pooled."""
    scores = pd.concat([w.scores[model] for w in windows])
    forward = pd.concat([w.forward for w in windows])
    ranker = settings.ranker
    return evaluate(scores, forward, ranker.top_k, ranker.round_trip_fee_ratio,
                    ranker.relevance_grades)
