"""Rule: long while the close is below the lower Bollinger band and RSI confirms oversold,
short above the upper band with RSI overbought; the position ends at the middle band.

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 1 h it beat random directions on hit rate (+4.0 points [+2.0,
+6.1]) but lost -9.7 bp per call [-15.2, -4.2] after a 10 bp round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import DecimalParameter, IntParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals import columns
from strategies.signals.base import Family, Signal, SignalContext, SignalFrame, ramp, state_frame

BB_LENGTH = 20
RSI_LENGTH = 14


@dataclass(frozen=True)
class BollingerRsiReversion(Signal):
    band_std: float = 2.0
    rsi_oversold: float = 30.0

    name = "bb_rsi"
    family = Family.REVERSION
    horizon_candles = 12  # 1 h

    def add_columns(self, dataframe: pd.DataFrame, context: SignalContext) -> pd.DataFrame:
        columns.rsi(dataframe, RSI_LENGTH)
        columns.bollinger(dataframe, BB_LENGTH, self.band_std)
        return dataframe

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        close = dataframe["close"].to_numpy(dtype=float)
        lower, mid, upper = columns.bollinger(dataframe, BB_LENGTH, self.band_std)
        rsi = columns.rsi(dataframe, RSI_LENGTH)
        overbought = 100.0 - self.rsi_oversold
        return state_frame(
            long=(close < lower) & (rsi < self.rsi_oversold),
            short=(close > upper) & (rsi > overbought),
            strength_long=ramp(self.rsi_oversold - rsi, 0.0, self.rsi_oversold / 2),
            strength_short=ramp(rsi - overbought, 0.0, self.rsi_oversold / 2),
            exit_long=close >= mid, exit_short=close <= mid,
            available=np.isfinite(mid) & np.isfinite(rsi))

    def describe(self) -> str:
        return (f"close beyond the {BB_LENGTH}-candle Bollinger band ({self.band_std} sd) with "
                f"RSI({RSI_LENGTH}) beyond {self.rsi_oversold:g}/{100 - self.rsi_oversold:g}: "
                "fade it; exit at the middle band")


class BollingerRsiParameters(StrategyMixin):
    bb_rsi_band_std = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="signals")
    bb_rsi_oversold = IntParameter(20, 35, default=30, space="signals")


def from_strategy(strategy: BollingerRsiParameters) -> BollingerRsiReversion:
    return BollingerRsiReversion(band_std=float(strategy.bb_rsi_band_std.value),
                                 rsi_oversold=float(strategy.bb_rsi_oversold.value))
