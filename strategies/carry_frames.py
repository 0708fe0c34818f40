"""Per pair, the carry rule's columns and the spot prices of the last analysis, read by time.

The strategy analyses each pair once per candle (all candles at once in a backtest); the exit
rule, the sizer, the hedge gate and the combined equity then read one candle by time. Lookups
are by the candle's open time (``at``) or by "the last candle closed at ``now``"
(``closed_at``) - the same candle live and in backtests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from strategies.carry_rule import COLUMNS


@dataclass(frozen=True)
class _PairFrame:
    dates_ns: np.ndarray  # candle open times, int64 ns, increasing
    columns: dict[str, np.ndarray]


class CarryFrames:
    """The carry columns (``strategies.carry_rule.COLUMNS``), ``close``, ``spot_open`` and
    ``spot_close`` per pair."""

    FIELDS = (*COLUMNS, "close", "spot_open", "spot_close")

    def __init__(self, step: timedelta):
        self.step = step
        self._frames: dict[str, _PairFrame] = {}

    def update(self, pair: str, dataframe: pd.DataFrame) -> None:
        dates = pd.to_datetime(dataframe["date"], utc=True).to_numpy(dtype="datetime64[ns]")
        self._frames[pair] = _PairFrame(
            dates.astype("int64"),
            {name: dataframe[name].to_numpy(dtype="float64") for name in self.FIELDS})

    def at(self, pair: str, candle_time: datetime) -> dict[str, float] | None:
        """The candle that opened at ``candle_time`` (None: not analysed)."""
        frame = self._frames.get(pair)
        if frame is None:
            return None
        stamp = pd.Timestamp(candle_time).value
        index = int(np.searchsorted(frame.dates_ns, stamp))
        if index >= len(frame.dates_ns) or frame.dates_ns[index] != stamp:
            return None
        return {name: float(values[index]) for name, values in frame.columns.items()}

    def closed_at(self, pair: str, now: datetime) -> dict[str, float] | None:
        """The last candle closed at ``now``."""
        return self.at(pair, self.open_of(now) - self.step)

    def open_of(self, now: datetime) -> datetime:
        """The open time of the candle in progress at ``now``."""
        step_ns = int(self.step.total_seconds()) * 10**9
        stamp = pd.Timestamp(now).value
        return pd.Timestamp(stamp - stamp % step_ns, tz="UTC").to_pydatetime()

    def spot_fill_price(self, pair: str, now: datetime) -> float | None:
        """The spot price a market order at ``now`` meets in a backtest: the open of the
        spot candle in progress (freqtrade fills the perp at that candle's open)."""
        row = self.at(pair, self.open_of(now))
        price = row["spot_open"] if row else None
        return price if price is not None and np.isfinite(price) and price > 0 else None

    def spot_mark(self, pair: str, now: datetime) -> float | None:
        """The last closed spot price at ``now``."""
        row = self.closed_at(pair, now)
        price = row["spot_close"] if row else None
        return price if price is not None and np.isfinite(price) and price > 0 else None
