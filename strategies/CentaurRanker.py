"""CentaurRanker: research strategy that trades the pooled ranker's top-k long and bottom-k short.

Every 5m candle the FreqAI model ``CentaurLGBMRanker`` ranks the universe on the expected
4-hour return relative to the universe; the strategy goes long a pair while it ranks in the
top ``top_k`` and short while it ranks in the bottom ``bottom_k``, holds for the ranker's
horizon and leaves earlier when the pair crosses to the other extreme. No entry without a
prediction, a rank, or with the drift gate closed (``ranker_tradeable``); stake scaled by the
volatility regime. Run it with ``config/freqai.json`` (see the README's FreqAI section).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Trade

from centaur.events import Severity
from centaur.modes import is_trading
from centaur.strategy_base import CentaurStrategy
from freqai_models.feature_catalogue import WARMUP_CANDLES
from freqai_models.features_mixin import CentaurFeaturesMixin
from freqai_models.model_columns import DriftEvents, add_model_columns
from freqai_models.orderbook import add_live_orderbook
from sor_exchange.selection import check_exchange_class


class CentaurRanker(CentaurFeaturesMixin, CentaurStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    startup_candle_count = WARMUP_CANDLES
    process_only_new_candles = True

    stoploss = -0.05
    minimal_roi = {"0": 10.0}  # exits are the horizon, the rank and the stop
    trailing_stop = False
    use_exit_signal = True
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}

    @property
    def plot_config(self):
        return {"main_plot": {},
                "subplots": {"Rank": {"ranker_rank": {"color": "#2b83ba"}},
                             "Risk": {"garch_sigma": {"color": "#d7191c"},
                                      "drift_blocked": {"color": "#fdae61", "type": "bar"}},
                             "Risk regime": {"regime_position_scale": {"color": "#1a9641"},
                                             "regime_stop_multiplier": {"color": "#fdae61"}}}}

    def check_host(self) -> None:
        check_exchange_class(self.config, getattr(self.dp, "_exchange", None) if self.dp else None)

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        live = is_trading(self.config)
        self.drift_events = DriftEvents(Severity.WARNING if live else Severity.INFO)

    def informative_pairs(self):
        return self.centaur_informative_pairs()

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = self.freqai.start(dataframe, metadata, self)
        dataframe = add_model_columns(dataframe, self.centaur.models, metadata["pair"],
                                      timeframe_to_seconds(self.timeframe))
        self.drift_events.emit(dataframe, metadata["pair"], self.events)
        return add_live_orderbook(dataframe, self.dp, metadata["pair"],
                                  self.config.get("runmode"))

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        ranker = self.centaur.models.ranker
        rank, universe = dataframe["ranker_rank"], dataframe["ranker_universe"]
        ready = ((dataframe["ranker_tradeable"] == 1)
                 & (universe >= ranker.top_k + ranker.bottom_k) & (dataframe["volume"] > 0))
        dataframe.loc[ready & (rank <= ranker.top_k), ["enter_long", "enter_tag"]] = (
            1, "ranker_top")
        if ranker.bottom_k:
            dataframe.loc[ready & (rank > universe - ranker.bottom_k),
                          ["enter_short", "enter_tag"]] = (1, "ranker_bottom")
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        ranker = self.centaur.models.ranker
        rank, universe = dataframe["ranker_rank"], dataframe["ranker_universe"]
        dataframe.loc[rank > universe - ranker.bottom_k, "exit_long"] = 1
        dataframe.loc[rank <= ranker.top_k, "exit_short"] = 1
        return dataframe

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | None:
        horizon = self.centaur.models.ranker.horizon_candles * timeframe_to_seconds(
            self.timeframe)
        if (current_time - trade.open_date_utc).total_seconds() >= horizon:
            return "ranker_horizon"
        return None

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs) -> float:
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe.empty:
            return proposed_stake
        scale = float(dataframe["regime_position_scale"].iloc[-1])
        return max(min_stake or 0.0, min(proposed_stake * scale, max_stake))
