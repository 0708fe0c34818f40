"""Rule: long when the close breaks above the highest high of the lookback on a volume spike,
short below the lowest low (the vote lasts a few candles); the position ends when the close
is back across the middle of that channel.

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 2 h it was worse than random directions: -4.0 points [-6.1,
-1.9], -11.8 bp per call after a 10 bp round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import DecimalParameter, IntParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals import columns
from strategies.signals.base import (
    Family,
    Signal,
    SignalContext,
    SignalFrame,
    held_votes,
    ramp,
    state_frame,
)

VOLUME_WINDOW = 48
HOLD_CANDLES = 3


@dataclass(frozen=True)
class MomentumBreakout(Signal):
    lookback_candles: int = 48
    volume_spike: float = 2.0

    name = "breakout"
    family = Family.TREND
    horizon_candles = 24  # 2 h

    def add_columns(self, dataframe: pd.DataFrame, context: SignalContext) -> pd.DataFrame:
        columns.rolling_mean(dataframe, "volume", VOLUME_WINDOW)
        return dataframe

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        close = dataframe["close"].to_numpy(dtype=float)
        high = dataframe["high"].rolling(self.lookback_candles).max().shift(1).to_numpy()
        low = dataframe["low"].rolling(self.lookback_candles).min().shift(1).to_numpy()
        mean_volume = columns.rolling_mean(dataframe, "volume", VOLUME_WINDOW)
        spike = dataframe["volume"].to_numpy(dtype=float) / np.roll(mean_volume, 1)
        loud = spike >= self.volume_spike
        strength = ramp(spike, self.volume_spike, 2 * self.volume_spike)
        middle = (high + low) / 2
        long, short = held_votes((close > high) & loud, (close < low) & loud, HOLD_CANDLES)
        return state_frame(
            long=long, short=short,
            strength_long=strength, strength_short=strength,
            exit_long=close < middle, exit_short=close > middle,
            available=np.isfinite(high) & np.isfinite(low) & np.isfinite(spike))

    def describe(self) -> str:
        return (f"close beyond the {self.lookback_candles}-candle channel with volume >= "
                f"{self.volume_spike:g} x its {VOLUME_WINDOW}-candle mean: follow it; exit "
                "across the channel middle")


class BreakoutParameters(StrategyMixin):
    breakout_lookback = IntParameter(24, 96, default=48, space="signals")
    breakout_volume_spike = DecimalParameter(1.5, 4.0, default=2.0, decimals=1, space="signals")


def from_strategy(strategy: BreakoutParameters) -> MomentumBreakout:
    return MomentumBreakout(lookback_candles=int(strategy.breakout_lookback.value),
                            volume_spike=float(strategy.breakout_volume_spike.value))
