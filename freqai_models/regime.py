"""Rule: each candle is labelled with a volatility regime and a trend regime, and their risk knobs.

Volatility: ``vol_ratio`` = std of the last ``short_window_hours`` (24) hourly log returns
divided by the std of the last ``long_window_hours`` (168, which include the 24), on completed
hours, as in the seed detector. Each window's std is computed on its own values (no running
sums), so the ratio is exactly the same whatever history precedes it. The seed's mapping
(source: seeds/001 "Volatility Regime Detection"):

| vol_ratio            | regime_vol | position scale | stop multiplier |
|----------------------|------------|----------------|-----------------|
| > 2.0                | extreme    | 0.25           | 2.0             |
| > 1.3                | high       | 0.5            | 1.5             |
| < 0.5                | low        | 1.0            | 0.75            |
| otherwise            | normal     | 1.0            | 1.0             |

A candle without a full long window (warm-up) has no ratio: it is labelled ``extreme``, the
most conservative size (fail closed), with ``regime_vol_ratio`` left NaN so it can be seen.

A 5m candle reads the last hour that closed at or before its own close. Trend: ADX(14) on
the same completed 1h candles; ``trending`` at or above ``trend_adx_min`` (25), else
``ranging``.
The trend label does not change the scale or the multiplier (the seeds map volatility only);
it is exposed for the strategy and risk layers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas_ta as pta

from centaur.settings.models import RegimeSettings

VOL_REGIMES = ("low", "normal", "high", "extreme")
TREND_REGIMES = ("trending", "ranging")
ADX_LENGTH = 14
_HOUR = pd.Timedelta(hours=1)


def hourly_candles(candles: pd.DataFrame) -> pd.DataFrame:
    dates = pd.DatetimeIndex(candles["date"])
    return candles.set_index(dates)[["open", "high", "low", "close"]].resample("1h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last"}).dropna()


def vol_ratio(hourly_close: pd.Series, settings: RegimeSettings) -> pd.Series:
    """Per completed hour: std of the last short / last long hourly log returns."""
    returns = np.log(hourly_close).diff().to_numpy()
    short = _window_std(returns, settings.short_window_hours)
    long = _window_std(returns, settings.long_window_hours)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(long > 0, short / long, np.nan)
    return pd.Series(ratio, index=hourly_close.index)


def _window_std(values: np.ndarray, window: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        windows = np.lib.stride_tricks.sliding_window_view(values, window)
        out[window - 1:] = windows.std(axis=1, ddof=1)
    return out


def classify_vol(ratio: np.ndarray, settings: RegimeSettings) -> np.ndarray:
    """Seed thresholds; NaN (warm-up or a flat week) is ``extreme`` (fail closed)."""
    return np.select(
        [~np.isfinite(ratio) | (ratio > settings.extreme_vol_ratio),
         ratio > settings.high_vol_ratio,
         ratio < settings.low_vol_ratio],
        ["extreme", "high", "low"],
        default="normal",
    )


def risk_knobs(vol_regime: np.ndarray, settings: RegimeSettings) -> tuple[np.ndarray, np.ndarray]:
    """(position scale, stop multiplier) implied by each volatility regime."""
    scale = {name: getattr(settings, f"{name}_position_scale") for name in VOL_REGIMES}
    stop = {name: getattr(settings, f"{name}_stop_multiplier") for name in VOL_REGIMES}
    series = pd.Series(vol_regime)
    return series.map(scale).to_numpy(float), series.map(stop).to_numpy(float)


def hourly_adx(hourly: pd.DataFrame) -> pd.Series:
    adx = pta.adx(hourly["high"], hourly["low"], hourly["close"], length=ADX_LENGTH)
    return adx[f"ADX_{ADX_LENGTH}"] if adx is not None else pd.Series(np.nan, hourly.index)


def on_candles(by_hour: pd.Series, candles: pd.DataFrame, timeframe_secs: int) -> np.ndarray:
    """Each candle reads the last hour completed at its close (an incomplete hour's value,
    which the resample computes for the data's last hour, is never read)."""
    closes = pd.DatetimeIndex(candles["date"]) + pd.Timedelta(seconds=timeframe_secs)
    completed_hour = closes.floor("1h") - _HOUR
    return by_hour.reindex(completed_hour).to_numpy()


def regime_columns(candles: pd.DataFrame, settings: RegimeSettings,
                   timeframe_secs: int) -> pd.DataFrame:
    """The regime columns the risk layer reads, one row per candle."""
    hourly = hourly_candles(candles)
    ratio = on_candles(vol_ratio(hourly["close"], settings), candles, timeframe_secs)
    vol = classify_vol(ratio, settings)
    scale, stop = risk_knobs(vol, settings)
    adx = on_candles(hourly_adx(hourly), candles, timeframe_secs)
    trend = np.where(adx >= settings.trend_adx_min, "trending", "ranging")
    return pd.DataFrame({
        "regime_vol_ratio": ratio,
        "regime_vol": vol,
        "regime_trend": trend,
        "regime_adx_1h": adx,
        "regime_position_scale": scale,
        "regime_stop_multiplier": stop,
    }, index=candles.index)
