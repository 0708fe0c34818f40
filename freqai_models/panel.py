"""Rule: the cross-sectional panel holds every universe pair on one date grid, and a pair takes
part in a timestamp's cross-section only when its candle exists and its features have warmed up.

The panel is what the pooled ranker trains on (hourly query groups, labels up to the window's
label cut-off) and scores (every candle of the window); the forward returns in it are only
read through ``training_rows``, which enforces the cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from centaur.settings.models import ModelsSettings
from freqai_models.feature_catalogue import TRAINING_NAMES
from freqai_models.features import compute_features
from freqai_models.labels import forward_log_return, label_cutoff, relevance_grades
from freqai_models.pair_features import PairInputs
from freqai_models.schedule import Window

WARMED_UP = ("rv_2016", "close_to_sma_200")  # the longest windows: finite once warmed up


@dataclass(frozen=True)
class Panel:
    pairs: tuple[str, ...]
    features: dict[str, pd.DataFrame]  # per pair: DatetimeIndex (UTC, ns), float32 columns
    forward: pd.DataFrame  # dates x pairs: forward log return over the horizon
    timeframe_secs: int

    def rows(self, pair: str, start: pd.Timestamp, stop: pd.Timestamp) -> pd.DataFrame:
        frame = self.features[pair]
        return frame.loc[(frame.index >= start) & (frame.index < stop)]

    def present(self, start: pd.Timestamp, stop: pd.Timestamp) -> pd.DataFrame:
        """dates x pairs: True where the pair has a warmed-up candle."""
        flags = {pair: self.rows(pair, start, stop)[list(WARMED_UP)].notna().all(axis=1)
                 for pair in self.pairs}
        return pd.DataFrame(flags).fillna(False).astype(bool)


def build_panel(inputs: dict[str, PairInputs], settings: ModelsSettings,
                timeframe_secs: int) -> Panel:
    """Features of every pair (catalogue order, float32) and their forward returns."""
    features = compute_features(inputs, settings.garch, timeframe_secs)
    indexed, forward = {}, {}
    for pair, item in inputs.items():
        index = pd.DatetimeIndex(item.candles["date"]).as_unit("ns")
        indexed[pair] = features[pair].set_axis(index).astype("float32")
        close = pd.Series(item.candles["close"].to_numpy(), index=index)
        forward[pair] = forward_log_return(close, settings.ranker.horizon_candles)
    return Panel(tuple(inputs), indexed, pd.DataFrame(forward), timeframe_secs)


@dataclass(frozen=True)
class TrainingRows:
    features: pd.DataFrame  # rows sorted by (date, pair); columns = TRAINING_NAMES
    grades: np.ndarray
    groups: np.ndarray  # rows per query (timestamp)
    dates: pd.DatetimeIndex


def training_rows(panel: Panel, window: Window, settings: ModelsSettings) -> TrainingRows:
    """Hourly query groups in the training range whose labels closed before the boundary."""
    ranker = settings.ranker
    cutoff = label_cutoff(window.boundary, ranker.horizon_candles, panel.timeframe_secs)
    present = panel.present(window.train_start, cutoff + pd.Timedelta(seconds=1))
    present = present[_on_grid(present.index, ranker.train_every_candles * panel.timeframe_secs)]
    forward = panel.forward.reindex(index=present.index, columns=list(panel.pairs))
    forward = forward.where(present & forward.notna())
    forward = forward[forward.notna().sum(axis=1) >= 2]
    grades = relevance_grades(forward, ranker.round_trip_fee_ratio, ranker.relevance_grades)
    parts = [part for pair in panel.pairs if len(part := _pair_rows(panel, pair,
                                                                     grades[pair].dropna()))]
    if not parts:
        return TrainingRows(pd.DataFrame(columns=list(TRAINING_NAMES)), np.zeros(0, int),
                            np.zeros(0, int), pd.DatetimeIndex([], tz="UTC"))
    table = pd.concat(parts).sort_index(level=["date", "pair"])
    groups = table.groupby(level="date", sort=True).size().to_numpy()
    return TrainingRows(table[list(TRAINING_NAMES)], table["__grade"].to_numpy(int), groups,
                        table.index.get_level_values("date"))


def _pair_rows(panel: Panel, pair: str, grades: pd.Series) -> pd.DataFrame:
    rows = panel.features[pair].reindex(grades.index)
    rows.index = pd.MultiIndex.from_arrays([grades.index, [pair] * len(grades)],
                                           names=["date", "pair"])
    return rows.assign(__grade=grades.to_numpy())


def _on_grid(index: pd.DatetimeIndex, step_secs: int) -> np.ndarray:
    return index.as_unit("s").asi8 % step_secs == 0
