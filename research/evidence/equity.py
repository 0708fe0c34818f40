"""Rule: the equity curve is the starting wallet plus the closed profit, day by day.

``daily_equity`` turns freqtrade's exported trades into one value per UTC calendar day:
``starting_balance + cumulative profit_abs`` of the trades closed up to the end of that day
(``profit_abs`` is after both fees and the funding charged while the trade was open). Days
without a close keep the previous value (flat days are samples too: a Sharpe that skips them
overstates itself). No compounding, no open-trade marking: a day's return is its closed profit
over the equity at the start of the day.

``buy_and_hold_equity`` is the benchmark over the same days: the wallet split equally over the
pairs at the first day's open, held to the end (daily closes from the candles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from research.evidence import stats


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def day_index(start: datetime | str, end: datetime | str) -> pd.DatetimeIndex:
    """The UTC calendar days of [start, end): a day is in when it starts before ``end``."""
    first, stop = _utc(start).normalize(), _utc(end)
    days = pd.date_range(first, stop, freq="1D", inclusive="left")
    return days if len(days) else pd.DatetimeIndex([first])


def daily_equity(trades: Iterable[Mapping[str, Any]], starting_balance: float,
                 start: datetime | str, end: datetime | str) -> pd.Series:
    """Equity at the end of each UTC day of [start, end), indexed by the day's 00:00.

    The curve starts with one extra point, the day before ``start``, at ``starting_balance``,
    so the first day's profit is a return too. A trade closing at ``end`` itself counts on the
    last day (freqtrade force-exits the trades still open at the end of the timerange, dated
    at its end); one closing after ``end`` is ignored (not in the window); one closing before
    ``start`` is counted in the opening balance."""
    days = day_index(start, end)
    closes = pd.Series(dtype=float)
    rows = [(_utc(t["close_date"]), float(t["profit_abs"])) for t in trades]
    opening = starting_balance
    if rows:
        frame = pd.DataFrame(rows, columns=["close", "profit"])
        frame["day"] = frame["close"].dt.normalize()
        at_end = frame["close"] == _utc(end)
        frame.loc[at_end, "day"] = frame.loc[at_end, "day"].clip(upper=days[-1])
        opening += float(frame.loc[frame["day"] < days[0], "profit"].sum())
        inside = frame[(frame["day"] >= days[0]) & (frame["day"] <= days[-1])]
        closes = inside.groupby("day")["profit"].sum()
    per_day = closes.reindex(days, fill_value=0.0)
    equity = opening + per_day.cumsum()
    before = pd.Series([opening], index=[days[0] - pd.Timedelta(days=1)])
    return pd.concat([before, equity]).rename("equity").astype(float)


def buy_and_hold_equity(closes: Mapping[str, pd.Series], starting_balance: float,
                        start: datetime | str, end: datetime | str) -> pd.Series:
    """Equal-weight buy and hold of the pairs over the days of [start, end).

    ``closes`` maps a pair to its candle closes indexed by UTC time. Each pair gets
    ``starting_balance / n`` at the last close before the first day (its open); the curve
    holds each pair's last close of every day. No fees, no funding, no rebalancing."""
    days = day_index(start, end)
    first = days[0]
    legs = []
    for pair, series in closes.items():
        series = series.sort_index()
        series.index = pd.DatetimeIndex(series.index).tz_convert("UTC") \
            if series.index.tz is not None else pd.DatetimeIndex(series.index).tz_localize("UTC")
        before = series[series.index < first]
        entry = float(before.iloc[-1]) if len(before) else float(series.iloc[0])
        daily = series.resample("1D").last().reindex(days).ffill()
        if daily.isna().all():
            raise ValueError(f"{pair}: no candle between {days[0]:%Y-%m-%d} and "
                             f"{days[-1]:%Y-%m-%d}")
        legs.append(daily.fillna(entry) / entry)
    held = pd.concat(legs, axis=1).mean(axis=1) * starting_balance
    opening = pd.Series([float(starting_balance)], index=[first - pd.Timedelta(days=1)])
    return pd.concat([opening, held]).rename("equity").astype(float)


def trade_costs(trades: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Fees paid (both legs, quote currency) and funding (freqtrade's sign: negative = paid)."""
    fees = funding = 0.0
    for t in trades:
        fees += float(t["amount"]) * (float(t["open_rate"]) * float(t["fee_open"] or 0)
                                      + float(t["close_rate"]) * float(t["fee_close"] or 0))
        funding += float(t.get("funding_fees") or 0.0)
    return {"fees_usd": fees, "funding_fees_usd": funding}


def curve_metrics(equity: pd.Series, seed: int = 7, trials: int = 1,
                  trials_variance: float | None = None) -> dict[str, Any]:
    """The harness's figures of one daily equity curve (``stats``): daily Sharpe with its
    stationary-bootstrap 95 % interval, deflated Sharpe after ``trials``, max drawdown, return.

    ``equity`` holds one point per day already (``daily_equity``, ``buy_and_hold_equity``, or
    several test windows joined): its returns are taken point to point, so the days between
    joined windows are not counted as flat days."""
    returns = equity.sort_index().pct_change().dropna().to_numpy()
    low, high = stats.bootstrap_interval(returns, seed=seed)
    deflated = stats.deflated_sharpe(returns, max(int(trials), 1), trials_variance)
    start, stop = float(equity.iloc[0]), float(equity.iloc[-1])
    return {"days": int(len(returns)),
            "sharpe": _round(stats.sharpe(returns), 4),
            "sharpe_ci95": [_round(low, 4), _round(high, 4)],
            "deflated_sharpe": deflated.as_dict(),
            "max_drawdown_ratio": _round(stats.max_drawdown(equity.to_numpy()), 4),
            "return_ratio": _round(stop / start - 1 if start else float("nan"), 4),
            "start_equity": _round(start, 2), "end_equity": _round(stop, 2)}


def _round(value: float, digits: int) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)
