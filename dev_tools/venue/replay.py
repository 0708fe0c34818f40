"""Replaying recorded candles as if live: a clock that maps wall time to data time.

The venue serves the real candles of ``../shared/data`` with their timestamps shifted by a
whole number of hours, so that the bot sees "now" candles while prices, volumes and funding
are the recorded ones. The shift is a whole number of hours so that 5m, 1h and 8h funding
boundaries stay on their grids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ReplayClock:
    """``data_time = wall_time - offset``; ``offset`` is a whole number of hours."""

    anchor: datetime  # the data time the replay starts at (hour resolution)
    started: datetime  # the wall time the venue started

    @property
    def offset(self) -> timedelta:
        return floor_hour(self.started) - floor_hour(self.anchor)

    def to_data(self, wall: datetime) -> datetime:
        return wall - self.offset

    def to_wall(self, data: datetime) -> datetime:
        return data + self.offset


@dataclass(frozen=True)
class Instrument:
    """A venue symbol and where its recorded data lives."""

    symbol: str  # venue id, e.g. BTCUSDT
    base: str
    quote: str
    futures: bool

    def file_stem(self) -> str:
        return f"{self.base}_{self.quote}_{self.quote}" if self.futures else f"{self.base}_{self.quote}"

    def folder(self, datadir: Path) -> Path:
        return datadir / "futures" if self.futures else datadir


TIMEFRAME_RULES = {"1m": "1min", "3m": "3min", "5m": "5min", "15m": "15min", "30m": "30min",
                   "1h": "1h", "2h": "2h", "4h": "4h", "6h": "6h", "8h": "8h", "12h": "12h",
                   "1d": "1D"}


def timeframe_delta(timeframe: str) -> timedelta:
    return pd.Timedelta(TIMEFRAME_RULES[timeframe]).to_pytimedelta()


@dataclass
class CandleStore:
    """Loads the recorded frames lazily; resamples a missing timeframe from a finer one."""

    datadir: Path
    history_start: datetime | None = None  # data time before which no row exists
    _frames: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict)

    def frame(self, instrument: Instrument, timeframe: str, kind: str = "") -> pd.DataFrame:
        """``kind``: "" (trades candles), "mark" or "funding_rate" (futures only)."""
        key = (instrument.symbol + str(instrument.futures), timeframe, kind)
        if key not in self._frames:
            frame = self._load(instrument, timeframe, kind)
            if self.history_start is not None and len(frame):
                frame = frame[frame["date"] >= pd.Timestamp(self.history_start)]
            self._frames[key] = frame.reset_index(drop=True)
        return self._frames[key]

    def _load(self, instrument: Instrument, timeframe: str, kind: str) -> pd.DataFrame:
        suffix = kind or ("futures" if instrument.futures else "")
        for source_tf in _finer_or_equal(timeframe):
            name = f"{instrument.file_stem()}-{source_tf}" + (f"-{suffix}" if suffix else "")
            path = instrument.folder(self.datadir) / f"{name}.feather"
            if path.is_file():
                frame = _read(path)
                return frame if source_tf == timeframe else _resample(frame, timeframe)
        return pd.DataFrame(columns=["date", "open", "high", "low", "close", "volume"])

    def window(self, instrument: Instrument, timeframe: str, *, kind: str = "",
               start: datetime | None, end: datetime, limit: int) -> pd.DataFrame:
        """Rows with ``start <= date <= end`` (data time): the first ``limit`` after ``start``,
        or the last ``limit`` up to ``end`` when no start is given (Binance's semantics)."""
        frame = self.frame(instrument, timeframe, kind)
        dates = frame["date"]
        upto = frame[dates <= pd.Timestamp(end)]
        if start is not None:
            return upto[upto["date"] >= pd.Timestamp(start)].head(limit)
        return upto.tail(limit)

    def last_close(self, instrument: Instrument, at: datetime) -> float | None:
        frame = self.frame(instrument, "5m") if self._has(instrument, "5m") else \
            self.frame(instrument, "1h")
        rows = frame[frame["date"] <= pd.Timestamp(at)]
        return float(rows["close"].iloc[-1]) if len(rows) else None

    def _has(self, instrument: Instrument, timeframe: str) -> bool:
        return not self.frame(instrument, timeframe).empty


def _finer_or_equal(timeframe: str) -> list[str]:
    target = timeframe_delta(timeframe)
    candidates = [tf for tf in TIMEFRAME_RULES if timeframe_delta(tf) <= target
                  and target % timeframe_delta(tf) == timedelta(0)]
    return sorted(candidates, key=timeframe_delta, reverse=True)


@lru_cache(maxsize=256)
def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_feather(path)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame.sort_values("date").reset_index(drop=True)


def _resample(frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    agg = frame.resample(TIMEFRAME_RULES[timeframe], on="date", label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return agg.dropna(subset=["open"]).reset_index()


def to_ms(moment: datetime | pd.Timestamp) -> int:
    return int(pd.Timestamp(moment).timestamp() * 1000)


def from_ms(value: int | str | None) -> datetime | None:
    return None if value in (None, "") else datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def as_float_strings(values: np.ndarray) -> list[str]:
    return [np.format_float_positional(v, trim="-") for v in values]
