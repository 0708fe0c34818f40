"""LossStreakGuard: after N consecutive losing trades, lock entries for a while."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.persistence import Trade
from freqtrade.plugins.protections import IProtection, ProtectionReturn
from pydantic import Field

from centaur.decision import Decision, ReasonCode
from centaur.settings.base import Section
from centaur.trade_stats import consecutive_losses
from risk_protections.protection_settings import parse_protection_settings

logger = logging.getLogger(__name__)


class LossStreakSettings(Section):
    max_consecutive_losses: int = Field(default=5, ge=1)
    only_per_pair: bool = False
    only_per_side: bool = False


@dataclass(frozen=True)
class ClosedTrade:
    """What the rule needs of a closed trade (net profit includes fees and funding)."""

    close_date: datetime
    profit_ratio: float
    side: str


def loss_streak_decision(
    trades: Sequence[ClosedTrade], *, max_losses: int, stop_duration: timedelta
) -> Decision:
    """Block when the most recent ``max_losses`` closed trades all lost money.

    The lock runs from the close of the last losing trade, so it never ends before the
    event that caused it.
    """
    recent = sorted(trades, key=lambda t: t.close_date, reverse=True)[:max_losses]
    if consecutive_losses([t.profit_ratio for t in reversed(recent)]) < max_losses:
        return Decision.allow()
    last_loss = recent[0].close_date
    return Decision(
        allowed=False,
        reason=ReasonCode.LOSS_STREAK,
        detail=f"{max_losses} consecutive losing trades (last closed {last_loss:%Y-%m-%d %H:%M})",
        until=last_loss + stop_duration,
    )


class LossStreakGuard(IProtection):
    """After ``max_consecutive_losses`` losing trades in a row, lock entries for stop_duration."""

    has_global_stop: bool = True
    has_local_stop: bool = True

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        super().__init__(config, protection_config)
        self._settings = parse_protection_settings(LossStreakSettings, protection_config)

    def short_desc(self) -> str:
        return (
            f"{self.name} - {self._settings.max_consecutive_losses} consecutive losing trades "
            f"within {self.lookback_period_str} lock entries {self.unlock_reason_time_element}."
        )

    def _evaluate(self, date_now: datetime, pair: str | None, side: LongShort
                  ) -> ProtectionReturn | None:
        since = date_now - timedelta(minutes=self._lookback_period)
        trades = [
            t for t in Trade.get_trades_proxy(pair=pair, is_open=False, close_date=since)
            if not self._settings.only_per_side or t.trade_direction == side
        ]
        decision = loss_streak_decision(
            [ClosedTrade(t.close_date_utc, float(t.close_profit or 0.0), t.trade_direction)
             for t in trades],
            max_losses=self._settings.max_consecutive_losses,
            stop_duration=timedelta(minutes=self._stop_duration),
        )
        if decision.allowed or decision.until is None:
            return None
        until = self.calculate_lock_end(trades) if self._unlock_at else decision.until
        self.log_once(f"{decision.lock_reason()} - locking until {until}", logger.info)
        return ProtectionReturn(
            lock=True,
            until=until,
            reason=decision.lock_reason(),
            lock_side=side if self._settings.only_per_side else "*",
        )

    def global_stop(self, date_now: datetime, side: LongShort, starting_balance: float
                    ) -> ProtectionReturn | None:
        if self._settings.only_per_pair:
            return None
        return self._evaluate(date_now, None, side)

    def stop_per_pair(self, pair: str, date_now: datetime, side: LongShort,
                      starting_balance: float) -> ProtectionReturn | None:
        if not self._settings.only_per_pair:
            return None
        return self._evaluate(date_now, pair, side)
