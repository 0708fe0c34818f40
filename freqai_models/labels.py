"""Rule: a training label at candle t is the realised forward return over the horizon, and it
only enters training once the candle it ends on has closed before the training cut.

``forward_log_return``: log(close[t + h] / close[t]) (the trade opens at t's close and closes
h candles later). ``relevance_grades``: the ranker's graded relevance per timestamp (query),
over the whole cross-section so that both tails are learned: the pairs are ranked by their
forward return relative to the universe mean and cut into ``grades`` equal quantile bins, the
worst bin 0 and the best ``grades - 1``. Longs take the top ``top_k`` and shorts the bottom
``bottom_k`` of the same score, so the ordering at the bottom must be trained too (grading
everything below the universe mean + fee as 0 left the shorts' ordering unlearned). The
round-trip fee shifts every pair of a timestamp alike, so it does not change the grades; it is
charged where money is measured (``metrics``: top-k minus universe, hit rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Part of every saved model's key: a change of the label rule retrains the saved windows.
LABEL_SCHEME = "quantile-grades-both-tails-v2"


def forward_log_return(close: pd.Series, horizon_candles: int) -> pd.Series:
    """NaN on the last ``horizon_candles`` rows: their outcome is not known yet."""
    return np.log(close.shift(-horizon_candles) / close)


def label_cutoff(train_stop: pd.Timestamp, horizon_candles: int,
                 timeframe_secs: int) -> pd.Timestamp:
    """Last candle open time whose label is fully known at ``train_stop``.

    The label of candle t needs the close of candle t + h, known at t + (h + 1) candles.
    """
    return train_stop - pd.Timedelta(seconds=(horizon_candles + 1) * timeframe_secs)


def net_excess(forward: pd.DataFrame, round_trip_fee_ratio: float) -> pd.DataFrame:
    """Forward return minus the universe mean at the same timestamp, minus the fee."""
    return forward.sub(forward.mean(axis=1), axis=0) - round_trip_fee_ratio


def relevance_grades(forward: pd.DataFrame, round_trip_fee_ratio: float,
                     grades: int) -> pd.DataFrame:
    """Integer grades in [0, grades - 1] by quantile of the net excess across the pairs at each
    timestamp (mid-rank percentile, so an even cross-section splits symmetrically: 8 pairs and
    4 grades give two pairs per grade); NaN where the forward return is unknown."""
    excess = net_excess(forward, round_trip_fee_ratio)
    ranks = excess.rank(axis=1, method="average")
    percentile = ranks.sub(0.5).div(excess.notna().sum(axis=1), axis=0)
    graded = np.floor(percentile * grades).clip(0, grades - 1)
    return graded.where(forward.notna())
