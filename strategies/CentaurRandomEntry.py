"""CentaurRandomEntry: the flagship with its entry decision replaced by seeded random entries -
the control a walk-forward compares the flagship with (``research.evidence``).

Everything but *where* the entries are is the flagship's: the same analysis and parameters,
the same candle gates (drift), the same risk gates, sizer, leverage, stops, take-profits and
exits (voter exits read the entry tag, ensemble reversal, time and funding exits). Per pair,
the flagship's gated entry candles inside the backtest timerange are counted and their
(side, tag) pairs are moved, in a random order, to as many distinct random candles that the
candle gates leave open (volume > 0, inside the timerange). So the control makes the same
number of entry candles per pair, with the same side mix and voter tags, at random times.
Each moved entry keeps the confidence of the candle it came from (the sizer scales the stake
by it; the ensemble's score at a random candle is mostly near 0, which would size most random
entries to nothing and make the control trade far less than the flagship).

The draw is seeded from the config (``random_entry.seed``, default 0) and the pair name: the
same config and data give the same entries in every run.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from freqtrade.configuration import TimeRange

from centaur.strategy_base import StrategyMixin
from strategies.CentaurEnsemble import CentaurEnsemble

ENTRY_COLUMNS = ("enter_long", "enter_short")


def random_seed(config: dict, pair: str) -> int:
    """The pair's seed: ``random_entry.seed`` of the config mixed with the pair name."""
    base = int(config.get("random_entry", {}).get("seed", 0))
    return (base * 1_000_003 + zlib.crc32(pair.encode())) % 2 ** 32


def randomise_entries(dataframe: pd.DataFrame, open_candles: np.ndarray, seed: int
                      ) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Move the frame's entry candles (inside ``open_candles``) to random open candles.

    ``open_candles`` marks where an entry may be placed (and which entries are counted). The
    (side, tag) of each counted entry is kept and dealt to a random distinct open candle; every
    entry outside ``open_candles`` is dropped. Fewer open candles than entries: all are used."""
    rng = np.random.default_rng(seed)
    frame = dataframe
    for column in ENTRY_COLUMNS:
        if column not in frame:
            frame[column] = 0
    if "enter_tag" not in frame:
        frame["enter_tag"] = None
    long = (frame["enter_long"].fillna(0).to_numpy() == 1) & open_candles
    short = (frame["enter_short"].fillna(0).to_numpy() == 1) & open_candles & ~long
    tags = frame["enter_tag"].to_numpy(dtype=object)
    entries = [("enter_long", tags[i], i) for i in np.flatnonzero(long)] \
        + [("enter_short", tags[i], i) for i in np.flatnonzero(short)]
    frame["enter_long"] = 0
    frame["enter_short"] = 0
    frame["enter_tag"] = None
    candidates = np.flatnonzero(open_candles)
    count = min(len(entries), len(candidates))
    moves: list[tuple[int, int]] = []
    if count == 0:
        return frame, moves
    places = np.sort(rng.choice(candidates, size=count, replace=False))
    order = rng.permutation(len(entries))[:count]
    for row, pick in zip(places, order, strict=True):
        side, tag, origin = entries[pick]
        index = frame.index[row]
        frame.loc[index, side] = 1
        frame.loc[index, "enter_tag"] = tag
        moves.append((int(row), int(origin)))
    return frame, moves


class RandomEntryMixin(StrategyMixin):
    """Seeded random entry candles for any suite strategy on the pipeline shell (see the
    module docstring): ``class Control(RandomEntryMixin, Strategy)``. Based on
    ``StrategyMixin`` so hyperopt can pickle it."""

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        pair = metadata["pair"]
        if self.signals is not None:
            dataframe = self.signals.entries(dataframe, pair)  # the flagship's entries
        blocked = np.zeros(len(dataframe), dtype=bool)
        for gate in self.pipeline.candle_gates:
            blocked |= np.asarray(gate.blocked(dataframe), dtype=bool)
        open_candles = ~blocked & (dataframe["volume"].to_numpy() > 0) \
            & self._inside_timerange(dataframe)
        dataframe, moves = randomise_entries(dataframe, open_candles,
                                             random_seed(self.config, pair))
        self._remember_confidence(dataframe, pair, moves)
        if self.veto is not None:
            self._offer_to_veto(dataframe, pair)
        return dataframe

    def _remember_confidence(self, dataframe: pd.DataFrame, pair: str,
                             moves: list[tuple[int, int]]) -> None:
        rows = self.signals.rows(pair) if self.signals is not None else None
        confidence = self.__dict__.setdefault("_moved_confidence", {})
        for key in [k for k in confidence if k[0] == pair]:
            del confidence[key]
        if rows is None:
            return
        dates = pd.to_datetime(dataframe["date"], utc=True)
        for row, origin in moves:
            found = rows.confidence(dates.iloc[origin].value)
            if found is not None:
                side = "long" if dataframe["enter_long"].iloc[row] == 1 else "short"
                confidence[(pair, dates.iloc[row].to_pydatetime(), side)] = found

    def _proposal(self, pair: str, side: str, candle_time: datetime, tag: str | None,
                  close: float | None = None):
        """The flagship's proposal, with the moved entry's original confidence."""
        proposal = super()._proposal(pair, side, candle_time, tag, close)
        found = self.__dict__.get("_moved_confidence", {}).get((pair, candle_time, side))
        if found is not None and proposal.confidence != found:
            proposal = replace(proposal, confidence=float(found))
            self._proposals[(pair, candle_time, side)] = proposal
        return proposal

    def _inside_timerange(self, dataframe: pd.DataFrame) -> np.ndarray:
        timerange = self.config.get("timerange")
        if self.trading or not timerange:
            return np.ones(len(dataframe), dtype=bool)
        parsed = TimeRange.parse_timerange(timerange)
        dates = pd.to_datetime(dataframe["date"], utc=True)
        inside = np.ones(len(dataframe), dtype=bool)
        if parsed.startts:
            inside &= (dates >= pd.Timestamp(datetime.fromtimestamp(parsed.startts, UTC))
                       ).to_numpy()
        if parsed.stopts:
            inside &= (dates < pd.Timestamp(datetime.fromtimestamp(parsed.stopts, UTC))
                       ).to_numpy()
        return inside


class CentaurRandomEntry(RandomEntryMixin, CentaurEnsemble):
    """The flagship with seeded random entry candles: the walk-forward's control."""
