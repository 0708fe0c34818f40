"""Scenario: hold a long (even days) or a short (odd days) from 00:05 to 20:00 UTC.

Each trade spans the 08:00 and 16:00 settlements, so funding must be charged twice, with the
sign of the side.
"""

import pandas as pd
from freqtrade.strategy import IStrategy


class FundingScenario(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    stoploss = -0.99
    minimal_roi = {"0": 100}
    use_exit_signal = True
    startup_candle_count = 0

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        start = (dataframe["date"].dt.hour == 0) & (dataframe["date"].dt.minute == 0)
        even = dataframe["date"].dt.day % 2 == 0
        dataframe.loc[start & even, "enter_long"] = 1
        dataframe.loc[start & ~even, "enter_short"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        end = (dataframe["date"].dt.hour == 19) & (dataframe["date"].dt.minute == 55)
        dataframe.loc[end, ["exit_long", "exit_short"]] = 1
        return dataframe
