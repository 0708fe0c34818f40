"""Scoring calls: a signal's calls on a pair's candles, each with its outcome and the time the
outcome became known - vectorised, without look-ahead.

A *call* is a candle where a signal votes in a direction it has not voted in during the
``horizon_candles`` before (the candles that merely continue or repeat a vote within its
horizon are not new information). Its outcome is the directional return from that candle's
close to the close ``horizon_candles`` later, net of the round-trip cost, in integer parts
per million. Its *cluster* is the window of one horizon its call falls in (call time //
horizon): calls of any pair in the same cluster ride the same market move, and the tracker
counts them as one piece of evidence. It is *known* at the close of that later candle
(``known_at``), and the tracker may use it only from then on: a decision on a candle uses the
outcomes known at or before that candle's open (the previous candle's close), so live -
where each pair's newest candle is analysed one pair after another - and backtests see the
same outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategies.signal_tracker import PPM

FIELDS = ("known_at_ns", "call_at_ns", "signal", "outcome_ppm", "cluster")


@dataclass(frozen=True)
class Outcomes:
    """Scored calls of one pair, sorted by (known_at, signal, call_at)."""

    known_at_ns: np.ndarray  # int64: close time of the candle that ends the horizon
    call_at_ns: np.ndarray  # int64: open time of the calling candle
    signal: np.ndarray  # int16: index into the tracker's signal names
    outcome_ppm: np.ndarray  # int64: direction x return - cost, parts per million
    cluster: np.ndarray  # int64: call time // horizon (same market move, same cluster)

    def __len__(self) -> int:
        return len(self.known_at_ns)

    @classmethod
    def empty(cls) -> Outcomes:
        return cls(*(np.empty(0, dtype=t) for t in
                     (np.int64, np.int64, np.int16, np.int64, np.int64)))

    def where(self, mask: np.ndarray) -> Outcomes:
        return Outcomes(*(getattr(self, f)[mask] for f in FIELDS))

    @classmethod
    def concat(cls, parts: list[Outcomes]) -> Outcomes:
        """The parts joined, sorted by (known_at, signal, call_at)."""
        if not parts:
            return cls.empty()
        joined = cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))
        order = np.lexsort((joined.call_at_ns, joined.signal, joined.known_at_ns))
        return joined.where(order)


def call_rows(direction: np.ndarray, quiet_candles: int = 1) -> np.ndarray:
    """Indices of the candles where the signal votes in a direction it has not voted in
    during the ``quiet_candles`` before (1: the direction turns non-zero or flips)."""
    calls = np.zeros(len(direction), dtype=bool)
    for side in (1, -1):
        voting = pd.Series((direction == side).astype(np.int8))
        recent = voting.shift(1, fill_value=0).rolling(quiet_candles, min_periods=1).max()
        calls |= voting.to_numpy(dtype=bool) & (recent.to_numpy() == 0)
    return np.flatnonzero(calls)


def score_calls(dates_ns: np.ndarray, close: np.ndarray, direction: np.ndarray,
                horizon_candles: int, timeframe_secs: int, cost_ratio: float,
                signal_index: int) -> Outcomes:
    """The calls of one signal whose horizon has passed within the candles given."""
    step_ns = timeframe_secs * 1_000_000_000
    rows = call_rows(direction, horizon_candles)
    end_ns = dates_ns[rows] + horizon_candles * step_ns
    ends = np.searchsorted(dates_ns, end_ns)
    inside = ends < len(dates_ns)
    rows, ends = rows[inside], ends[inside]
    exact = dates_ns[ends] == end_ns[inside]  # a gap in the candles: no outcome
    rows, ends = rows[exact], ends[exact]
    moved = close[ends] / close[rows] - 1.0
    outcome = np.rint((direction[rows] * moved - cost_ratio) * PPM)
    valid = np.isfinite(outcome)
    rows, ends = rows[valid], ends[valid]
    return Outcomes(dates_ns[ends] + step_ns, dates_ns[rows],
                    np.full(len(rows), signal_index, dtype=np.int16),
                    outcome[valid].astype(np.int64),
                    dates_ns[rows] // (horizon_candles * step_ns))


def dates_ns(dataframe: pd.DataFrame) -> np.ndarray:
    """The candle open times as int64 nanoseconds since the epoch (UTC)."""
    return pd.DatetimeIndex(dataframe["date"]).as_unit("ns").asi8
