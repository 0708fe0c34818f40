"""Rule: a training label at candle t is the realised forward return over the horizon, and it
only enters training once the candle it ends on has closed before the training cut.

``forward_log_return``: log(close[t + h] / close[t]) (the trade opens at t's close and closes
h candles later). ``relevance_grades``: the ranker's graded relevance per timestamp (query):
the pair's forward return minus the universe mean at t minus the round-trip fee; 0 when that
net excess is not positive (outperforming by less than the fee is worth nothing), otherwise
1..grades-1 by its percentile among the pairs that did beat the universe after fees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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
    """Integer grades in [0, grades - 1]; NaN where the forward return is unknown."""
    excess = net_excess(forward, round_trip_fee_ratio)
    winners = excess.where(excess > 0)
    percentile = winners.rank(axis=1, pct=True)
    graded = np.ceil(percentile * (grades - 1)).fillna(0.0)
    return graded.where(forward.notna())
