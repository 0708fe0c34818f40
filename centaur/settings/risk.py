"""Settings of the risk layer: sizing, caps, gates, breakers, funding, leverage, stops.

All ratios are ratios (0.02 = 2 %). Price-move ratios ("hard stop at -2 %") are moves of the
price, not of the leveraged stake; the risk layer converts them for freqtrade.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from centaur.settings.base import Section

# Hard bounds no configuration can pass (the operator's numbers live below them).
MAX_RISK_PER_TRADE_RATIO = 0.015  # equity at risk per trade: 1.5 %, the suite's promise
# Leverage: at 20x an isolated position is liquidated by a ~5 % adverse move (less the
# maintenance margin), so the hard stop must sit well inside it (see RiskSettings._stop_inside).
HARD_LEVERAGE_CAP = 20.0
STOP_TO_LIQUIDATION_MAX_RATIO = 0.5  # hard stop move x leverage ceiling: at most half the margin


class SizingSettings(Section):
    """Risk-based size: equity x risk fraction / stop distance. The fraction is fractional
    Kelly of the entry tag's realised trades (``risk_protections.trade_record``), shrunk toward
    zero edge with the weight of ``kelly_prior_trades``; ``default_risk_ratio`` until the tag
    has ``min_trades_for_kelly`` closed trades within ``kelly_lookback_days``."""

    kelly_fraction: float = Field(default=0.25, gt=0, le=0.5)  # quarter Kelly; half at most
    max_risk_per_trade_ratio: float = Field(default=0.015, gt=0, le=MAX_RISK_PER_TRADE_RATIO)
    default_risk_ratio: float = Field(default=0.005, ge=0, le=MAX_RISK_PER_TRADE_RATIO)
    min_trades_for_kelly: int = Field(default=30, ge=1)
    kelly_prior_trades: float = Field(default=30.0, ge=0)  # n0: at n = n0, half the raw Kelly
    kelly_lookback_days: float | None = Field(default=180.0, gt=0)  # None: every closed trade
    min_signal_samples: int = Field(default=30, ge=1)  # the funding gate's tracker statistics
    vol_target_daily_ratio: float = Field(default=0.03, gt=0)
    vol_scale_min: float = Field(default=0.25, gt=0)
    vol_scale_max: float = Field(default=1.5, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> SizingSettings:
        _require(self.vol_scale_min <= self.vol_scale_max,
                 "vol_scale_min must not exceed vol_scale_max")
        _require(self.default_risk_ratio <= self.max_risk_per_trade_ratio,
                 "default_risk_ratio must not exceed max_risk_per_trade_ratio")
        return self


class CapsSettings(Section):
    """Hard caps on margin (stake) deployed, as ratios of equity; correlation gate."""

    max_position_ratio: float = Field(default=0.05, gt=0, le=1)
    max_total_ratio: float = Field(default=0.20, gt=0, le=1)
    max_exchange_ratio: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict)  # ccxt id -> ratio
    max_correlation: float = Field(default=0.7, gt=0, le=1)
    correlation_window_candles: int = Field(default=576, ge=20)


class GatesSettings(Section):
    """Sanity gates: each denial carries a reason code."""

    max_spread_bps: float = Field(default=15.0, gt=0)  # live: from the order book
    min_book_depth_multiple: float = Field(default=3.0, gt=0)  # live: depth within 50 bps
    prediction_bounds: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"ranker_score": (-50.0, 50.0), "garch_sigma": (0.0, 0.2)})


class BreakerSettings(Section):
    """Kill switches and breakers (trading state ACTIVE / REDUCING / HALTED)."""

    daily_loss_limit_r: float | None = Field(default=3.0, gt=0)
    # R of the day is at least this share of the day's starting equity: a first trade shrunk
    # to dust by its size multipliers must not put the kill switch at a few dollars of noise.
    daily_r_floor_ratio: float = Field(default=0.0025, ge=0, lt=1)
    daily_loss_limit_ratio: float | None = Field(default=0.05, gt=0, lt=1)
    daily_warning_fraction: float = Field(default=0.8, gt=0, lt=1)
    daily_lock: Literal["next_utc_day", "24h"] = "next_utc_day"
    max_drawdown_ratio: float = Field(default=0.15, gt=0, lt=1)
    reduce_after_losses: int = Field(default=3, ge=1)
    reduce_size_factor: float = Field(default=0.5, gt=0, le=1)
    pause_after_losses: int = Field(default=5, ge=1)
    pause_minutes: int = Field(default=240, ge=1)
    error_max_count: int = Field(default=5, ge=1)
    error_window_secs: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> BreakerSettings:
        _require(self.pause_after_losses > self.reduce_after_losses,
                 "pause_after_losses must be greater than reduce_after_losses")
        _require(self.daily_loss_limit_r is not None or self.daily_loss_limit_ratio is not None,
                 "set daily_loss_limit_r or daily_loss_limit_ratio (or both)")
        return self


class FundingSettings(Section):
    """Funding in the entry's expected value, and the exit of a position bleeding funding."""

    expected_holding_hours: float = Field(default=12.0, gt=0)
    settlement_interval_hours: float = Field(default=8.0, gt=0)
    max_funding_cost_r: float = Field(default=0.3, gt=0)  # denial without signal statistics
    bleed_after_hours: float = Field(default=24.0, gt=0)
    bleed_max_funding_ratio: float = Field(default=0.004, gt=0)  # funding paid / stake
    bleed_min_profit_ratio: float = Field(default=0.0)  # profit before funding, of stake


