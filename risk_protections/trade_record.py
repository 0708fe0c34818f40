"""The realised record of an entry tag: its closed trades' outcomes in R, as of the decision.

Kelly sizes from what the trades of the same ``enter_tag`` made - the voter set, e.g.
``basis+ema_adx`` - not from the ensemble tracker's horizon calls. The tag is matched exactly:
a voter set's trades are not pooled with those of the single signals it contains (a
combination is its own bet; the exact key keeps the rule simple and each trade counted once).
Entries without a tag are measured on the untagged trades.

Rules of the record (``tag_record``, pure):

- no look-ahead: only trades closed at or before the decision time count;
- ``lookback``: only trades closed within it count (None: all). A tag denied for having no
  edge takes no new trades, so without a lookback its record - and the denial - would never
  change; with it, old trades age out, the tag falls below the minimum and trades again at
  the default fraction;
- profit in R (``centaur.trade_stats.r_multiple``): profit / (largest stake x leverage x the
  hard stop's distance), as ``research.attribution`` measures it. The initial stop is not
  stored on the trade; the chandelier can only tighten it, so this is the hard stop's R.

``TradeRecord`` is the I/O shell: freqtrade's closed trades (the backtest's list or the
database, ``Trade.get_trades_proxy(is_open=False)``), read at each decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from freqtrade.persistence import Trade

from centaur.trade_stats import r_multiple, win_rate_payoff


@dataclass(frozen=True)
class ClosedTrade:
    close_time: datetime
    tag: str | None
    profit_r: float


@dataclass(frozen=True)
class TagRecord:
    """Outcomes of a tag's closed trades in R; win rate and payoff None without trades."""

    tag: str | None
    trades: int
    win_rate: float | None
    payoff_ratio: float | None  # mean win / mean loss, in R


def tag_record(trades: Iterable[ClosedTrade], tag: str | None, now: datetime,
               lookback: timedelta | None = None) -> TagRecord:
    """The record of ``tag`` from the trades closed in ``(now - lookback, now]``."""
    since = now - lookback if lookback is not None else None
    profits = [t.profit_r for t in trades
               if t.tag == tag and t.close_time <= now and (since is None or t.close_time > since)]
    win_rate, payoff = win_rate_payoff(profits, minimum=1)
    return TagRecord(tag, len(profits), win_rate, payoff)


def closed_trade(trade: Any, stop_ratio: float) -> ClosedTrade | None:
    """A freqtrade trade as a ``ClosedTrade``; None while open or without a stake."""
    close = trade.close_date
    if close is None:
        return None
    profit_r = r_multiple(float(trade.close_profit_abs or 0.0),
                          float(trade.max_stake_amount or trade.stake_amount or 0.0),
                          float(trade.leverage or 1.0), stop_ratio)
    if profit_r is None:
        return None
    return ClosedTrade(close if close.tzinfo else close.replace(tzinfo=UTC),
                       trade.enter_tag or None, profit_r)


def _freqtrade_closed() -> list[Any]:
    return Trade.get_trades_proxy(is_open=False)


class TradeRecord:
    """Each tag's realised record from freqtrade's closed trades, as of a decision's time."""

    def __init__(self, stop_ratio: float, lookback: timedelta | None,
                 closed: Callable[[], Iterable[Any]] = _freqtrade_closed):
        self._stop_ratio = stop_ratio
        self._lookback = lookback
        self._closed = closed

    def of_tag(self, tag: str | None, now: datetime) -> TagRecord:
        tag = tag or None
        same_tag = (closed_trade(t, self._stop_ratio) for t in self._closed()
                    if (t.enter_tag or None) == tag)
        return tag_record((t for t in same_tag if t is not None), tag, now, self._lookback)
