"""Rule: after a Bollinger squeeze (band width among the narrowest of the last day), follow
the close that breaks out of the band (the vote lasts a few candles); the position ends when
the close is back across the middle band.

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 2 h it was worse than random directions: -3.6 points [-5.4,
-1.9], -12.5 bp per call after a 10 bp round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import DecimalParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals import columns
from strategies.signals.base import (
    Family,
    Signal,
    SignalContext,
    SignalFrame,
    held,
    held_votes,
    ramp,
    state_frame,
)

BB_LENGTH, BB_STD = 20, 2.0
WIDTH_WINDOW = 288  # one day of 5m candles
SQUEEZE_MEMORY = 12  # a breakout counts within an hour of the squeeze
HOLD_CANDLES = 3


@dataclass(frozen=True)
class BollingerSqueeze(Signal):
    width_quantile: float = 0.1

    name = "squeeze"
    family = Family.VOLATILITY
    horizon_candles = 24  # 2 h

    def add_columns(self, dataframe: pd.DataFrame, context: SignalContext) -> pd.DataFrame:
        columns.bollinger(dataframe, BB_LENGTH, BB_STD)
        return dataframe

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        close = dataframe["close"].to_numpy(dtype=float)
        lower, mid, upper = columns.bollinger(dataframe, BB_LENGTH, BB_STD)
        width = pd.Series((upper - lower) / mid)
        narrow = width.rolling(WIDTH_WINDOW, min_periods=WIDTH_WINDOW).quantile(
            self.width_quantile)
        squeezed = held((width <= narrow).to_numpy(), SQUEEZE_MEMORY)
        previous = np.roll(squeezed, 1)
        previous[:1] = False
        expansion = ramp((width / narrow).to_numpy(), 1.0, 3.0)
        long, short = held_votes(previous & (close > upper), previous & (close < lower),
                                 HOLD_CANDLES)
        return state_frame(
            long=long, short=short,
            strength_long=expansion, strength_short=expansion,
            exit_long=close < mid, exit_short=close > mid,
            available=np.isfinite(narrow.to_numpy()))

    def describe(self) -> str:
        return (f"close breaks the Bollinger band ({BB_LENGTH}, {BB_STD} sd) within "
                f"{SQUEEZE_MEMORY} candles of a width under its {self.width_quantile:.0%} "
                f"quantile of the last {WIDTH_WINDOW} candles; exit across the middle band")


class SqueezeParameters(StrategyMixin):
    squeeze_width_quantile = DecimalParameter(0.05, 0.3, default=0.1, decimals=2,
                                              space="signals")


def from_strategy(strategy: SqueezeParameters) -> BollingerSqueeze:
    return BollingerSqueeze(width_quantile=float(strategy.squeeze_width_quantile.value))
