"""Loss streak: after N consecutive losing trades, REDUCING (smaller size).

The pause at the longer streak is the freqtrade protection ``LossStreakGuard``.
"""

from __future__ import annotations

from collections.abc import Sequence

from centaur.decision import Decision, ReasonCode


def consecutive_losses(profits_oldest_first: Sequence[float]) -> int:
    count = 0
    for profit in reversed(profits_oldest_first):
        if profit >= 0:
            break
        count += 1
    return count


def loss_streak_scale(losses: int, reduce_after: int, reduce_factor: float) -> Decision:
    if losses >= reduce_after:
        return Decision(True, ReasonCode.LOSS_STREAK_REDUCE,
                        f"{losses} consecutive losses: size x {reduce_factor}",
                        scale=reduce_factor)
    return Decision.allow()
