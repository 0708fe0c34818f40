"""Kelly: the growth-optimal fraction of equity to risk, from win rate and payoff."""

from __future__ import annotations


def kelly_fraction(win_rate: float, payoff_ratio: float) -> float:
    """f* = p - (1 - p) / b, with b = mean win / mean loss. Negative: no edge."""
    if payoff_ratio <= 0:
        return -1.0
    return win_rate - (1.0 - win_rate) / payoff_ratio
