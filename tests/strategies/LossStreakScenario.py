"""Scenario: one-candle long trades every 2k candles, so fees make losing streaks common.

Used to drive the suite's LossStreakGuard through freqtrade's real backtesting engine.
"""

import pandas as pd
from freqtrade.strategy import IntParameter, IStrategy


class LossStreakScenario(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = False
    stoploss = -0.5
    minimal_roi = {"0": 100}
    use_exit_signal = True
    startup_candle_count = 0
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}

    entry_every = IntParameter(1, 6, default=1, space="buy")
    max_losses = 3

    @property
    def protections(self):
        return [{"method": "LossStreakGuard", "max_consecutive_losses": self.max_losses,
                 "lookback_period_candles": 288, "stop_duration_candles": 12}]

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        cycle = 2 * int(self.entry_every.value)
        dataframe.loc[(dataframe.index % cycle == 0) & (dataframe["volume"] > 0),
                      "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        # An exit signal on an entry candle would cancel the entry: exit on the candle after.
        cycle = 2 * int(self.entry_every.value)
        dataframe.loc[dataframe.index % cycle == 1, "exit_long"] = 1
        return dataframe
