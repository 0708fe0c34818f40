"""Loss streak: after N consecutive losing trades, REDUCING (smaller size).

The pause at the longer streak is the freqtrade protection ``LossStreakGuard``.
"""

from __future__ import annotations

from centaur.decision import Decision, ReasonCode
from centaur.trade_stats import consecutive_losses

__all__ = ["consecutive_losses", "loss_streak_scale"]


def loss_streak_scale(losses: int, reduce_after: int, reduce_factor: float) -> Decision:
    if losses >= reduce_after:
        return Decision(True, ReasonCode.LOSS_STREAK_REDUCE,
                        f"{losses} consecutive losses: size x {reduce_factor}",
                        scale=reduce_factor)
    return Decision.allow()
