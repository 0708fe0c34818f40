"""EnsembleCore: the flagship's signal logic, beneath the risk layer in the class order.

First cut: trade 5m pullbacks in the direction of the 1h trend, skipping the crowded funding
side. The ensemble of independent signals replaces this logic; the layers above it (risk,
LLM veto) stay as they are. With the risk layer off, ``leverage`` below is what trades use.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pandas_ta as pta
from freqtrade.persistence import Trade
from freqtrade.strategy import informative, stoploss_from_open

from strategies.centaur_strategy import CentaurStrategy
from strategies.market_data import funding_informative, with_funding_rate


class EnsembleCore(CentaurStrategy):
    """Trade 5m pullbacks in the direction of the 1h trend, skipping the crowded funding side."""

    fast_ema_1h = 21
    slow_ema_1h = 55
    rsi_length = 14
    rsi_long_entry = 35.0
    rsi_short_entry = 65.0
    funding_crowded = 0.0005  # 5 bp per settlement: the crowded side pays heavily
    # The strategy's own plain risk controls, in force when the risk layer is switched off
    # (centaur.risk.enabled = false): fixed leverage and a fixed stop, 2 % of price.
    fixed_leverage = 2.0
    fixed_stop_price_ratio = 0.02

    @property
    def plot_config(self):
        return {
            "main_plot": {"ema_fast_1h": {"color": "#2b83ba"}, "ema_slow_1h": {"color": "#d7191c"}},
            "subplots": {
                "RSI": {"rsi": {"color": "#7b3294"}},
                "Funding": {"funding_rate": {"color": "#fdae61", "type": "bar"}},
            },
        }

    def informative_pairs(self):
        return [funding_informative(pair) for pair in self.dp.current_whitelist()]

    @informative("1h")
    def populate_indicators_1h(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["ema_fast"] = pta.ema(dataframe["close"], length=self.fast_ema_1h)
        dataframe["ema_slow"] = pta.ema(dataframe["close"], length=self.slow_ema_1h)
        return dataframe

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["rsi"] = pta.rsi(dataframe["close"], length=self.rsi_length)
        return with_funding_rate(dataframe, self.dp, metadata["pair"], self.timeframe)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        uptrend = dataframe["ema_fast_1h"] > dataframe["ema_slow_1h"]
        rsi_up = (dataframe["rsi"] > self.rsi_long_entry) & (
            dataframe["rsi"].shift(1) <= self.rsi_long_entry)
        rsi_down = (dataframe["rsi"] < self.rsi_short_entry) & (
            dataframe["rsi"].shift(1) >= self.rsi_short_entry)
        funding = dataframe["funding_rate"].fillna(0.0)
        long = uptrend & rsi_up & (funding < self.funding_crowded) & (dataframe["volume"] > 0)
        short = ~uptrend & rsi_down & (funding > -self.funding_crowded) & (dataframe["volume"] > 0)
        dataframe.loc[long, ["enter_long", "enter_tag"]] = (1, "trend_pullback")
        dataframe.loc[short, ["enter_short", "enter_tag"]] = (1, "trend_pullback")
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe.loc[dataframe["rsi"] > 70, "exit_long"] = 1
        dataframe.loc[dataframe["rsi"] < 30, "exit_short"] = 1
        return dataframe

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        return min(self.fixed_leverage, max_leverage)

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime,
                        current_rate: float, current_profit: float, after_fill: bool,
                        **kwargs) -> float | None:
        return stoploss_from_open(-self.fixed_stop_price_ratio * trade.leverage, current_profit,
                                  is_short=trade.is_short, leverage=trade.leverage)
