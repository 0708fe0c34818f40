"""ModelColumns: the models' columns for a suite strategy - FreqAI's ranker, GARCH, regime.

Called by the strategy shell before the signals read the columns:

- always: ``garch_sigma`` and the regime columns (``regime_vol``, ``regime_trend``,
  ``regime_position_scale``, ``regime_stop_multiplier``) - the risk rules size and widen
  stops with them;
- with ``freqai.enabled``: FreqAI's walk-forward ranker (``ranker_score``, ``ranker_rank``,
  ``ranker_universe``) and the drift columns the ``DriftGate`` reads; each gate closing is an
  operator event.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from freqtrade.exchange import timeframe_to_seconds

from centaur.events import EventSink, Severity
from centaur.settings.models import ModelsSettings
from freqai_models.model_columns import DriftEvents, add_model_columns, add_volatility_columns


def freqai_enabled(config: dict[str, Any]) -> bool:
    return bool(config.get("freqai", {}).get("enabled", False))


class ModelColumns:
    """Adds the models' columns to a pair's analysed frame."""

    def __init__(self, settings: ModelsSettings, timeframe: str, freqai_on: bool,
                 events: EventSink, trading: bool):
        self._settings = settings
        self._step_secs = timeframe_to_seconds(timeframe)
        self.freqai_on = freqai_on
        self._events = events
        self._drift_events = DriftEvents(Severity.WARNING if trading else Severity.INFO)

    def add(self, dataframe: pd.DataFrame, metadata: dict, freqai: Any, strategy: Any
            ) -> pd.DataFrame:
        pair = metadata["pair"]
        if not self.freqai_on:
            return add_volatility_columns(dataframe, self._settings, pair, self._step_secs)
        dataframe = freqai.start(dataframe, metadata, strategy)
        dataframe = add_model_columns(dataframe, self._settings, pair, self._step_secs)
        self._drift_events.emit(dataframe, pair, self._events)
        return dataframe
