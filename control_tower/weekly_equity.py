"""Rule: the week's equity curve is the opening equity plus the closed profit, day by day.

The runtime twin of ``research.evidence.equity`` (runtime code never imports research): equity
at the end of each UTC day of the window is ``opening + cumulative close_profit_abs`` of the
trades closed up to that day, flat days included; the opening is the starting balance plus every
profit closed before the window. One extra point the day before the window holds the opening,
so the first day's profit is a return too. Daily Sharpe: mean over standard deviation (ddof 1)
of those daily returns, annualised with 365 days, 0 when flat or under two days. Max drawdown:
the largest fall from a running peak, as a ratio of that peak. No open-trade marking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365


def _utc(value: datetime | str | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def day_index(start: datetime, end: datetime) -> pd.DatetimeIndex:
    """The UTC days of [start, end): a day is in when it starts before ``end``."""
    first = _utc(start).normalize()
    days = pd.date_range(first, _utc(end), freq="1D", inclusive="left")
    return days if len(days) else pd.DatetimeIndex([first])


def daily_equity(closes: Iterable[tuple[datetime, float]], starting_balance_usd: float,
                 start: datetime, end: datetime) -> pd.Series:
    """Equity at the end of each UTC day of [start, end) from (close time, profit) pairs;
    closes before ``start`` are in the opening, closes at or after ``end`` are left out."""
    days = day_index(start, end)
    opening = float(starting_balance_usd)
    per_day = pd.Series(0.0, index=days)
    for when, profit in closes:
        stamp = _utc(when)
        if stamp < _utc(start):
            opening += float(profit)
        elif stamp < _utc(end):
            per_day[stamp.normalize()] += float(profit)
    equity = opening + per_day.cumsum()
    before = pd.Series([opening], index=[days[0] - pd.Timedelta(days=1)])
    return pd.concat([before, equity]).rename("equity_usd").astype(float)


def daily_sharpe(equity: pd.Series) -> float:
    """Annualised Sharpe ratio of the curve's point-to-point returns (0 risk-free rate)."""
    returns = equity.sort_index().pct_change().dropna().to_numpy()
    if len(returns) < 2:
        return 0.0
    sd = float(returns.std(ddof=1))
    return float(returns.mean()) / sd * math.sqrt(DAYS_PER_YEAR) if sd > 0 else 0.0


def drawdown_ratio_series(equity: pd.Series) -> pd.Series:
    """(peak - equity) / peak at each point, 0 where the running peak is not positive."""
    peak = equity.cummax()
    return ((peak - equity) / peak.where(peak > 0)).fillna(0.0).rename("drawdown_ratio")


def max_drawdown_ratio(equity: pd.Series) -> float:
    return float(drawdown_ratio_series(equity).max()) if len(equity) else 0.0


def round_or_none(value: float | None, digits: int) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)
