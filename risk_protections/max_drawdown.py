"""Max drawdown from peak equity: beyond the limit, halt until the operator resumes."""

from __future__ import annotations

from centaur.decision import Decision, ReasonCode
from centaur.trade_stats import drawdown_ratio

__all__ = ["drawdown_ratio", "max_drawdown_decision"]


def max_drawdown_decision(peak_equity_usd: float, equity_usd: float, limit_ratio: float
                          ) -> Decision:
    drawdown = drawdown_ratio(peak_equity_usd, equity_usd)
    if drawdown >= limit_ratio:
        return Decision(False, ReasonCode.MAX_DRAWDOWN,
                        f"drawdown {drawdown:.2%} from peak {peak_equity_usd:.2f} USD >= "
                        f"{limit_ratio:.2%}; halted until the operator resumes")
    return Decision.allow()
