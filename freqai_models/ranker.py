"""Rule: one LightGBM ``lambdarank`` model per window, trained on all universe pairs at once
(query = timestamp), scores every pair's candle; ranks are taken across the pairs present at
the same candle (1 = best, ties broken by pair order, so ranks are deterministic).

Longs take the top and shorts the bottom of the one score, so both tails are trained: the
grades cover the whole cross-section (``labels.relevance_grades``), the gains are linear in the
grade (the step from the worst grade to the next weighs as much as the step to the best) and
every pair of a query takes part (no truncation to the top positions). LambdaRank's position
discount still weighs the top more than the bottom.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lightgbm import Booster, LGBMRanker

from centaur.settings.models import RankerSettings
from freqai_models.feature_catalogue import TRAINING_NAMES
from freqai_models.panel import Panel, TrainingRows

FULL_QUERY = 10_000  # truncation level above any universe: the bottom pairs are trained too


def ranker_params(settings: RankerSettings) -> dict:
    """LightGBM parameters: small trees, deterministic, ``threads`` (1 by default) threads."""
    return {
        "objective": "lambdarank",
        "n_estimators": settings.n_estimators,
        "learning_rate": settings.learning_rate,
        "num_leaves": settings.num_leaves,
        "min_child_samples": settings.min_child_samples,
        "colsample_bytree": settings.feature_fraction,
        "subsample": settings.bagging_fraction,
        "subsample_freq": 1,
        "label_gain": [float(g) for g in range(settings.relevance_grades)],
        "lambdarank_truncation_level": FULL_QUERY,
        "n_jobs": settings.threads,
        "random_state": settings.seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


def fit_ranker(rows: TrainingRows, settings: RankerSettings) -> Booster:
    model = LGBMRanker(**ranker_params(settings))
    model.fit(rows.features.to_numpy(dtype="float32"), rows.grades, group=rows.groups,
              feature_name=list(TRAINING_NAMES))
    return model.booster_


def score(booster: Booster | None, panel: Panel, start: pd.Timestamp, stop: pd.Timestamp,
          threads: int = 1) -> pd.DataFrame:
    """dates x pairs: the model's score where the pair is present, NaN elsewhere (and
    everywhere when there is no model: a missing model never invents a rank)."""
    present = panel.present(start, stop)
    if booster is None:
        return pd.DataFrame(np.nan, index=present.index, columns=list(panel.pairs))
    out = {}
    for pair in panel.pairs:
        rows = panel.rows(pair, start, stop)
        values = booster.predict(rows.to_numpy(dtype="float32"), num_threads=threads)
        out[pair] = pd.Series(values, index=rows.index)
    return pd.DataFrame(out).reindex(index=present.index, columns=list(panel.pairs)).where(present)


def rank(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(rank per pair, 1 = best score; universe size per timestamp)."""
    ranks = scores.rank(axis=1, ascending=False, method="first")
    return ranks, scores.notna().sum(axis=1)


def long_predictions(scores: pd.DataFrame, present: pd.DataFrame) -> pd.DataFrame:
    """date, pair, ranker_score, ranker_rank, ranker_universe for every present candle."""
    ranks, universe = rank(scores)
    mask = present.reindex_like(scores).fillna(False).astype(bool).to_numpy()
    row, col = np.nonzero(mask)
    return pd.DataFrame({
        "date": scores.index[row],
        "pair": np.asarray(scores.columns, dtype=object)[col],
        "ranker_score": scores.to_numpy()[row, col],
        "ranker_rank": ranks.to_numpy()[row, col],
        "ranker_universe": universe.to_numpy()[row].astype(float),
    })
