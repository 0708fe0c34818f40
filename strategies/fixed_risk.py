"""The plain risk controls of a suite strategy when the risk layer is off (or absent, in the
research strategies): a fixed leverage and a fixed stop at a fixed share of the entry price."""

from __future__ import annotations

from datetime import datetime

from freqtrade.persistence import Trade
from freqtrade.strategy import stoploss_from_open

from centaur.strategy_base import StrategyMixin

FIXED_LEVERAGE = 2.0
FIXED_STOP_PRICE_RATIO = 0.02


def fixed_leverage(leverage: float, max_leverage: float) -> float:
    return min(leverage, max_leverage)


def fixed_stoploss(trade: Trade, current_profit: float, stop_price_ratio: float) -> float:
    """freqtrade's stop ratio for a stop ``stop_price_ratio`` of the entry price away."""
    return stoploss_from_open(-stop_price_ratio * trade.leverage, current_profit,
                              is_short=trade.is_short, leverage=trade.leverage)


class FixedRisk(StrategyMixin):
    """Mixin: ``leverage`` = ``fixed_leverage``; stop ``fixed_stop_price_ratio`` of price away."""

    fixed_leverage = FIXED_LEVERAGE
    fixed_stop_price_ratio = FIXED_STOP_PRICE_RATIO

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        return fixed_leverage(self.fixed_leverage, max_leverage)

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime,
                        current_rate: float, current_profit: float, after_fill: bool,
                        **kwargs) -> float | None:
        return fixed_stoploss(trade, current_profit, self.fixed_stop_price_ratio)
