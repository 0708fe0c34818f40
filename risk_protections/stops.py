"""Stops and exits: hard stop, chandelier trailing stop, time exit, take-profit ladder.

Price levels are pure functions of the trade and the candle; the strategy shell converts a stop
price into freqtrade's ratio relative to the current rate (``stoploss_from_absolute``).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def hard_stop_price(open_rate: float, is_short: bool, hard_stop_ratio: float) -> float:
    return open_rate * (1 + hard_stop_ratio) if is_short else open_rate * (1 - hard_stop_ratio)


def chandelier_stop_price(extreme: float, atr: float, is_short: bool, multiplier: float,
                          regime_stop_multiplier: float) -> float:
    """Long: highest high of N candles - k x ATR; short: lowest low + k x ATR (k x regime)."""
    distance = multiplier * regime_stop_multiplier * atr
    return extreme + distance if is_short else extreme - distance


def tighter_stop(is_short: bool, *prices: float | None) -> float:
    candidates = [p for p in prices if p is not None and p > 0]
    return min(candidates) if is_short else max(candidates)


def time_exit_due(opened_at: datetime, now: datetime, profit_ratio: float, minutes: int) -> bool:
    """A trade that has not become profitable within ``minutes`` has lost its thesis."""
    return now - opened_at >= timedelta(minutes=minutes) and profit_ratio <= 0


def take_profit_due(price_move_ratio: float, already_taken: bool, threshold_ratio: float) -> bool:
    """The first rung: take part of the position once the price moved ``threshold`` in favour."""
    return not already_taken and price_move_ratio >= threshold_ratio
