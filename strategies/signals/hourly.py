"""The 1h columns the signals and the regime fallback read, on closed 1h candles only.

freqtrade's ``@informative("1h")`` merges them into the 5m dataframe with an ``_1h`` suffix,
each 1h candle from the 5m candle that closes with it on (no look-ahead). Columns: the trend
EMAs and ADX; the perp-spot basis (perp close / spot close - 1) and its z-score over the last
24 hours; and the 24 h / one-week ratio of 1h return volatility. Spot candles come from
freqtrade's DataProvider as an informative pair with candle type ``spot``. A spot pair has no
basis (it is the spot market): no spot candles are asked for, and the basis columns are NaN;
a perpetual without spot candles says so once and gets NaN too (the basis signal abstains).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pandas_ta as pta
from freqtrade.enums import CandleType
from freqtrade.strategy import informative

from centaur.market_data import is_perpetual
from centaur.settings import settings_from
from centaur.settings.ensemble import RegimeFallbackSettings
from centaur.strategy_base import StrategyMixin

logger = logging.getLogger(__name__)

EMA_FAST_HOURS = 21
EMA_SLOW_HOURS = 55
ADX_HOURS = 14
BASIS_WINDOW_HOURS = 24
HOURLY = "1h"


def spot_pair(pair: str) -> str:
    """The spot market of a perpetual: ``BTC/USDT:USDT`` -> ``BTC/USDT``."""
    return pair.split(":", 1)[0]


def spot_informative(pair: str) -> tuple[str, str, str]:
    """The ``informative_pairs`` entry that makes freqtrade load/refresh a pair's spot 1h."""
    return (spot_pair(pair), HOURLY, CandleType.SPOT.value)


def hourly_columns(hourly: pd.DataFrame, spot: pd.DataFrame,
                   regime: RegimeFallbackSettings) -> pd.DataFrame:
    close = hourly["close"]
    hourly["ema_fast"] = pta.ema(close, length=EMA_FAST_HOURS)
    hourly["ema_slow"] = pta.ema(close, length=EMA_SLOW_HOURS)
    adx = pta.adx(hourly["high"], hourly["low"], close, length=ADX_HOURS)
    hourly["adx"] = adx[f"ADX_{ADX_HOURS}"] if adx is not None else np.nan
    hourly["spot_close"] = _spot_close(hourly["date"], spot, close.to_numpy(dtype=float))
    basis = close / hourly["spot_close"] - 1.0
    window = basis.rolling(BASIS_WINDOW_HOURS, min_periods=BASIS_WINDOW_HOURS)
    hourly["basis"] = basis
    hourly["basis_z"] = (basis - window.mean()) / window.std().where(lambda s: s > 0)
    returns = np.log(close).diff()
    short = returns.rolling(regime.short_window_hours).std()
    long = returns.rolling(regime.long_window_hours).std()
    hourly["vol_ratio"] = short / long.where(long > 0)
    return hourly


def _spot_close(dates: pd.Series, spot: pd.DataFrame | None, perp_close: np.ndarray
                ) -> np.ndarray:
    """Spot closes aligned on the perp's 1h candle dates (NaN where spot has no candle).

    All NaN, with a warning, when the "spot" candles are the perpetual's own: freqtrade asks
    ccxt for the spot symbol, and ccxt's ``binance`` with ``defaultType: swap`` (how freqtrade
    runs futures) resolves ``BTC/USDT`` to ``BTC/USDT:USDT``. A basis of exactly zero is not
    a measurement; the basis signal abstains instead of trading it.
    """
    missing = np.full(len(dates), np.nan)
    if spot is None or spot.empty:
        return missing
    by_date = pd.Series(spot["close"].to_numpy(dtype=float),
                        index=pd.DatetimeIndex(spot["date"]))
    by_date = by_date[~by_date.index.duplicated(keep="last")]
    aligned = by_date.reindex(pd.DatetimeIndex(dates)).to_numpy()
    known = np.isfinite(aligned)
    if known.sum() > 1 and np.array_equal(aligned[known], perp_close[known]):
        _warn_once("spot candles equal the perpetual's (the exchange resolved the spot symbol "
                   "to the perpetual): no basis, the basis signal abstains")
        return missing
    return aligned


def _spot_candles(dp, pair: str) -> pd.DataFrame | None:
    """The perpetual's spot 1h candles; None for a spot pair (no basis to measure)."""
    if dp is None or not is_perpetual(pair):
        return None
    spot = dp.get_pair_dataframe(spot_pair(pair), HOURLY, candle_type=CandleType.SPOT)
    if spot.empty:
        _warn_once(f"{pair}: no spot {HOURLY} candles for {spot_pair(pair)} (data kind "
                   "'spot'): no basis, the basis signal abstains on this pair")
    return spot


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)


class HourlyColumns(StrategyMixin):
    """Mixin for suite strategies: the 1h columns above, merged with the ``_1h`` suffix.

    ``cache=False``: the method reads spot candles through the DataProvider, which freqtrade's
    live informative cache (keyed on the perp's 1h candles only) would not see change.
    """

    @informative(HOURLY, cache=False)
    def populate_indicators_1h(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        spot = _spot_candles(self.dp, metadata["pair"])
        regime = settings_from(self.config).ensemble.regime_fallback
        return hourly_columns(dataframe, spot, regime)
