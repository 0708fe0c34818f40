"""Rule: when funding is extreme the crowd is on one side: vote against it (contrarian) and
veto entries on the crowded side; the position ends when funding is back on the other side of
its mean.

Extreme: the last settled rate is more than ``z_entry`` standard deviations from the mean of
the last ``window_settlements`` settlements (30 days of 8h settlements), with the sign of the
rate agreeing (positive funding: longs pay, longs are crowded). A settlement is known from its
time on, so a candle sees the last settlement at or before its close. Funding exists on
perpetual futures only: on a spot pair, or a futures pair without funding data, the signal
abstains (``perpetual_data``; the strategy says so once at start-up).

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) at 8 h its excess over random directions was +6.0 points [-3.9,
+16.0] and +25.8 bp per call [-32.1, +83.7]: too few calls to tell it from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.strategy import DecimalParameter

from centaur.market_data import settled_funding
from centaur.strategy_base import StrategyMixin
from strategies.signals.base import (
    Family,
    Signal,
    SignalContext,
    SignalFrame,
    column,
    ramp,
    state_frame,
)

WINDOW_SETTLEMENTS = 90
MIN_SETTLEMENTS = 30


@dataclass(frozen=True)
class FundingExtremes(Signal):
    z_entry: float = 2.0

    name = "funding"
    family = Family.CARRY
    horizon_candles = 96  # 8 h: one settlement interval
    perpetual_data: ClassVar[str] = "settled funding rates"  # none on spot markets

    def add_columns(self, dataframe: pd.DataFrame, context: SignalContext) -> pd.DataFrame:
        if "funding_z" not in dataframe:
            dataframe["funding_z"] = funding_zscore(dataframe, context)
        return dataframe

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        z = column(dataframe, "funding_z")
        rate = column(dataframe, "funding_rate")
        crowded_long = (z > self.z_entry) & (rate > 0)
        crowded_short = (z < -self.z_entry) & (rate < 0)
        return state_frame(
            long=crowded_short, short=crowded_long,
            strength_long=ramp(-z, self.z_entry, 2 * self.z_entry),
            strength_short=ramp(z, self.z_entry, 2 * self.z_entry),
            exit_long=z >= 0, exit_short=z <= 0,
            available=np.isfinite(z) & np.isfinite(rate),
            veto_long=crowded_long, veto_short=crowded_short)

    def describe(self) -> str:
        return (f"funding z-score over {WINDOW_SETTLEMENTS} settlements beyond "
                f"+/-{self.z_entry}: fade the crowded side and veto it; exit when z crosses 0")


def funding_zscore(dataframe: pd.DataFrame, context: SignalContext) -> np.ndarray:
    """z-score of the last settled rate at each candle's close, over the settlements before."""
    funding = settled_funding(context.dp, context.pair)  # empty for a spot pair
    if funding.empty:
        return np.full(len(dataframe), np.nan)
    rates = funding["funding_rate"].astype("float64")
    window = rates.rolling(WINDOW_SETTLEMENTS, min_periods=MIN_SETTLEMENTS)
    settled = pd.DataFrame({
        "_settled_at": funding["date"].astype("datetime64[ns, UTC]"),
        "_z": ((rates - window.mean()) / window.std().where(lambda s: s > 0)).to_numpy(),
    }).sort_values("_settled_at")
    close_time = dataframe["date"].astype("datetime64[ns, UTC]") + pd.Timedelta(
        seconds=timeframe_to_seconds(context.timeframe))
    merged = pd.merge_asof(pd.DataFrame({"_close": close_time.to_numpy()}), settled,
                           left_on="_close", right_on="_settled_at", direction="backward")
    return merged["_z"].to_numpy()


class FundingParameters(StrategyMixin):
    funding_z_entry = DecimalParameter(1.5, 3.5, default=2.0, decimals=1, space="signals")


def from_strategy(strategy: FundingParameters) -> FundingExtremes:
    return FundingExtremes(z_entry=float(strategy.funding_z_entry.value))
