"""Rule: long the pairs the FreqAI ranker puts in its top k, short its bottom k; the position
ends when the pair leaves the top (bottom) 2k. Abstains wherever the models layer has no
tradeable prediction (no ``ranker_rank`` column yet, NaN, or ``ranker_tradeable`` = 0).

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): out of sample (``make
report-evidence``, 2026-12-06) the FreqAI ranker's out-of-sample ranks showed no significant
edge (make report-models).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import IntParameter

from centaur.strategy_base import StrategyMixin
from strategies.signals.base import Family, Signal, SignalFrame, column, state_frame


@dataclass(frozen=True)
class RankerTopK(Signal):
    top_k: int = 2

    name = "ranker"
    family = Family.CROSS_SECTION
    horizon_candles = 48  # 4 h: the ranker's label horizon

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        rank, universe = column(dataframe, "ranker_rank"), column(dataframe, "ranker_universe")
        tradeable = column(dataframe, "ranker_tradeable") if "ranker_tradeable" in dataframe \
            else np.ones(len(dataframe))
        available = np.isfinite(rank) & np.isfinite(universe) & (tradeable == 1) & \
            (universe >= 2 * self.top_k)
        from_bottom = universe - rank + 1  # 1 = worst
        return state_frame(
            long=rank <= self.top_k, short=from_bottom <= self.top_k,
            strength_long=np.nan_to_num(1.0 - (rank - 1) / self.top_k),
            strength_short=np.nan_to_num(1.0 - (from_bottom - 1) / self.top_k),
            exit_long=~(rank <= 2 * self.top_k), exit_short=~(from_bottom <= 2 * self.top_k),
            available=available)

    def describe(self) -> str:
        return (f"FreqAI ranker top {self.top_k} long / bottom {self.top_k} short; exit "
                f"outside the top/bottom {2 * self.top_k}")


class RankerParameters(StrategyMixin):
    ranker_top_k = IntParameter(1, 3, default=2, space="signals")


def from_strategy(strategy: RankerParameters) -> RankerTopK:
    return RankerTopK(top_k=int(strategy.ranker_top_k.value))
