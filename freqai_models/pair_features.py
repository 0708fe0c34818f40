"""Rule: a pair's features at candle t use that pair's data up to the close of candle t only.

Indicators come from ``pandas_ta`` (TA-Lib underneath), rolling windows look back only, and
slower side data is joined on the time it became known: a funding settlement at T from the
candle that opens at T, a completed spot/perp hour from the first candle of the next hour.
Names and meanings: ``feature_catalogue.PAIR_FEATURES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandas_ta as pta

from centaur.settings.models import GarchSettings
from freqai_models.garch import garch_sigma

LIQ_WICK_ATR = 2.0
LIQ_VOLUME_MEDIAN = 3.0
LIQ_CAP_CANDLES = 2016


@dataclass(frozen=True)
class PairInputs:
    """One pair's candles (on the timeframe grid) and its optional side data."""

    pair: str
    candles: pd.DataFrame  # date, open, high, low, close, volume
    funding: pd.DataFrame | None = None  # date (settlement time), funding_rate
    spot: pd.DataFrame | None = None  # 1h spot candles: date, close


def pair_features(inputs: PairInputs, garch: GarchSettings,
                  timeframe_secs: int) -> pd.DataFrame:
    """All per-pair features, one row per candle, index = the candles' index."""
    c = inputs.candles
    logret = np.log(c["close"]).diff()
    columns: dict[str, pd.Series | np.ndarray] = {}
    columns |= _returns(c["close"])
    columns |= _volatility(c, logret, garch, inputs.pair, timeframe_secs)
    columns |= _trend(c)
    columns |= _shape(c, logret)
    columns |= _volume(c)
    columns |= _funding(c["date"], inputs.funding, timeframe_secs)
    columns |= _basis(c, inputs.spot, timeframe_secs)
    columns |= _calendar(c["date"])
    frame = pd.DataFrame({k: np.asarray(v, dtype="float64") for k, v in columns.items()},
                         index=c.index)
    return frame.replace([np.inf, -np.inf], np.nan)


def _ratio(numerator, denominator):
    return numerator / denominator.where(denominator != 0)


def _returns(close: pd.Series) -> dict[str, pd.Series]:
    log_close = np.log(close)
    out = {f"logret_{h}": log_close.diff(h) for h in (1, 3, 6, 12, 24, 48, 96, 288)}
    out |= {f"ret_{h}": close.pct_change(h, fill_method=None) for h in (12, 48, 288)}
    return out


def _volatility(c: pd.DataFrame, logret: pd.Series, garch: GarchSettings, pair: str,
                timeframe_secs: int) -> dict[str, pd.Series]:
    rv = {w: logret.rolling(w).std() for w in (12, 48, 288, 2016)}
    atr14 = pta.atr(c["high"], c["low"], c["close"], length=14)
    atr288 = pta.atr(c["high"], c["low"], c["close"], length=288)
    hl = np.log(c["high"] / c["low"]) ** 2
    sigma = pd.Series(garch_sigma(c["date"], c["close"], garch, pair, timeframe_secs).sigma,
                      index=c.index)
    return {
        **{f"rv_{w}": s for w, s in rv.items()},
        "rv_ratio_288_2016": _ratio(rv[288], rv[2016]),
        "rv_ratio_12_288": _ratio(rv[12], rv[288]),
        "parkinson_48": np.sqrt(hl.rolling(48).mean() / (4.0 * np.log(2.0))),
        "garch_sigma": sigma,
        "garch_to_rv_288": _ratio(sigma, rv[288]),
        "atr_ratio_14": atr14 / c["close"],
        "atr_ratio_14_288": _ratio(atr14, atr288),
        "range_ratio": (c["high"] - c["low"]) / c["close"],
    }


