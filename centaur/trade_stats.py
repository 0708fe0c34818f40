"""Statistics of closed trades: the one place each is computed (loss streak, drawdown, win
rate and payoff). The risk rules, the loss-streak protection and the LLM circuit breaker all
read these; none counts on its own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def consecutive_losses(profits_oldest_first: Sequence[float]) -> int:
    """Losing trades in a row at the end of the sequence (a break-even trade ends a streak)."""
    count = 0
    for profit in reversed(profits_oldest_first):
        if profit >= 0:
            break
        count += 1
    return count


def drawdown_ratio(peak_equity_usd: float, equity_usd: float) -> float:
    """(peak - equity) / peak, floored at 0; 0 without a positive peak."""
    return max(0.0, 1.0 - equity_usd / peak_equity_usd) if peak_equity_usd > 0 else 0.0


def closed_drawdown_ratio(profits_usd_oldest_first: Iterable[float],
                          starting_balance_usd: float) -> float:
    """The current drawdown of the equity curve that closed trades draw from the start."""
    equity = peak = starting_balance_usd
    for profit in profits_usd_oldest_first:
        equity += profit
        peak = max(peak, equity)
    return drawdown_ratio(peak, equity)


def win_rate_payoff(profits: Sequence[float], minimum: int
                    ) -> tuple[float | None, float | None]:
    """Win rate and payoff (mean win / mean loss) of the profits; (None, None) below
    ``minimum`` trades; all wins (1.0, 10.0), all losses (0.0, 0.0)."""
    if len(profits) < minimum:
        return None, None
    wins = [p for p in profits if p > 0]
    losses = [-p for p in profits if p < 0]
    if not wins or not losses:
        return (1.0, 10.0) if wins else (0.0, 0.0)
    return len(wins) / len(profits), float(np.mean(wins) / np.mean(losses))


def r_multiple(profit_usd: float, max_stake_usd: float, leverage: float,
               stop_ratio: float) -> float | None:
    """Profit in R: 1 R is the loss at the initial stop, the largest stake the trade held x its
    leverage x the stop's price distance (``stop_ratio``); None without a positive risk."""
    risk_usd = max_stake_usd * (leverage or 1.0) * stop_ratio
    return profit_usd / risk_usd if risk_usd > 0 else None
