"""Settings of the funding carry: short the perpetual, hold the same base quantity in spot
(the ``centaur.carry`` block; ``strategies.CentaurCarry``).

Few numbers, each with a structural reason rather than a fit to the shared year:

- A position must earn its round trip back: both legs in and out cost
  ``round_trip_cost_ratio()`` of notional (two perp taker fills, two spot taker fills, slippage
  on each), so the trailing funding must pay that within ``amortise_days``. Entry needs the
  7-day mean settlement (21 settlements) and the forecast of the next one (Binance's formula
  on the last 8 hours of basis) above that hurdle; exit when the 3-day mean and the forecast
  are both below minus the hurdle (holding now costs more than a round trip would save). The
  band between the two is the no-trade zone of the costs: in for weeks, trading rarely.
- The perp's leverage is low (``leverage``, 2 by default: liquidation about 48 % above entry)
  and both legs are closed when the price is ``deleverage_move_ratio`` above the entry (about
  half-way to liquidation at 2x); a spike never liquidates the short while the spot gain sits
  on the other account.
- The perp must trade near spot to enter (``entry_basis_max_ratio``), and a basis beyond
  ``blowout_basis_ratio`` means the hedge no longer hedges: both legs close.
- Capital: ``leverage`` units of spot per unit of perp margin. A pair's perp margin is
  ``1 / (1 + leverage)`` of its share of the capital; the rest is the spot leg's cash.
"""

from __future__ import annotations

from pydantic import Field

from centaur.settings.base import Section

SETTLEMENTS_PER_DAY = 3  # Binance USDT-M perpetuals settle every 8 h


class CarrySettings(Section):
    """The ``centaur.carry`` block."""

    entry_window_hours: int = Field(default=168, ge=8, le=24 * 60)  # 21 settlements
    exit_window_hours: int = Field(default=72, ge=8, le=24 * 60)  # 9 settlements
    forecast_window_hours: int = Field(default=8, ge=1, le=24)  # one funding interval of basis
    amortise_days: float = Field(default=30.0, gt=0.0, le=365.0)
    perp_fee_ratio: float = Field(default=0.0005, ge=0.0, lt=0.01)  # Binance USDT-M taker
    spot_fee_ratio: float = Field(default=0.001, ge=0.0, lt=0.01)  # Binance spot taker
    slippage_ratio: float = Field(default=0.0002, ge=0.0, lt=0.01)  # per fill, each leg
    leverage: float = Field(default=2.0, ge=1.0, le=5.0)
    deleverage_move_ratio: float = Field(default=0.2, gt=0.0, lt=1.0)
    entry_basis_max_ratio: float = Field(default=0.005, gt=0.0, lt=0.1)
    blowout_basis_ratio: float = Field(default=0.03, gt=0.0, lt=0.5)
    # Counterparty risk: capital held on one venue (perp margin + spot legs) over total capital.
    max_venue_capital_ratio: float = Field(default=1.0, gt=0.0, le=1.0)

    def round_trip_cost_ratio(self) -> float:
        """Both legs in and out, as a ratio of notional: 4 fills, each with its slippage."""
        return 2 * (self.perp_fee_ratio + self.spot_fee_ratio) + 4 * self.slippage_ratio

    def entry_hurdle_per_settlement(self) -> float:
        """The mean settlement rate that pays a round trip back within ``amortise_days``."""
        return self.round_trip_cost_ratio() / (self.amortise_days * SETTLEMENTS_PER_DAY)

    def perp_margin_share(self) -> float:
        """The part of a pair's capital that is perp margin (the rest holds the spot leg)."""
        return 1.0 / (1.0 + self.leverage)