def _trend(c: pd.DataFrame) -> dict[str, pd.Series]:
    close, high, low, volume = c["close"], c["high"], c["low"], c["volume"]
    macd = pta.macd(close, fast=12, slow=26, signal=9)
    bb = pta.bbands(close, length=20, std=2.0)
    adx = pta.adx(high, low, close, length=14)
    stoch = pta.stoch(high, low, close, k=14, d=3, smooth_k=3).reindex(c.index)  # drops warm-up
    out = {f"close_to_sma_{n}": close / pta.sma(close, length=n) - 1 for n in (20, 50, 200)}
    out |= {f"rsi_{n}": pta.rsi(close, length=n) for n in (7, 14, 21)}
    out |= {
        "ema_12_48": pta.ema(close, length=12) / pta.ema(close, length=48) - 1,
        "macd": macd.iloc[:, 0] / close,
        "macd_hist": macd.iloc[:, 1] / close,
        "macd_signal": macd.iloc[:, 2] / close,
        "bb_width": _ratio(bb.iloc[:, 2] - bb.iloc[:, 0], bb.iloc[:, 1]),
        "bb_position": _ratio(close - bb.iloc[:, 0], bb.iloc[:, 2] - bb.iloc[:, 0]),
        "adx_14": adx.iloc[:, 0], "dmp_14": adx.iloc[:, 1], "dmn_14": adx.iloc[:, 2],
        "stoch_k": stoch.iloc[:, 0], "stoch_d": stoch.iloc[:, 1],
        "cci_20": pta.cci(high, low, close, length=20),
        "willr_14": pta.willr(high, low, close, length=14),
        "mfi_14": pta.mfi(high, low, close, volume, length=14),
        "cmf_20": pta.cmf(high, low, close, volume, length=20),
        "aroon_osc_25": pta.aroon(high, low, length=25).iloc[:, 2],
    }
    return out | _position(c)


def _position(c: pd.DataFrame) -> dict[str, pd.Series]:
    close = c["close"]
    path = close.diff().abs().rolling(48).sum()
    highest_high, lowest_low = c["high"].rolling(288).max(), c["low"].rolling(288).min()
    mean, std = close.rolling(288).mean(), close.rolling(288).std()
    return {
        "efficiency_ratio_48": _ratio(close.diff(48).abs(), path),
        "zscore_close_288": _ratio(close - mean, std),
        "drawdown_288": close / close.rolling(288).max() - 1,
        "dist_high_288": close / highest_high - 1,
        "dist_low_288": close / lowest_low - 1,
        "range_pos_288": _ratio(close - lowest_low, highest_high - lowest_low),
    }


def _shape(c: pd.DataFrame, logret: pd.Series) -> dict[str, pd.Series]:
    span = c["high"] - c["low"]
    top, bottom = c[["open", "close"]].max(axis=1), c[["open", "close"]].min(axis=1)
    flat = span == 0
    return {
        "skew_288": logret.rolling(288).skew(),
        "kurt_288": logret.rolling(288).kurt(),
        "autocorr_288": logret.rolling(288).corr(logret.shift(1)),
        "body_ratio": ((top - bottom) / span).mask(flat, 0.0),
        "upper_wick_ratio": ((c["high"] - top) / span).mask(flat, 0.0),
        "lower_wick_ratio": ((bottom - c["low"]) / span).mask(flat, 0.0),
    }


def _volume(c: pd.DataFrame) -> dict[str, pd.Series]:
    volume = c["volume"]
    sum_1h, sum_24h = volume.rolling(12).sum(), volume.rolling(288).sum()
    mean, std = volume.rolling(288).mean(), volume.rolling(288).std()
    return {
        "volume_ratio_20": _ratio(volume, volume.rolling(20).mean()),
        "volume_ratio_288": _ratio(volume, mean),
        "log_volume_change_1h": np.log1p(sum_1h) - np.log1p(sum_1h.shift(12)),
        "log_volume_change_24h": np.log1p(sum_24h) - np.log1p(sum_24h.shift(288)),
        "volume_zscore_288": _ratio(volume - mean, std),
        **_liquidation_like(c),
    }


def _liquidation_like(c: pd.DataFrame) -> dict[str, pd.Series]:
    """A wick longer than 2 ATR(14) on a volume over 3x the day's median: a forced-flow candle."""
    atr = pta.atr(c["high"], c["low"], c["close"], length=14).shift(1)
    wick = np.maximum(c["high"] - c[["open", "close"]].max(axis=1),
                      c[["open", "close"]].min(axis=1) - c["low"])
    spike = c["volume"] > LIQ_VOLUME_MEDIAN * c["volume"].rolling(288).median().shift(1)
    event = ((wick > LIQ_WICK_ATR * atr) & spike).to_numpy()
    position = np.arange(len(event), dtype="float64")
    last = pd.Series(np.where(event, position, np.nan)).ffill().to_numpy()
    since = np.where(np.isnan(last), LIQ_CAP_CANDLES, np.minimum(position - last, LIQ_CAP_CANDLES))
    return {
        "liq_candles_since": pd.Series(since, index=c.index),
        "liq_events_288": pd.Series(event.astype(float), index=c.index).rolling(288,
                                                                              min_periods=1).sum(),
    }


