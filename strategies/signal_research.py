"""SignalResearch: one signal traded alone, for research - no ensemble, no tracker, no risk
layer. It enters on the signal's calls (as the tracker scores them: the first candle of a vote
after a quiet horizon, tagged with the signal's name) and exits on the signal's own exit rule,
with fixed leverage and stop (``FixedRisk``). One subclass per signal (``SignalBasis``, ...),
one per file."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_seconds

from centaur.market_data import funding_informative, with_funding_rate
from centaur.strategy_base import CentaurStrategy
from sor_exchange.selection import check_exchange_class
from strategies.fixed_risk import FixedRisk
from strategies.signal_outcomes import call_rows
from strategies.signals import REGISTRY, Signal, SignalContext
from strategies.signals.hourly import HourlyColumns, spot_informative


class SignalResearch(HourlyColumns, FixedRisk, CentaurStrategy):
    """Trade one registered signal alone: its calls in, its exit rule out."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    startup_candle_count = 720
    process_only_new_candles = True
    stoploss = -0.20
    minimal_roi = {"0": 100}
    use_exit_signal = True
    use_custom_stoploss = True
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}
    signal_name: ClassVar[str]

    def check_host(self) -> None:
        check_exchange_class(self.config, getattr(self.dp, "_exchange", None) if self.dp else None)

    def signal(self) -> Signal:
        return REGISTRY[self.signal_name].from_strategy(self)

    def informative_pairs(self):
        return [entry for pair in self.dp.current_whitelist()
                for entry in (funding_informative(pair), spot_informative(pair))]

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = with_funding_rate(dataframe, self.dp, metadata["pair"], self.timeframe)
        return self.signal().add_columns(dataframe, SignalContext(self.dp, metadata["pair"],
                                                                  self.timeframe))

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        signal = self.signal()
        direction = signal.evaluate(dataframe).direction
        calls = np.zeros(len(dataframe), dtype=bool)
        horizon = signal.horizon_at(timeframe_to_seconds(self.timeframe))
        calls[call_rows(direction, horizon)] = True
        calls &= dataframe["volume"].to_numpy() > 0
        dataframe["enter_long"] = (calls & (direction > 0)).astype(int)
        dataframe["enter_short"] = (calls & (direction < 0)).astype(int)
        dataframe.loc[calls, "enter_tag"] = self.signal_name
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        frame = self.signal().evaluate(dataframe)
        dataframe["exit_long"] = frame.exit_long.astype(int)
        dataframe["exit_short"] = frame.exit_short.astype(int)
        return dataframe
