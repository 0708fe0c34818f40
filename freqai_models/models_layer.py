"""ModelsLayer: the models layer in a suite strategy - FreqAI's ranker, GARCH, regime, drift.

Mixed in above the signal core (``class S(..., ModelsLayer, EnsembleCore)``), it fills the
core's ``with_model_columns`` hook before the signals read the columns:

- always: ``garch_sigma`` and the regime columns (``regime_vol``, ``regime_trend``,
  ``regime_position_scale``, ``regime_stop_multiplier``) - the risk layer sizes and widens
  stops with them;
- with ``freqai.enabled``: FreqAI's walk-forward ranker (``ranker_score``, ``ranker_rank``,
  ``ranker_universe``) and the drift gate; a pair whose gate is closed (or that has no
  prediction) gets no entry - fail closed - and each closing is an operator event.
"""

from __future__ import annotations

import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exchange import timeframe_to_seconds

from centaur.events import Severity
from freqai_models.features_mixin import CentaurFeaturesMixin
from freqai_models.model_columns import DriftEvents, add_model_columns, add_volatility_columns
from strategies.centaur_strategy import CentaurStrategy


class ModelsLayer(CentaurFeaturesMixin, CentaurStrategy):
    """FreqAI's ranker and the drift gate (when enabled); GARCH and regime always."""

    @property
    def freqai_enabled(self) -> bool:
        return bool(self.config.get("freqai", {}).get("enabled", False))

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        live = self.config.get("runmode") in (RunMode.LIVE, RunMode.DRY_RUN)
        self.drift_events = DriftEvents(Severity.WARNING if live else Severity.INFO)

    def informative_pairs(self):
        pairs = list(super().informative_pairs())
        if self.freqai_enabled:
            pairs += [p for p in self.centaur_informative_pairs() if p not in pairs]
        return pairs

    def with_model_columns(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = super().with_model_columns(dataframe, metadata)
        pair, step = metadata["pair"], timeframe_to_seconds(self.timeframe)
        if not self.freqai_enabled:
            return add_volatility_columns(dataframe, self.centaur.models, pair, step)
        dataframe = self.freqai.start(dataframe, metadata, self)
        dataframe = add_model_columns(dataframe, self.centaur.models, pair, step)
        self.drift_events.emit(dataframe, pair, self.events)
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = super().populate_entry_trend(dataframe, metadata)
        if self.freqai_enabled:
            blocked = dataframe["drift_blocked"] == 1
            dataframe.loc[blocked, ["enter_long", "enter_short"]] = 0
        return dataframe
