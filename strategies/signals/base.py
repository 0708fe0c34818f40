"""The one shape every signal shares: per candle a vote, a confidence and its own exit call.

A signal is one rule, computed vectorised over a pair's analysed dataframe. Per candle it says
which way it votes (``direction``: +1 long, -1 short, 0 none), how strongly (``confidence`` in
[0, 1]), whether a position it opened should close (``exit_long`` / ``exit_short``), and
whether it has its inputs at all (``available``: False abstains - no vote, and no weight in the
ensemble's denominator). A signal may also veto a side (``veto_long`` / ``veto_short``), e.g.
the crowded side of funding. Every value at a candle uses only that candle and earlier ones.
Its ``name`` is the tag that reaches freqtrade's ``enter_tag``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import numpy as np
import pandas as pd
from freqtrade.data.dataprovider import DataProvider


DESIGN_TIMEFRAME_SECS = 300  # the signals' windows and horizons are set in 5m candles


class Family(StrEnum):
    """What kind of edge a signal claims; the regime mutes a family where it has none."""

    TREND = "trend"
    REVERSION = "reversion"
    CARRY = "carry"
    VOLATILITY = "volatility"
    CROSS_SECTION = "cross_section"


@dataclass(frozen=True)
class SignalContext:
    """What a signal may read besides the dataframe: freqtrade's data provider and the pair."""

    dp: DataProvider | None
    pair: str
    timeframe: str


@dataclass(frozen=True)
class SignalFrame:
    direction: np.ndarray  # int8, +1 / -1 / 0
    confidence: np.ndarray  # float, in [0, 1]; 0 where direction is 0
    exit_long: np.ndarray  # bool
    exit_short: np.ndarray  # bool
    available: np.ndarray  # bool; False: the signal abstains at this candle
    veto_long: np.ndarray | None = None
    veto_short: np.ndarray | None = None

    def __post_init__(self) -> None:
        size = len(self.direction)
        for name in ("confidence", "exit_long", "exit_short", "available"):
            if len(getattr(self, name)) != size:
                raise ValueError(f"SignalFrame.{name} has {len(getattr(self, name))} rows, "
                                 f"direction has {size}")


class Signal(ABC):
    """One rule: per candle a vote (direction, confidence) and when its position ends."""

    name: ClassVar[str]
    family: ClassVar[Family]
    horizon_candles: ClassVar[int]  # a call is scored over this many 5m candles (the design
    # timeframe); ``horizon_at`` converts it to another timeframe

    @classmethod
    def horizon_at(cls, timeframe_secs: int) -> int:
        """The horizon in candles of ``timeframe_secs`` (at least one): the same time span."""
        return max(1, round(cls.horizon_candles * DESIGN_TIMEFRAME_SECS / timeframe_secs))

    def add_columns(self, dataframe: pd.DataFrame, context: SignalContext) -> pd.DataFrame:
        """Add the indicator columns this signal reads (shared columns are added once)."""
        return dataframe

    @abstractmethod
    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        """The signal at every candle of ``dataframe`` (no look-ahead)."""

    @abstractmethod
    def describe(self) -> str:
        """The rule in one line, with its configured numbers."""


# --- helpers the signals share ---------------------------------------------------------------


def ramp(values: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 at ``start``, 1 at ``full`` and beyond, linear between (NaN -> 0)."""
    scaled = (np.asarray(values, dtype=float) - start) / (full - start)
    return np.nan_to_num(np.clip(scaled, 0.0, 1.0), nan=0.0)


def state_frame(long: np.ndarray, short: np.ndarray, strength_long: np.ndarray,
                strength_short: np.ndarray, exit_long: np.ndarray, exit_short: np.ndarray,
                available: np.ndarray, **vetoes: np.ndarray) -> SignalFrame:
    """A frame from boolean long/short conditions; confidence = 0.5 + 0.5 x strength."""
    long = np.asarray(long, dtype=bool) & available
    short = np.asarray(short, dtype=bool) & available & ~long
    direction = long.astype(np.int8) - short.astype(np.int8)
    strength = np.where(long, strength_long, np.where(short, strength_short, 0.0))
    confidence = np.where(direction != 0, 0.5 + 0.5 * np.clip(strength, 0.0, 1.0), 0.0)
    return SignalFrame(direction, confidence, np.asarray(exit_long, dtype=bool),
                       np.asarray(exit_short, dtype=bool), np.asarray(available, dtype=bool),
                       **vetoes)


def held(events: np.ndarray, candles: int) -> np.ndarray:
    """Extend each event (True) over the next ``candles`` - 1 candles: a vote that lasts."""
    series = pd.Series(np.asarray(events, dtype=float))
    return series.rolling(candles, min_periods=1).max().to_numpy() > 0


def held_votes(long_events: np.ndarray, short_events: np.ndarray, candles: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """(long, short): each event's vote lasts ``candles`` candles unless a newer event (of
    either side) replaces it."""
    events = np.asarray(long_events, dtype=np.int8) - np.asarray(short_events, dtype=np.int8)
    rows = np.arange(len(events))
    last = np.maximum.accumulate(np.where(events != 0, rows, -1)) if len(events) else rows
    alive = (last >= 0) & (rows - last < candles)
    direction = np.where(alive, events[np.maximum(last, 0)], 0) if len(events) else events
    return direction > 0, direction < 0


def crossed_above(values: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """True where ``values`` moved from below ``level`` to at or above it."""
    before = np.roll(values, 1)
    before_level = np.roll(level, 1) if isinstance(level, np.ndarray) else level
    out = (values >= level) & (before < before_level)
    out[:1] = False
    return out


def crossed_below(values: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    before = np.roll(values, 1)
    before_level = np.roll(level, 1) if isinstance(level, np.ndarray) else level
    out = (values <= level) & (before > before_level)
    out[:1] = False
    return out


def column(dataframe: pd.DataFrame, name: str) -> np.ndarray:
    """A float column, or all-NaN if the dataframe does not have it."""
    if name not in dataframe:
        return np.full(len(dataframe), np.nan)
    return dataframe[name].to_numpy(dtype=float, na_value=np.nan)
