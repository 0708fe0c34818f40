"""The one decision type every layer reports with: a verdict, a reason code and the detail.

Risk rules, the drift gate, the LLM veto and the router's sanity gates all answer with a
``Decision``; the reason code is what logs, locks, Telegram and reports show, so an operator
can count and filter denials without parsing prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReasonCode(StrEnum):
    """Stable, greppable codes. Add codes here; never reuse one for a different meaning."""

    OK = "OK"
    # risk layer: breakers and kill switches
    LOSS_STREAK = "LOSS_STREAK"
    LOSS_STREAK_REDUCE = "LOSS_STREAK_REDUCE"
    DAILY_DRAWDOWN = "DAILY_DRAWDOWN"
    DAILY_DRAWDOWN_WARNING = "DAILY_DRAWDOWN_WARNING"
    MAX_DRAWDOWN = "MAX_DRAWDOWN"
    EXCHANGE_ERROR_RATE = "EXCHANGE_ERROR_RATE"
    KILL_SWITCH = "KILL_SWITCH"
    OPERATOR_RESUME = "OPERATOR_RESUME"
    # suite state: the risk state store and freqtrade's locks as one truth
    STATE_LOST = "STATE_LOST"  # the state file is missing or empty while freqtrade has history
    STATE_CORRUPT = "STATE_CORRUPT"  # unreadable, schema-invalid or disagreeing with the locks
    STATE_RESET = "STATE_RESET"  # the operator started a fresh state
    LOCK_REASSERTED = "LOCK_REASSERTED"  # a halt's lock removed outside the suite came back
    TRADING_STATE_REDUCING = "TRADING_STATE_REDUCING"
    TRADING_STATE_HALTED = "TRADING_STATE_HALTED"
    # risk layer: sizing caps and sanity gates
    CAP_POSITION = "CAP_POSITION"
    CAP_TOTAL = "CAP_TOTAL"
    CAP_EXCHANGE = "CAP_EXCHANGE"
    CORRELATED_POSITION = "CORRELATED_POSITION"
    SPREAD_TOO_WIDE = "SPREAD_TOO_WIDE"
    BOOK_TOO_THIN = "BOOK_TOO_THIN"
    IMPLAUSIBLE_PREDICTION = "IMPLAUSIBLE_PREDICTION"
    SIZE_ABOVE_BALANCE = "SIZE_ABOVE_BALANCE"
    STOP_DISTANCE_INVALID = "STOP_DISTANCE_INVALID"
    NO_EDGE = "NO_EDGE"
    BELOW_MIN_STAKE = "BELOW_MIN_STAKE"
    ASSET_DISABLED = "ASSET_DISABLED"
    SHORTS_DISABLED = "SHORTS_DISABLED"
    BELOW_CONVICTION = "BELOW_CONVICTION"
    RISK_CHECK_FAILED = "RISK_CHECK_FAILED"
    FUNDING_EV_NEGATIVE = "FUNDING_EV_NEGATIVE"
    FUNDING_TRAP = "FUNDING_TRAP"
    # risk layer: exits
    HARD_STOP = "HARD_STOP"
    CHANDELIER_STOP = "CHANDELIER_STOP"
    TIME_EXIT = "TIME_EXIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    ENSEMBLE_REVERSAL = "ENSEMBLE_REVERSAL"  # the ensemble's score crossed to the other side
    VOTER_EXIT = "VOTER_EXIT"  # the entry's own voters called their exits (tag: + voters)
    # models
    DRIFT_BLOCK = "DRIFT_BLOCK"
    DRIFT_PSI = "DRIFT_PSI"
    DRIFT_KS = "DRIFT_KS"
    DRIFT_CUSUM = "DRIFT_CUSUM"
    GARCH_FALLBACK = "GARCH_FALLBACK"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    DATA_GAP = "DATA_GAP"
    DATA_INVALID = "DATA_INVALID"  # duplicated / non-monotonic timestamps, NaN rows, misaligned
    # ensemble
    SIGNAL_RETIRED = "SIGNAL_RETIRED"
    SIGNAL_REVIVED = "SIGNAL_REVIVED"
    # LLM veto and circuit breaker
    LLM_PROCEED = "LLM_PROCEED"
    LLM_REDUCE = "LLM_REDUCE"
    LLM_SKIP = "LLM_SKIP"
    LLM_TIMEOUT = "LLM_TIMEOUT"
    LLM_CONNECTION_ERROR = "LLM_CONNECTION_ERROR"
    LLM_HTTP_ERROR = "LLM_HTTP_ERROR"
    LLM_INVALID_OUTPUT = "LLM_INVALID_OUTPUT"
    LLM_BUDGET_EXHAUSTED = "LLM_BUDGET_EXHAUSTED"
    LLM_REPLAY_MISS = "LLM_REPLAY_MISS"
    LLM_PENDING = "LLM_PENDING"  # live: the prefetched opinion is not in yet; entry deferred
    LLM_INTERNAL_ERROR = "LLM_INTERNAL_ERROR"  # a bug in the veto path: failure policy applies
    BREAKER_TRIGGERED = "BREAKER_TRIGGERED"
    BREAKER_ACTION_ACCEPTED = "BREAKER_ACTION_ACCEPTED"
    BREAKER_ACTION_REJECTED = "BREAKER_ACTION_REJECTED"
    INTERVENTION_EXPIRED = "INTERVENTION_EXPIRED"
    INTERVENTION_REVOKED = "INTERVENTION_REVOKED"
    # order routing
    VENUE_EXCLUDED = "VENUE_EXCLUDED"
    VENUE_ERROR = "VENUE_ERROR"
    ORDER_RECONCILED = "ORDER_RECONCILED"
    ROUTE_REJECTED = "ROUTE_REJECTED"
    # funding carry (short perpetual, long spot hedge)
    CARRY_ENTRY = "CARRY_ENTRY"  # trailing funding and its forecast pay for the round trip
    CARRY_FUNDING_FLIP = "CARRY_FUNDING_FLIP"  # trailing funding and its forecast turned negative
    CARRY_BASIS_BLOWOUT = "CARRY_BASIS_BLOWOUT"  # the perp left the spot price: hedge broken
    CARRY_DELEVERAGE = "CARRY_DELEVERAGE"  # the perp's margin is half-way to liquidation
    HEDGE_FAILED = "HEDGE_FAILED"  # the spot leg could not be placed: the perp is flattened
    HEDGE_PENDING = "HEDGE_PENDING"  # the spot leg's answer is unknown: retried with its id
    HEDGE_UNAVAILABLE = "HEDGE_UNAVAILABLE"  # no spot market or price for the hedge: no entry
    # control tower
    HUMAN_GO_PENDING = "HUMAN_GO_PENDING"  # above the size limit: waiting for an operator's GO
    HUMAN_GO_GRANTED = "HUMAN_GO_GRANTED"  # an operator answered GO
    HUMAN_GO_DENIED = "HUMAN_GO_DENIED"  # an operator answered NO
    HUMAN_GO_TIMEOUT = "HUMAN_GO_TIMEOUT"  # no answer in time: no trade
    RECONCILIATION_DRIFT = "RECONCILIATION_DRIFT"  # venue positions disagree with the trades
    RECONCILIATION_OK = "RECONCILIATION_OK"  # venues and trades agree again
    RECONCILIATION_FAILED = "RECONCILIATION_FAILED"  # a venue could not be asked
    PAPER_GATE_REFUSED = "PAPER_GATE_REFUSED"  # live start without a good enough dry-run record
    PAPER_GATE_OVERRIDE = "PAPER_GATE_OVERRIDE"  # the operator started live past the gate
    SIZE_RAMP = "SIZE_RAMP"  # live size scaled while the ramp runs
    HIGH_SLIPPAGE = "HIGH_SLIPPAGE"  # a venue's fill slipped beyond the alert threshold
    VETO_HIGH_CONVICTION = "VETO_HIGH_CONVICTION"  # the LLM vetoed a high-conviction signal
    ALERT_UNDELIVERED = "ALERT_UNDELIVERED"  # an alert channel failed; kept and retried
    WEEKLY_REPORT = "WEEKLY_REPORT"  # the weekly report was built (and sent)
    ALERTS_SUPPRESSED = "ALERTS_SUPPRESSED"  # a channel's rate limit held alerts back: summary
    HUMAN_GO_REFUSED = "HUMAN_GO_REFUSED"  # a GO/NO from an unauthorised chat or too late


@dataclass(frozen=True)
class Decision:
    """``allowed`` False blocks entries until ``until`` (None: until an operator acts).

    ``scale`` is the multiplier an allowing decision applies to a size (1.0: unchanged).
    """

    allowed: bool
    reason: ReasonCode
    detail: str = ""
    until: datetime | None = None
    scale: float = 1.0

    @classmethod
    def allow(cls) -> Decision:
        return cls(allowed=True, reason=ReasonCode.OK)

    def lock_reason(self) -> str:
        """The text freqtrade stores on a lock: the code first, so /locks can be filtered."""
        return f"[{self.reason}] {self.detail}".strip()
