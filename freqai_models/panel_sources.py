"""Rule: a panel is built from the same candles freqtrade would use, from a start fixed by the
calendar, so a candle's features never depend on where a run begins.

``DatadirPanels`` (backtests, report, benchmark): the universe read from the datadir through
freqtrade's loader. A window's panel starts at the ``PANEL_ANCHOR`` calendar boundary at or
before its training start minus ``WARMUP_CANDLES`` and reaches ``reach`` past that boundary
(capped at the run's end): every window is therefore computed from the same history in a full
backtest, in ``lookahead-analysis``'s truncated runs and in ``recursive-analysis``'s short runs
(recursive indicators such as ATR(288) keep a trace of where they started for thousands of
candles; a calendar start removes it). Windows sharing an anchor share one panel.

``FramePanels`` (dry-run/live): the universe from frames handed in by the caller (FreqAI's
in-memory history and the data provider), rebuilt when a newer candle arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from centaur.settings.models import ModelsSettings
from freqai_models.candle_source import DatadirSource
from freqai_models.feature_catalogue import WARMUP_CANDLES
from freqai_models.pair_features import PairInputs
from freqai_models.panel import Panel, build_panel
from freqai_models.schedule import boundary_at

logger = logging.getLogger(__name__)


PANEL_ANCHOR = pd.Timedelta(days=56)


class DatadirPanels:
    def __init__(self, source: DatadirSource, universe: tuple[str, ...],
                 settings: ModelsSettings, reach: pd.Timedelta,
                 stop_limit: pd.Timestamp | None = None, anchor: pd.Timedelta = PANEL_ANCHOR):
        self.source = source
        self.universe = universe
        self.settings = settings
        self.anchor = anchor
        self.warmup = pd.Timedelta(seconds=WARMUP_CANDLES * source.timeframe_secs)
        self.reach = anchor + self.warmup + reach  # reach: train period + window period
        self.stop_limit = stop_limit
        self._panels: dict[pd.Timestamp, Panel] = {}

    def __call__(self, start: pd.Timestamp, stop: pd.Timestamp) -> Panel:
        """The panel for a window training from ``start`` and scored until ``stop``."""
        anchor = boundary_at(start - self.warmup, self.anchor)
        end = anchor + self.reach
        if self.stop_limit is not None:
            end = min(end, self.stop_limit)
        if stop > end:
            raise ValueError(f"panel from {anchor} reaches {end}, asked for {stop}: the "
                             "window is longer than the panel reach")
        if anchor not in self._panels:
            self._panels = {anchor: build_panel(self._inputs(anchor, end), self.settings,
                                                self.source.timeframe_secs)}
        return self._panels[anchor]

    def _inputs(self, start: pd.Timestamp, stop: pd.Timestamp) -> dict[str, PairInputs]:
        inputs = {}
        for pair in self.universe:
            available = self.source.available(pair)
            if available is None or available[0] >= stop or available[1] < start:
                logger.info("ranker universe: %s has no candles in [%s, %s); left out",
                            pair, start, stop)
                continue
            inputs[pair] = self.source.inputs(pair, start, stop)
        if not inputs:
            raise ValueError(f"no universe pair has candles between {start} and {stop}. "
                             "Fix: check datadir and the ranker universe.")
        return inputs


class FramePanels:
    """``frames()`` returns the current PairInputs of every universe pair."""

    def __init__(self, frames: Callable[[], dict[str, PairInputs]], settings: ModelsSettings,
                 timeframe_secs: int):
        self.frames = frames
        self.settings = settings
        self.timeframe_secs = timeframe_secs
        self._key: tuple | None = None
        self._panel: Panel | None = None

    def __call__(self, start: pd.Timestamp, stop: pd.Timestamp) -> Panel:
        warm_start = start - pd.Timedelta(seconds=WARMUP_CANDLES * self.timeframe_secs)
        inputs = {pair: _between(item, warm_start, stop) for pair, item in self.frames().items()}
        inputs = {pair: item for pair, item in inputs.items() if not item.candles.empty}
        key = tuple((pair, item.candles["date"].iloc[0], item.candles["date"].iloc[-1])
                    for pair, item in inputs.items())
        if key != self._key:
            self._panel = build_panel(inputs, self.settings, self.timeframe_secs)
            self._key = key
        return self._panel


def _between(item: PairInputs, start: pd.Timestamp, stop: pd.Timestamp) -> PairInputs:
    dates = pd.to_datetime(item.candles["date"], utc=True)
    candles = item.candles.loc[(dates >= start) & (dates < stop)].reset_index(drop=True)
    return PairInputs(item.pair, candles, item.funding, item.spot)
