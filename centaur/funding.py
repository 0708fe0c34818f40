"""Funding settlements in futures backtests: charged at their real times, never dropped silently.

The shared funding files hold one row per settlement, 8 h apart (4 h or 1 h on some pairs
after Binance changed their interval), under freqtrade's ``1h`` funding timeframe. Freqtrade
2026.9 charges funding by joining funding rows to the 1h mark-price candles on the timestamp
(``Exchange.combine_funding_and_mark``), so each settlement is charged once, at its time, as
long as it lands on a mark candle. Forward-filling the rows to 1h would charge every rate 8
times; leaving a settlement off the hour grid would drop it without a word.

The suite keeps the rows as they are and checks the join: a settlement inside the mark
candles' span that found no mark candle is an error naming the pair, the time and the fix (the
pair is read from the frames' ``attrs``, set by the data hook on frames loaded from disk). So
is a pair with funding rows but no mark candles at all: freqtrade's inner join would charge
none of its settlements. A pair without funding rows is the strategy's start-up check
(``centaur.market_data.check_funding_present``, which names every such pair).
"""

from __future__ import annotations

import pandas as pd

from centaur.data_checks import PAIR_ATTR
from centaur.decision import ReasonCode
from centaur.settings import CentaurConfigError


def dropped_settlements(funding_rates: pd.DataFrame, mark_rates: pd.DataFrame) -> pd.Series:
    """Settlement times within the mark candles' span that match no mark candle."""
    if funding_rates.empty or mark_rates.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    mark_dates = pd.DatetimeIndex(mark_rates["date"])
    settled = funding_rates["date"]
    inside = (settled >= mark_dates.min()) & (settled <= mark_dates.max())
    return settled[inside & ~settled.isin(mark_dates)]


def misaligned_message(dropped: pd.Series, pair: str | None) -> str:
    """The error for settlements off the mark grid: the pair, the range, the first few."""
    first = ", ".join(f"{d:%Y-%m-%d %H:%M:%S}" for d in dropped.iloc[:3])
    if len(dropped) == 1:
        what = f"1 funding settlement at {first} falls"
    else:
        what = (f"{len(dropped)} funding settlements from {dropped.min():%Y-%m-%d %H:%M:%S} to "
                f"{dropped.max():%Y-%m-%d %H:%M:%S} (first: {first}) fall")
    who = f"{pair}: " if pair else ""
    return (
        f"[{ReasonCode.DATA_INVALID}] {who}{what} between mark-price candles and would not be "
        "charged. Fix: re-download the funding and mark data (freqtrade download-data --erase "
        f"--candle-types funding_rate mark{' --pairs ' + pair if pair else ''}) so that "
        "settlements land on the 1h mark candles."
    )


def missing_mark_message(funding_rates: pd.DataFrame, pair: str | None) -> str:
    """The error for funding rows without any mark candle to charge them at."""
    who = pair or "a futures pair"
    return (
        f"[{ReasonCode.DATA_GAP}] {who}: {len(funding_rates)} funding settlements but no mark "
        "price candles (data kind 'mark'): freqtrade charges funding at the mark price, so "
        "none of them would be charged. Fix: freqtrade download-data --trading-mode futures "
        f"--candle-types mark{' --pairs ' + pair if pair else ''}."
    )


def _pair_of(*frames: pd.DataFrame) -> str | None:
    """The pair a frame loaded from disk carries (set by the suite's data hook), if any."""
    return next((f.attrs[PAIR_ATTR] for f in frames if f.attrs.get(PAIR_ATTR)), None)


class FundingAlignmentMixin:
    """Exchange mixin: fails loudly when a funding settlement would not be charged."""

    @staticmethod
    def combine_funding_and_mark(funding_rates, mark_rates, futures_funding_rate=None):
        from freqtrade.exchange import Exchange

        if futures_funding_rate is None and not funding_rates.empty and mark_rates.empty:
            raise CentaurConfigError(missing_mark_message(
                funding_rates, _pair_of(funding_rates, mark_rates)))
        dropped = dropped_settlements(funding_rates, mark_rates)
        if len(dropped):
            pair = _pair_of(funding_rates, mark_rates)
            raise CentaurConfigError(misaligned_message(dropped, pair))
        return Exchange.combine_funding_and_mark(funding_rates, mark_rates, futures_funding_rate)
