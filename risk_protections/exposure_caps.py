"""Exposure caps: per position, total deployed and per exchange, as ratios of equity (margin).

The proposed stake is cut to the tightest cap; the binding cap is the decision's reason. A
stake below the exchange's minimum is a denial (freqtrade would round it up, past the risk
budget). The result never exceeds any cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from centaur.decision import Decision, ReasonCode
from centaur.settings.risk import CapsSettings


@dataclass(frozen=True)
class OpenExposure:
    pair: str
    stake_usd: float
    exchange: str
    is_short: bool


def cap_stake(proposed_usd: float, *, equity_usd: float, available_usd: float, exchange: str,
              open_positions: list[OpenExposure], min_stake_usd: float,
              settings: CapsSettings) -> tuple[float, Decision]:
    deployed = sum(p.stake_usd for p in open_positions)
    on_exchange = sum(p.stake_usd for p in open_positions if p.exchange == exchange)
    exchange_ratio = settings.max_exchange_ratio.get(exchange, settings.max_total_ratio)
    limits = [
        (ReasonCode.CAP_POSITION, equity_usd * settings.max_position_ratio),
        (ReasonCode.CAP_TOTAL, equity_usd * settings.max_total_ratio - deployed),
        (ReasonCode.CAP_EXCHANGE, equity_usd * exchange_ratio - on_exchange),
        (ReasonCode.SIZE_ABOVE_BALANCE, available_usd),
    ]
    reason, limit = min(limits, key=lambda item: item[1])
    if proposed_usd <= limit:
        if proposed_usd < min_stake_usd:  # freqtrade would round it up past the risk budget
            return 0.0, Decision(False, ReasonCode.BELOW_MIN_STAKE,
                                 f"risk-based stake {proposed_usd:.2f} USD is below the "
                                 f"exchange minimum {min_stake_usd:.2f} USD")
        return proposed_usd, Decision.allow()
    stake = max(limit, 0.0)
    if stake < max(min_stake_usd, 1e-9):
        return 0.0, Decision(False, reason, f"cap leaves {stake:.2f} USD, below the minimum "
                                            f"stake {min_stake_usd:.2f} USD")
    return stake, Decision(True, reason, f"stake cut from {proposed_usd:.2f} to {stake:.2f} USD",
                           scale=stake / proposed_usd)
