"""Kelly: the growth-optimal fraction of equity to risk, from win rate and payoff.

Shrinkage toward zero edge: with ``n`` realised trades of win rate ``p`` and payoff ``b``, the
win rate is shrunk toward the break-even rate ``p0 = 1 / (1 + b)`` (where Kelly is zero) with
the weight of ``n0`` prior trades:

    p' = (n p + n0 p0) / (n + n0)

Kelly is linear in ``p`` and zero at ``p0``, so ``f*(p') = n / (n + n0) x f*(p)``: the raw
Kelly scaled by the sample's share of the evidence. n = 0 gives zero edge, n = n0 half the raw
Kelly, n >> n0 the raw Kelly; the sign never changes (shrinkage cannot turn a losing record
into an edge, nor an edge into a loss). The payoff ``b`` is taken as measured.
"""

from __future__ import annotations


def kelly_fraction(win_rate: float, payoff_ratio: float) -> float:
    """f* = p - (1 - p) / b, with b = mean win / mean loss. Negative: no edge."""
    if payoff_ratio <= 0:
        return -1.0
    return win_rate - (1.0 - win_rate) / payoff_ratio


def shrunk_win_rate(win_rate: float, payoff_ratio: float, trades: int,
                    prior_trades: float) -> float:
    """p' = (n p + n0 p0) / (n + n0) with p0 = 1 / (1 + b), the break-even win rate."""
    total = trades + prior_trades
    break_even = 1.0 / (1.0 + payoff_ratio)
    if total <= 0:
        return break_even
    return (trades * win_rate + prior_trades * break_even) / total


def shrunk_kelly_fraction(win_rate: float, payoff_ratio: float, trades: int,
                          prior_trades: float) -> float:
    """Kelly of the shrunk win rate (see the module docstring); -1 without a positive payoff."""
    if payoff_ratio <= 0:
        return -1.0
    return kelly_fraction(shrunk_win_rate(win_rate, payoff_ratio, trades, prior_trades),
                          payoff_ratio)
