"""Rule: long when RSI climbs back above the oversold level, short when it drops back below
the overbought level (the vote lasts a few candles); the position ends once RSI is past the
middle on the profitable side.

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 1 h its excess over random directions was +1.4 points [-0.5,
+3.3], -12.6 bp per call after a 10 bp round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import IntParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals import columns
from strategies.signals.base import (
    Family,
    Signal,
    SignalContext,
    SignalFrame,
    crossed_above,
    crossed_below,
    held_votes,
    ramp,
    state_frame,
)

RSI_LENGTH = 14
HOLD_CANDLES = 3
EXIT_LONG_RSI, EXIT_SHORT_RSI = 55.0, 45.0


@dataclass(frozen=True)
class RsiBounce(Signal):
    rsi_oversold: float = 30.0

    name = "rsi_bounce"
    family = Family.REVERSION
    horizon_candles = 12  # 1 h

    def add_columns(self, dataframe: pd.DataFrame, context: SignalContext) -> pd.DataFrame:
        columns.rsi(dataframe, RSI_LENGTH)
        return dataframe

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        rsi = columns.rsi(dataframe, RSI_LENGTH)
        overbought = 100.0 - self.rsi_oversold
        depth = pd.Series(rsi).rolling(HOLD_CANDLES + 1, min_periods=1)
        long, short = held_votes(crossed_above(rsi, self.rsi_oversold),
                                 crossed_below(rsi, overbought), HOLD_CANDLES)
        return state_frame(
            long=long, short=short,
            strength_long=ramp(self.rsi_oversold - depth.min().to_numpy(), 0.0, 10.0),
            strength_short=ramp(depth.max().to_numpy() - overbought, 0.0, 10.0),
            exit_long=rsi >= EXIT_LONG_RSI, exit_short=rsi <= EXIT_SHORT_RSI,
            available=np.isfinite(rsi))

    def describe(self) -> str:
        return (f"RSI({RSI_LENGTH}) back above {self.rsi_oversold:g} (long) / below "
                f"{100 - self.rsi_oversold:g} (short), vote held {HOLD_CANDLES} candles; exit "
                f"past {EXIT_LONG_RSI:g}/{EXIT_SHORT_RSI:g}")


class RsiBounceParameters(StrategyMixin):
    rsi_bounce_oversold = IntParameter(20, 35, default=30, space="signals")


def from_strategy(strategy: RsiBounceParameters) -> RsiBounce:
    return RsiBounce(rsi_oversold=float(strategy.rsi_bounce_oversold.value))
