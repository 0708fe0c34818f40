"""Rule: long while the 1h fast EMA is above the slow one and 1h ADX says the market trends,
short while it is below; the position ends when the EMAs cross back.

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 4 h its excess over random directions was -2.8 points [-6.4,
+0.8], -5.5 bp per call after a 10 bp round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import IntParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals.base import Family, Signal, SignalFrame, column, ramp, state_frame
from strategies.signals.hourly import EMA_FAST_HOURS, EMA_SLOW_HOURS


@dataclass(frozen=True)
class EmaAdxTrend(Signal):
    adx_min: float = 25.0

    name = "ema_adx"
    family = Family.TREND
    horizon_candles = 48  # 4 h

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        fast, slow = column(dataframe, "ema_fast_1h"), column(dataframe, "ema_slow_1h")
        adx = column(dataframe, "adx_1h")  # from strategies.signals.hourly
        trending = adx >= self.adx_min
        strength = ramp(adx, self.adx_min, self.adx_min + 20.0)
        return state_frame(
            long=(fast > slow) & trending, short=(fast < slow) & trending,
            strength_long=strength, strength_short=strength,
            exit_long=fast < slow, exit_short=fast > slow,
            available=np.isfinite(fast) & np.isfinite(slow) & np.isfinite(adx))

    def describe(self) -> str:
        return (f"1h EMA({EMA_FAST_HOURS}) vs EMA({EMA_SLOW_HOURS}) with 1h ADX >= "
                f"{self.adx_min:g}: follow it; exit when the EMAs cross back")


class EmaAdxParameters(StrategyMixin):
    ema_adx_min = IntParameter(18, 35, default=25, space="signals")


def from_strategy(strategy: EmaAdxParameters) -> EmaAdxTrend:
    return EmaAdxTrend(adx_min=float(strategy.ema_adx_min.value))
