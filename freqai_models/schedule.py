"""Rule: the pooled model that scores candle t is the one trained at the last grid boundary <= t.

Boundaries sit every ``period`` on a calendar grid anchored at the Unix epoch, not at the
start of a backtest, so the model behind a candle depends only on the candle's time: a
backtest that starts elsewhere, ``lookahead-analysis``'s truncated runs and
``recursive-analysis``'s short runs all use the same model for the same candle. In a FreqAI
backtest the period is ``backtest_period_days``; FreqAI windows that straddle a boundary use
two pooled models, each on its side.

A window's model trains on [boundary - train_period, boundary), labels only up to
``labels.label_cutoff`` (their outcome closed before the boundary), and scores
[boundary, boundary + period).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

EPOCH = pd.Timestamp(0, tz="UTC")


@dataclass(frozen=True)
class Window:
    boundary: pd.Timestamp
    period: pd.Timedelta
    train_period: pd.Timedelta

    @property
    def train_start(self) -> pd.Timestamp:
        return self.boundary - self.train_period

    @property
    def stop(self) -> pd.Timestamp:
        return self.boundary + self.period

    @property
    def key(self) -> int:
        """The boundary as Unix seconds: the window's name on disk."""
        return int((self.boundary - EPOCH) // pd.Timedelta(seconds=1))


def boundary_at(when: pd.Timestamp, period: pd.Timedelta) -> pd.Timestamp:
    return EPOCH + ((pd.Timestamp(when) - EPOCH) // period) * period


def boundaries(index: pd.DatetimeIndex, period: pd.Timedelta) -> pd.DatetimeIndex:
    """``boundary_at`` for every timestamp of ``index`` at once."""
    return EPOCH + ((index - EPOCH) // period) * period


def windows_between(start: pd.Timestamp, stop: pd.Timestamp, period: pd.Timedelta,
                    train_period: pd.Timedelta) -> list[Window]:
    """Every window whose scoring range meets [start, stop)."""
    first = boundary_at(start, period)
    count = max(1, -(-(pd.Timestamp(stop) - first) // period))
    return [Window(first + n * period, period, train_period) for n in range(count)]