class LeverageSettings(Section):
    """leverage = base x vol_factor x dd_factor x perf_factor, clamped and rate-limited."""

    base: float = Field(default=5.0, ge=1, le=HARD_LEVERAGE_CAP)
    ceiling: float = Field(default=10.0, ge=1, le=HARD_LEVERAGE_CAP)  # the operator's ceiling
    floor: float = Field(default=1.0, ge=1, le=HARD_LEVERAGE_CAP)
    vol_factor_min: float = Field(default=0.3, gt=0)
    vol_factor_max: float = Field(default=1.5, gt=0)
    drawdown_tiers: tuple[tuple[Annotated[float, Field(gt=0, le=1)],
                                Annotated[float, Field(gt=0, le=1)]], ...] = Field(
        default=((0.05, 1.0), (0.10, 0.7), (0.15, 0.5), (1.0, 0.3)),  # (drawdown below, factor)
        min_length=1)
    perf_factor_min: float = Field(default=0.6, gt=0)
    perf_factor_max: float = Field(default=1.2, gt=0)
    perf_window_trades: int = Field(default=50, ge=5)
    step: float = Field(default=1.0, gt=0)
    step_interval_minutes: int = Field(default=60, ge=1)
    rate_limit_decreases: bool = False  # cuts apply at once (fail safe) unless set

    @model_validator(mode="after")
    def _ordered(self) -> LeverageSettings:
        _require(self.floor <= self.base <= self.ceiling,
                 f"leverage must satisfy floor <= base <= ceiling (got floor {self.floor}, "
                 f"base {self.base}, ceiling {self.ceiling})")
        _require(self.vol_factor_min <= self.vol_factor_max,
                 "vol_factor_min must not exceed vol_factor_max")
        _require(self.perf_factor_min <= self.perf_factor_max,
                 "perf_factor_min must not exceed perf_factor_max")
        below = [tier[0] for tier in self.drawdown_tiers]
        _require(below == sorted(set(below)),
                 "drawdown_tiers must be listed by strictly increasing drawdown")
        return self


class StopSettings(Section):
    """Chandelier: highest high of ``chandelier_candles`` candles of ``atr_timeframe`` minus
    ``chandelier_atr_multiplier`` x ATR(``atr_candles``) of that timeframe, x the regime's
    stop multiplier (a 5m ATR is noise-sized, so the stop reads a longer timeframe)."""

    hard_stop_ratio: float = Field(default=0.02, gt=0, lt=1)  # price move
    atr_timeframe: str = Field(default="1h", pattern=r"^\d+[mhd]$")
    chandelier_candles: int = Field(default=22, ge=2)
    chandelier_atr_multiplier: float = Field(default=3.0, gt=0)
    atr_candles: int = Field(default=14, ge=2)
    time_exit_minutes: int = Field(default=360, ge=5)
    take_profit_ratio: float = Field(default=0.03, gt=0)  # price move for the first rung
    take_profit_fraction: float = Field(default=0.5, gt=0, lt=1)


class RiskSettings(Section):
    enabled: bool = True
    sizing: SizingSettings = Field(default_factory=SizingSettings)
    caps: CapsSettings = Field(default_factory=CapsSettings)
    gates: GatesSettings = Field(default_factory=GatesSettings)
    breakers: BreakerSettings = Field(default_factory=BreakerSettings)
    funding: FundingSettings = Field(default_factory=FundingSettings)
    leverage: LeverageSettings = Field(default_factory=LeverageSettings)
    stops: StopSettings = Field(default_factory=StopSettings)

    @model_validator(mode="after")
    def _stop_inside_liquidation(self) -> RiskSettings:
        """At the leverage ceiling, the hard stop must trigger well before liquidation."""
        used = self.stops.hard_stop_ratio * self.leverage.ceiling
        _require(used <= STOP_TO_LIQUIDATION_MAX_RATIO,
                 f"stops.hard_stop_ratio x leverage.ceiling = {used:.2f} of the margin; at most "
                 f"{STOP_TO_LIQUIDATION_MAX_RATIO} keeps the stop inside the liquidation price. "
                 "Lower leverage.ceiling or stops.hard_stop_ratio")
        return self


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
