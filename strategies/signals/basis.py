"""Rule: short the perp while its basis to spot is above +z standard deviations of the last
24 hours, long it below -z; the position ends when the z-score is back within +/- z_exit.

The basis needs a perpetual and its spot market: on a spot pair, or without spot candles, the
signal abstains (``perpetual_data``; the strategy says so once at start-up).

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 8 h its excess hit rate over random directions was +0.2 points
[-3.3, +3.7] and -2.3 bp per call after a 10 bp round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd
from freqtrade.strategy import DecimalParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals.base import Family, Signal, SignalFrame, column, ramp, state_frame


@dataclass(frozen=True)
class BasisMeanReversion(Signal):
    z_entry: float = 2.0
    z_exit: float = 0.5

    name = "basis"
    family = Family.CARRY
    horizon_candles = 96  # 8 h
    perpetual_data: ClassVar[str] = "perpetual and spot candles (the basis)"

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        z = column(dataframe, "basis_z_1h")  # from strategies.signals.hourly
        available = pd.notna(z)
        return state_frame(
            long=z < -self.z_entry, short=z > self.z_entry,
            strength_long=ramp(-z, self.z_entry, 2 * self.z_entry),
            strength_short=ramp(z, self.z_entry, 2 * self.z_entry),
            exit_long=z >= -self.z_exit, exit_short=z <= self.z_exit, available=available)

    def describe(self) -> str:
        return (f"basis z-score (24 h) beyond +/-{self.z_entry}: fade it; exit inside "
                f"+/-{self.z_exit}")


class BasisParameters(StrategyMixin):
    """Hyperopt parameters of the basis signal (mixed into the strategies that use it)."""

    basis_z_entry = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="signals")
    basis_z_exit = DecimalParameter(0.0, 1.0, default=0.5, decimals=1, space="signals")


def from_strategy(strategy: BasisParameters) -> BasisMeanReversion:
    return BasisMeanReversion(z_entry=float(strategy.basis_z_entry.value),
                              z_exit=float(strategy.basis_z_exit.value))
