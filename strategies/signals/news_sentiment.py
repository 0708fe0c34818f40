"""Rule: when the headlines about a pair's asset turn strongly one way, follow them: long while
the mean headline score of the last 6 hours is at or above ``level`` with at least
``min_headlines`` scored headlines, short at or below -``level``; the position ends when the
6 h mean is no longer on its side (or no headline is left in the window).

It reads the ``news_*`` columns of ``llm_layer.sentiment`` (``add_sentiment_features``: each
candle sees only headlines published by its close). Where the frame has no headline data -
no column, or no headline of any asset in the last 24 hours - the signal abstains.

Off by default (``centaur.ensemble.signals: []`` in the shipped configs): not yet judged by the
evidence report (``make report-evidence``); the headline files cover 2021-10..2022-07 and
2025-11..2026-02 only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from freqtrade.strategy import DecimalParameter, IntParameter

from centaur.strategy_base import StrategyMixin
from llm_layer.sentiment import all_count_column, count_column, sentiment_column
from strategies.signals.base import Family, Signal, SignalFrame, column, ramp, state_frame

WINDOW_HOURS = 6
COVERAGE_HOURS = 24


@dataclass(frozen=True)
class NewsSentiment(Signal):
    level: float = 0.2
    min_headlines: int = 3

    name = "news_sentiment"
    family = Family.TREND
    horizon_candles = 72  # 6 h: the window the sentiment is averaged over

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        mean = column(dataframe, sentiment_column(WINDOW_HOURS))
        count = np.nan_to_num(column(dataframe, count_column(WINDOW_HOURS)))
        covered = column(dataframe, all_count_column(COVERAGE_HOURS)) > 0  # NaN -> False
        enough = count >= self.min_headlines
        full = self.level + (1.0 - self.level) / 2
        return state_frame(
            long=enough & (mean >= self.level), short=enough & (mean <= -self.level),
            strength_long=ramp(mean, self.level, full),
            strength_short=ramp(-mean, self.level, full),
            exit_long=~(mean > 0), exit_short=~(mean < 0), available=covered)

    def describe(self) -> str:
        return (f"mean headline sentiment ({WINDOW_HOURS} h) beyond +/-{self.level} with at "
                f"least {self.min_headlines} headlines: follow it; exit when it changes sign")


class NewsSentimentParameters(StrategyMixin):
    """Hyperopt parameters of the news signal (mixed into the strategies that use it)."""

    news_level = DecimalParameter(0.05, 0.5, default=0.2, decimals=2, space="signals")
    news_min_headlines = IntParameter(1, 10, default=3, space="signals")


def from_strategy(strategy: NewsSentimentParameters) -> NewsSentiment:
    return NewsSentiment(level=float(strategy.news_level.value),
                         min_headlines=int(strategy.news_min_headlines.value))
