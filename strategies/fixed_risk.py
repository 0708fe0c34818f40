"""The plain risk controls of a suite strategy when the risk layer is off (or absent, in the
research strategies): a fixed leverage and a fixed stop at a fixed share of the entry price."""

from __future__ import annotations

from datetime import datetime

from freqtrade.persistence import Trade
from freqtrade.strategy import stoploss_from_open

from centaur.strategy_base import StrategyMixin


class FixedRisk(StrategyMixin):
    """Mixin: ``leverage`` = ``fixed_leverage``; stop ``fixed_stop_price_ratio`` of price away."""

    fixed_leverage = 2.0
    fixed_stop_price_ratio = 0.02

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        return min(self.fixed_leverage, max_leverage)

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime,
                        current_rate: float, current_profit: float, after_fill: bool,
                        **kwargs) -> float | None:
        return stoploss_from_open(-self.fixed_stop_price_ratio * trade.leverage, current_profit,
                                  is_short=trade.is_short, leverage=trade.leverage)
