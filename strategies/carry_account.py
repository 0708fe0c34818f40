"""The carry book's equity and trade results: the perp (freqtrade's wallet and trades) plus
the spot hedge legs (the hedge's recorded fills, marked at the last closed spot price).

The risk layer's breakers (daily drawdown, max drawdown, loss streak) read this account, so
they see the two-leg result: a rally that costs the short perp what the spot leg gains is not
a drawdown, and a carry trade is a loss only when both legs together lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from freqtrade.persistence import Trade

from risk_protections.risk_inputs import Account, CandleRows
from sor_exchange.hedge_leg import HedgeResult


class HedgeRecords(Protocol):
    def legs(self, trade_id: int) -> dict[str, HedgeResult]: ...

    def open_hedges(self) -> list[HedgeResult]: ...


def spot_leg_pnl_usd(legs: dict[str, HedgeResult], mark: float | None) -> float:
    """The spot leg's result after fees: proceeds of what was sold plus what is still held
    at ``mark``, less what was paid. A commission taken in the base is bought but not held
    (``held_base``). No fill: zero. An open leg without a mark is valued at its cost."""
    opened = legs.get("open")
    if opened is None or opened.filled_base <= 0:
        return 0.0
    paid = opened.filled_base * opened.average_price + opened.fee_quote
    closed = legs.get("close")
    sold = closed.filled_base if closed is not None else 0.0
    proceeds = sold * closed.average_price - closed.fee_quote if closed is not None and sold \
        else 0.0
    held = opened.held_base - sold - (closed.fee_base if closed is not None else 0.0)
    value = held * mark if held > 1e-12 and mark is not None else (
        held * opened.average_price if held > 1e-12 else 0.0)
    return proceeds + value - paid


class CarryAccount(Account):
    """``Account`` with the spot hedge legs added to equity and to each trade's result."""

    def __init__(self, config: dict[str, Any], wallets: Callable[[], Any],
                 exchange: Callable[[], Any], rows: CandleRows,
                 hedges: Callable[[], HedgeRecords | None],
                 spot_mark: Callable[[str, datetime], float | None]):
        super().__init__(config, wallets, exchange, rows)
        self._hedges = hedges
        self._spot_mark = spot_mark

    def spot_pnl_usd(self, now: datetime) -> float:
        """Every trade's spot leg: realised, or marked at the last closed spot price."""
        hedges = self._hedges()
        if hedges is None:
            return 0.0
        return sum(spot_leg_pnl_usd(hedges.legs(trade.id), self._spot_mark(trade.pair, now))
                   for trade in Trade.get_trades_proxy())

    def equity_usd(self, now: datetime) -> float:
        return super().equity_usd(now) + self.spot_pnl_usd(now)

    def closed_profits(self, limit: int) -> list[float]:
        """Both legs' net result of the last ``limit`` closed trades over their margin."""
        hedges = self._hedges()
        closed = sorted(Trade.get_trades_proxy(is_open=False),
                        key=lambda t: t.close_date_utc)[-limit:]
        out = []
        for trade in closed:
            spot = spot_leg_pnl_usd(hedges.legs(trade.id), None) if hedges is not None else 0.0
            stake = float(trade.stake_amount) or 1.0
            out.append((float(trade.close_profit_abs or 0.0) + spot) / stake)
        return out
