"""Rule: candles fed to the models are well-formed; gaps are filled the way freqtrade fills them.

Malformed candles (missing columns, duplicated or unordered dates, non-positive or missing
prices, a high below the open/close or a low above them, negative volume) stop with
``CandleDataError`` naming the pair, the column, the first bad timestamp and the fix: a
model trained on them would be wrong without saying so.

Gaps (missing timestamps) are not an error: freqtrade itself fills them in backtesting and
live with "no trade" candles (open = high = low = close = previous close, volume 0).
``fill_gaps`` does the same for data loaded outside freqtrade, so features see the same
candles in the report, the benchmark and the strategy. Features treat a zero-volume flat
candle as what it is: no return, no volume.
"""

from __future__ import annotations

import logging

import pandas as pd

logger = logging.getLogger(__name__)

OHLCV = ("open", "high", "low", "close", "volume")
GAP_UNDEFINED = ("bb_position", "cmf_20", "volume_ratio_20", "volume_ratio_288", "mfi_14",
                 "stoch_k", "stoch_d", "willr_14", "cci_20", "range_pos_288", "zscore_close_288",
                 "volume_zscore_288", "efficiency_ratio_48")


class CandleDataError(ValueError):
    """Candles the models refuse to use; the message names the pair, column, time and fix."""


def validate_candles(candles: pd.DataFrame, pair: str) -> None:
    """Raise ``CandleDataError`` on the first malformed property found."""
    missing = [col for col in ("date", *OHLCV) if col not in candles.columns]
    if missing:
        raise CandleDataError(f"{pair}: candles lack column(s) {missing}. Fix: load OHLCV "
                              "candles with a 'date' column (freqtrade's data format).")
    _check_dates(candles["date"], pair)
    _check_prices(candles, pair)


def _check_dates(dates: pd.Series, pair: str) -> None:
    duplicated = dates.duplicated()
    if duplicated.any():
        raise CandleDataError(f"{pair}: duplicated candle at {dates[duplicated].iloc[0]}. Fix: "
                              "drop duplicate candles (freqtrade's ohlcv_to_dataframe does).")
    backwards = dates.diff() < pd.Timedelta(0)
    if backwards.any():
        raise CandleDataError(f"{pair}: candles out of order at {dates[backwards].iloc[0]}. "
                              "Fix: sort candles by date.")


def _check_prices(candles: pd.DataFrame, pair: str) -> None:
    prices = candles[["open", "high", "low", "close"]]
    checks = {
        "price missing (NaN)": prices.isna().any(axis=1),
        "price not positive": (prices <= 0).any(axis=1),
        "high below open/close": candles["high"] < prices[["open", "close"]].max(axis=1),
        "low above open/close": candles["low"] > prices[["open", "close"]].min(axis=1),
        "volume negative or missing": ~(candles["volume"] >= 0),
    }
    for problem, bad in checks.items():
        if bad.any():
            first = candles.loc[bad, "date"].iloc[0]
            raise CandleDataError(f"{pair}: {problem} at {first} ({int(bad.sum())} candle(s)). "
                                  "Fix: re-download the data for this range.")


def fill_gaps(candles: pd.DataFrame, timeframe_secs: int, pair: str) -> pd.DataFrame:
    """Missing candles become flat zero-volume candles at the previous close (freqtrade's rule)."""
    if candles.empty:
        return candles
    dates = pd.DatetimeIndex(candles["date"])
    full = pd.date_range(dates[0], dates[-1], freq=pd.Timedelta(seconds=timeframe_secs))
    if len(full) == len(dates):
        return candles.reset_index(drop=True)
    logger.info("%s: filled %d missing candle(s) with flat zero-volume candles",
                pair, len(full) - len(dates))
    filled = candles.set_index("date").reindex(full)
    close = filled["close"].ffill()
    for col in ("open", "high", "low"):
        filled[col] = filled[col].fillna(close)
    filled["close"] = close
    filled["volume"] = filled["volume"].fillna(0.0)
    return filled.rename_axis("date").reset_index()
