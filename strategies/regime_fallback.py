"""Rule: when the models layer's ``regime_trend`` / ``regime_vol`` columns are absent, label each
candle from closed 1h candles - trending when ADX(14) is at or above ``adx_trending``; the
volatility level from the 24 h / one-week ratio of 1h return volatility with the models
layer's thresholds (no ratio yet: ``extreme``, the conservative label).

The models layer's own columns always win: this only fills in what is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from centaur.settings.ensemble import RegimeFallbackSettings
from strategies.signals.base import column

VOL_LEVELS = ("low", "normal", "high", "extreme")
TRENDING = "trending"


def with_regime(dataframe: pd.DataFrame, settings: RegimeFallbackSettings) -> pd.DataFrame:
    if "regime_trend" not in dataframe:
        adx = column(dataframe, "adx_1h")
        dataframe["regime_trend"] = np.where(adx >= settings.adx_trending, TRENDING, "ranging")
    if "regime_vol" not in dataframe:
        ratio = column(dataframe, "vol_ratio_1h")
        dataframe["regime_vol"] = np.select(
            [~np.isfinite(ratio) | (ratio > settings.extreme_vol_ratio),
             ratio > settings.high_vol_ratio, ratio < settings.low_vol_ratio],
            ["extreme", "high", "low"], default="normal")
    return dataframe


def trending(dataframe: pd.DataFrame) -> np.ndarray:
    return (dataframe["regime_trend"] == TRENDING).to_numpy(dtype=bool)


def vol_level(dataframe: pd.DataFrame) -> np.ndarray:
    """0 (low) .. 3 (extreme) per candle, for plotting; unknown labels are 3."""
    codes = dataframe["regime_vol"].map({name: i for i, name in enumerate(VOL_LEVELS)})
    return codes.fillna(len(VOL_LEVELS) - 1).to_numpy(dtype=float)
