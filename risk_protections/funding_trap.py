"""Funding trap: funding is part of every entry's expected value; a bleeding position exits.

At entry, the funding the side pays over the expected holding time, in R (the loss at the
stop), is subtracted from the signal's expected value per trade in R,
``p x b - (1 - p)``; a non-positive result denies the entry. Without signal statistics the
entry is denied when the funding cost alone exceeds ``max_funding_cost_r``. An open position
that has paid more than ``bleed_max_funding_ratio`` of its stake in funding after
``bleed_after_hours`` without a profit (before funding) is exited.
"""

from __future__ import annotations

from centaur.decision import Decision, ReasonCode
from centaur.settings.risk import FundingSettings
from centaur.signal_stats import SignalStats


def funding_cost_ratio(funding_rate: float, is_short: bool, settlements: float) -> float:
    """Funding the side pays per unit of notional (negative: it receives)."""
    return (-funding_rate if is_short else funding_rate) * settlements


def entry_funding_decision(funding_rate: float | None, is_short: bool, stop_distance_ratio: float,
                           stats: SignalStats | None, min_samples: int,
                           settings: FundingSettings) -> Decision:
    if funding_rate is None or stop_distance_ratio <= 0:
        return Decision.allow()
    settlements = settings.expected_holding_hours / settings.settlement_interval_hours
    cost_r = funding_cost_ratio(funding_rate, is_short, settlements) / stop_distance_ratio
    if stats is not None and stats.samples >= min_samples:
        ev_r = stats.win_rate * stats.payoff_ratio - (1.0 - stats.win_rate) - cost_r
        if ev_r <= 0:
            return Decision(False, ReasonCode.FUNDING_EV_NEGATIVE,
                            f"expected value {ev_r:.3f} R after {cost_r:.3f} R of funding")
        return Decision.allow()
    if cost_r > settings.max_funding_cost_r:
        return Decision(False, ReasonCode.FUNDING_EV_NEGATIVE,
                        f"expected funding {cost_r:.3f} R > {settings.max_funding_cost_r} R")
    return Decision.allow()


def bleeding_decision(hours_open: float, funding_paid_ratio: float,
                      profit_before_funding_ratio: float, settings: FundingSettings) -> Decision:
    """``funding_paid_ratio``: funding paid so far / stake (positive when paying)."""
    if (hours_open >= settings.bleed_after_hours
            and funding_paid_ratio > settings.bleed_max_funding_ratio
            and profit_before_funding_ratio <= settings.bleed_min_profit_ratio):
        return Decision(False, ReasonCode.FUNDING_TRAP,
                        f"paid {funding_paid_ratio:.2%} of stake in funding over "
                        f"{hours_open:.0f} h without progress")
    return Decision.allow()
