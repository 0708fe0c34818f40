"""The spot hedge leg in backtests: filled at the real spot candle, with slippage and fee.

The same interface as ``sor_exchange.hedge_leg.SpotHedge`` (``execute``, ``legs``,
``open_hedges``), so the carry strategy and the combined accounting run one code path in
backtests, dry-run and live. A market order at ``now`` fills at the open of the spot candle in
progress (as freqtrade fills the perp at that candle's open), moved against the order by
``slippage_ratio``, and pays ``fee_ratio`` of its notional. No spot price at that candle (a
gap in the spot data, a pair without a spot market): the leg is rejected, and the strategy
flattens the perp - as it would live.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sor_exchange.client_ids import client_order_id
from sor_exchange.hedge_leg import HedgeRequest, HedgeResult


class SimulatedSpotHedge:
    """Spot legs priced from candles; idempotent per (trade, action) like the live hedge."""

    def __init__(self, fill_price: Callable[[str, datetime], float | None],
                 clock: Callable[[], datetime], fee_ratio: float, slippage_ratio: float):
        self._fill_price = fill_price
        self._clock = clock
        self._fee_ratio = fee_ratio
        self._slippage_ratio = slippage_ratio
        self._legs: dict[int, dict[str, HedgeResult]] = {}

    def execute(self, request: HedgeRequest) -> HedgeResult:
        recorded = self._legs.get(request.trade_id, {}).get(request.action)
        if recorded is not None and recorded.done:
            return recorded
        client_id = client_order_id("binance", request.parent_id, 0)
        now = self._clock()
        price = self._fill_price(request.perp_pair, now)
        if price is None:
            result = HedgeResult(request, client_id, "rejected", 0.0, 0.0, 0.0,
                                 f"no spot price for {request.perp_pair} at {now:%Y-%m-%d %H:%M}")
        else:
            sign = 1.0 if request.action == "open" else -1.0  # buy pays up, sell gets less
            average = price * (1.0 + sign * self._slippage_ratio)
            fee = request.base_amount * average * self._fee_ratio
            result = HedgeResult(request, client_id, "filled", request.base_amount, average,
                                 fee, "")
        self._legs.setdefault(request.trade_id, {})[request.action] = result
        return result

    def legs(self, trade_id: int) -> dict[str, HedgeResult]:
        return dict(self._legs.get(trade_id, {}))

    def unresolved(self) -> list[tuple[int, str]]:
        return []  # a simulated fill is known at once

    def open_hedges(self) -> list[HedgeResult]:
        return [legs["open"] for legs in self._legs.values()
                if "open" in legs and legs["open"].filled_base > 0
                and not ("close" in legs and legs["close"].done)]

    def clear(self) -> None:
        """A new backtest run in the same process (hyperopt's epochs)."""
        self._legs.clear()
