"""Rule: the columns other layers read are always present, and unknown means blocked.

``add_model_columns`` adds, per candle: ``garch_sigma`` (forecast sigma of the next 5m log
return, a ratio) and ``garch_fallback``; the regime columns (``regime_vol``, ``regime_trend``,
``regime_position_scale``, ``regime_stop_multiplier``, ``regime_vol_ratio``,
``regime_adx_1h``); and normalises the ranker's FreqAI outputs: ``ranker_score``,
``ranker_rank`` (1 = best), ``ranker_universe`` are NaN where there is no prediction, and
``drift_blocked`` is 1 wherever FreqAI did not predict (``do_predict`` != 1), the columns are
missing (no model yet live) or the gate blocked. ``ranker_tradeable`` is the one flag an entry
needs from this layer.

``DriftEvents`` raises an operator event (reason DRIFT_BLOCK, through the suite's
``EventSink``) each time a pair's gate closes, with the features and tests behind it.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings.models import ModelsSettings
from freqai_models.garch import garch_sigma
from freqai_models.regime import regime_columns

RANKER_COLUMNS = ("ranker_score", "ranker_rank", "ranker_universe")


def add_model_columns(dataframe: pd.DataFrame, settings: ModelsSettings, pair: str,
                      timeframe_secs: int) -> pd.DataFrame:
    """GARCH, regime and the fail-closed ranker/drift columns (see the module rule)."""
    return gate_columns(add_volatility_columns(dataframe, settings, pair, timeframe_secs))


def add_volatility_columns(dataframe: pd.DataFrame, settings: ModelsSettings, pair: str,
                           timeframe_secs: int) -> pd.DataFrame:
    """GARCH sigma and the regime columns: what needs no trained model."""
    garch = garch_sigma(dataframe["date"], dataframe["close"], settings.garch, pair,
                        timeframe_secs)
    extra = regime_columns(dataframe, settings.regime, timeframe_secs)
    extra["garch_sigma"] = garch.sigma
    extra["garch_fallback"] = garch.fallback
    return pd.concat([dataframe.drop(columns=list(extra.columns), errors="ignore"), extra],
                     axis=1)


def gate_columns(dataframe: pd.DataFrame) -> pd.DataFrame:
    predicted = dataframe.get("do_predict", pd.Series(0, index=dataframe.index)).fillna(0) == 1
    for column in RANKER_COLUMNS:
        values = dataframe.get(column, pd.Series(np.nan, index=dataframe.index))
        dataframe[column] = values.astype(float).where(predicted)
    blocked = dataframe.get("drift_blocked", pd.Series(1, index=dataframe.index)).fillna(1)
    dataframe["drift_blocked"] = np.where(predicted, blocked, 1).astype(int)
    reason = dataframe.get("drift_reason", pd.Series("", index=dataframe.index))
    dataframe["drift_reason"] = reason.fillna("").astype(str)
    count = dataframe.get("drift_features", pd.Series(0, index=dataframe.index))
    dataframe["drift_features"] = count.fillna(0).astype(int)
    rank, universe = dataframe["ranker_rank"], dataframe["ranker_universe"]
    dataframe["ranker_tradeable"] = ((dataframe["drift_blocked"] == 0) & (rank >= 1)
                                     & (rank <= universe)).astype(int)
    return dataframe


class DriftEvents:
    """Emits one DRIFT_BLOCK event per gate closing (a candle blocked by the gate after an
    open one), each closing once even when the dataframe is analysed again."""

    def __init__(self, severity: Severity = Severity.WARNING) -> None:
        self.severity = severity
        self._last_seen: dict[str, pd.Timestamp] = {}

    def emit(self, dataframe: pd.DataFrame, pair: str, sink: EventSink) -> list[OperatorEvent]:
        closing = self._closings(dataframe, pair)
        events = [sink.emit(OperatorEvent(
            time=_as_datetime(row.date), severity=self.severity, code=ReasonCode.DRIFT_BLOCK,
            message=f"new entries blocked: features left the training distribution: "
                    f"{row.drift_reason}",
            pair=pair, data={"drifted_features": int(row.drift_features)}))
            for row in closing.itertuples()]
        if len(dataframe):
            self._last_seen[pair] = pd.Timestamp(dataframe["date"].iloc[-1])
        return events

    def _closings(self, dataframe: pd.DataFrame, pair: str) -> pd.DataFrame:
        gated = dataframe["drift_reason"].str.contains(str(ReasonCode.DRIFT_BLOCK), regex=False)
        opened_before = dataframe["drift_blocked"].shift(1, fill_value=0) == 0
        closing = dataframe.loc[gated & (dataframe["drift_blocked"] == 1) & opened_before,
                                ["date", "drift_reason", "drift_features"]]
        since = self._last_seen.get(pair)
        return closing if since is None else closing[closing["date"] > since]


def _as_datetime(value) -> datetime:
    return pd.Timestamp(value).to_pydatetime()