def _asof(dates: pd.Series, timeframe_secs: int, events: pd.DataFrame) -> pd.DataFrame:
    """Join ``events`` (column ``known_at``) onto the candles that close after they happened.

    Strictly after: an event at T (a funding settlement, an hour's close) is read from the
    candle that opens at T, never by the candle whose close coincides with it, so data that
    ends exactly at T gives the same features as data that goes on.
    """
    close_time = pd.DatetimeIndex(dates).as_unit("ns") + pd.Timedelta(seconds=timeframe_secs)
    left = pd.DataFrame({"close_time": close_time})
    right = events.assign(known_at=events["known_at"].astype("datetime64[ns, UTC]"))
    merged = pd.merge_asof(left, right.sort_values("known_at"), left_on="close_time",
                           right_on="known_at", direction="backward", allow_exact_matches=False)
    return merged.set_index(dates.index)


def _funding(dates: pd.Series, funding: pd.DataFrame | None,
             timeframe_secs: int) -> dict[str, pd.Series]:
    names = ("funding_rate", "funding_zscore_21", "funding_change", "funding_sum_3")
    if funding is None or funding.empty:
        return {name: pd.Series(np.nan, index=dates.index) for name in names}
    rate = funding["funding_rate"].astype("float64").reset_index(drop=True)
    mean, std = rate.rolling(21).mean(), rate.rolling(21).std()
    events = pd.DataFrame({
        "known_at": pd.to_datetime(funding["date"], utc=True).reset_index(drop=True),
        "funding_rate": rate,
        "funding_zscore_21": ((rate - mean) / std.where(std > 0)).fillna(0.0),
        "funding_change": rate.diff(),
        "funding_sum_3": rate.rolling(3).sum(),
    })
    merged = _asof(dates, timeframe_secs, events)
    return {name: merged[name] for name in names}


def _basis(c: pd.DataFrame, spot: pd.DataFrame | None,
           timeframe_secs: int) -> dict[str, pd.Series]:
    empty = {"basis_1h": pd.Series(0.0, index=c.index),
             "basis_zscore_24h": pd.Series(0.0, index=c.index),
             "basis_available": pd.Series(0.0, index=c.index)}
    if spot is None or spot.empty:
        return empty
    hourly_perp = c.set_index(pd.DatetimeIndex(c["date"]))["close"].resample("1h").last()
    spot_close = spot.set_index(pd.DatetimeIndex(spot["date"]))["close"]
    basis = (hourly_perp / spot_close.reindex(hourly_perp.index) - 1).dropna()
    if basis.empty:
        return empty
    mean, std = basis.rolling(24).mean(), basis.rolling(24).std()
    events = pd.DataFrame({"known_at": basis.index + pd.Timedelta(hours=1),
                           "basis_1h": basis.to_numpy(),
                           "basis_zscore_24h": ((basis - mean) / std.where(std > 0)).to_numpy()})
    merged = _asof(c["date"], timeframe_secs, events)
    available = merged["basis_1h"].notna().astype(float)
    return {"basis_1h": merged["basis_1h"].fillna(0.0),
            "basis_zscore_24h": merged["basis_zscore_24h"].fillna(0.0),
            "basis_available": available}


def _calendar(dates: pd.Series) -> dict[str, np.ndarray]:
    index = pd.DatetimeIndex(dates)
    hour = (index.hour + index.minute / 60.0) / 24.0
    dow = index.day_of_week / 7.0
    return {"hour_sin": np.sin(2 * np.pi * hour), "hour_cos": np.cos(2 * np.pi * hour),
            "dow_sin": np.sin(2 * np.pi * dow), "dow_cos": np.cos(2 * np.pi * dow)}
