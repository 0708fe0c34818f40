"""Scenarios for the risk layer: a blunt signal core (enter every 30 minutes, never exit by
signal) through the real pipeline shell with the risk engine (no ensemble, no models), so
every exit and every denial is the risk layer's."""

from datetime import UTC, datetime, timedelta

import pandas as pd

from centaur.interventions import Intervention, InterventionKind
from strategies.pipeline_strategy import PipelineStrategy


class RiskScenario(PipelineStrategy):
    uses_ensemble = False
    uses_models = False
    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    stoploss = -0.20
    minimal_roi = {"0": 100}
    use_exit_signal = True  # no exit signal is ever set; custom_exit needs it true
    startup_candle_count = 300
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}
    entry_side = "long"

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        every = (dataframe["date"].dt.minute % 30 == 0) & (dataframe["volume"] > 0)
        dataframe.loc[every, f"enter_{self.entry_side}"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return dataframe


class RiskScenarioShort(RiskScenario):
    entry_side = "short"


class RiskScenarioInterventions(RiskScenario):
    """Interventions an LLM breaker or an operator would have written, from the start."""

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        start = datetime(2020, 1, 1, tzinfo=UTC)
        end = start + timedelta(days=3650)
        for kind, pair, value in (
            (InterventionKind.DISABLE_ASSET, "ETH/USDT:USDT", None),
            (InterventionKind.POSITION_SIZE, "BTC/USDT:USDT", 0.5),
            (InterventionKind.LEVERAGE, "BTC/USDT:USDT", 2.0),
        ):
            self.interventions.add(Intervention(kind, pair, value, start, end, "operator",
                                                "scenario"))


class RiskScenarioEveryCandle(RiskScenario):
    """Signals a long on every candle: the first analysis of a dry-run bot opens a trade."""

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe.loc[dataframe["volume"] > 0, "enter_long"] = 1
        return dataframe
