"""The per-candle inputs the risk rules read, computed once per analysis, vectorised.

``add_risk_columns`` adds ATR (on the stop timeframe, e.g. 1h, known only once that candle has
closed), the chandelier window's extremes, per-candle sigma (the models' ``garch_sigma`` when
present, realised otherwise) and daily volatility now and over the last 30 days. ``RiskRows``
keeps the columns as arrays so the per-candle callbacks look a candle up in O(log n) instead
of slicing a DataFrame: the risk layer adds at most a few percent to a backtest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pandas_ta as pta
from freqtrade.exchange import timeframe_to_seconds

from centaur.settings.risk import RiskSettings

# Columns the risk layer reads, when the dataframe has them.
ROW_COLUMNS = ("close", "risk_atr", "risk_highest_high", "risk_lowest_low", "risk_sigma",
               "risk_vol_daily", "risk_vol_normal", "funding_rate", "regime_position_scale",
               "regime_stop_multiplier", "garch_sigma", "ranker_score")


def add_risk_columns(dataframe: pd.DataFrame, settings: RiskSettings, candles_per_day: int
                     ) -> pd.DataFrame:
    stops = settings.stops
    atr = _closed_timeframe_atr(dataframe, stops.atr_timeframe, stops.atr_candles)
    window = pd.Timedelta(seconds=timeframe_to_seconds(stops.atr_timeframe)) * \
        stops.chandelier_candles
    indexed = dataframe.set_index("date")
    dataframe["risk_atr"] = atr
    dataframe["risk_highest_high"] = indexed["high"].rolling(window).max().to_numpy()
    dataframe["risk_lowest_low"] = indexed["low"].rolling(window).min().to_numpy()
    realised = np.log(dataframe["close"]).diff().rolling(
        candles_per_day, min_periods=candles_per_day // 4).std()
    sigma = dataframe["garch_sigma"] if "garch_sigma" in dataframe else realised
    dataframe["risk_sigma"] = sigma.fillna(realised)
    dataframe["risk_vol_daily"] = dataframe["risk_sigma"] * math.sqrt(candles_per_day)
    dataframe["risk_vol_normal"] = dataframe["risk_vol_daily"].rolling(
        30 * candles_per_day, min_periods=candles_per_day).median()
    return dataframe


def _closed_timeframe_atr(dataframe: pd.DataFrame, timeframe: str, length: int) -> np.ndarray:
    """ATR of ``timeframe`` candles, each value usable only from that candle's close on."""
    step = pd.Timedelta(seconds=timeframe_to_seconds(timeframe))
    bars = dataframe.resample(step, on="date").agg(
        {"high": "max", "low": "min", "close": "last"}).dropna()
    atr = pta.atr(bars["high"], bars["low"], bars["close"], length=length)
    if atr is None:
        return np.full(len(dataframe), np.nan)
    known_from = pd.DataFrame({"known_at": (bars.index + step).astype("datetime64[ns, UTC]"),
                               "atr": atr.to_numpy()})
    dates = dataframe["date"].astype("datetime64[ns, UTC]")
    candle_close = pd.DataFrame({"close_at": dates + dates.diff().median()})
    merged = pd.merge_asof(candle_close, known_from, left_on="close_at", right_on="known_at")
    return merged["atr"].to_numpy()


@dataclass(frozen=True)
class RiskRows:
    dates_ns: np.ndarray
    columns: dict[str, np.ndarray]

    @classmethod
    def from_dataframe(cls, dataframe: pd.DataFrame) -> RiskRows:
        dates = dataframe["date"].astype("datetime64[ns, UTC]").dt.tz_localize(None).to_numpy(
            dtype="datetime64[ns]").astype("int64")
        return cls(dates, {c: dataframe[c].to_numpy(dtype="float64")
                           for c in ROW_COLUMNS if c in dataframe})

    def at(self, candle_date: datetime) -> dict[str, float] | None:
        """Values of the last candle dated at or before ``candle_date``."""
        index = int(np.searchsorted(self.dates_ns, pd.Timestamp(candle_date).value, "right")) - 1
        if index < 0:
            return None
        return {name: float(values[index]) for name, values in self.columns.items()}

    def closes(self, candle_date: datetime, count: int) -> np.ndarray:
        index = int(np.searchsorted(self.dates_ns, pd.Timestamp(candle_date).value, "right"))
        return self.columns["close"][max(0, index - count):index]
