"""Settings of the risk layer: sizing, caps, gates, breakers, funding, leverage, stops.

All ratios are ratios (0.02 = 2 %). Price-move ratios ("hard stop at -2 %") are moves of the
price, not of the leveraged stake; the risk layer converts them for freqtrade.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from centaur.settings.base import Section


class SizingSettings(Section):
    """Risk-based size: equity x risk fraction / stop distance."""

    kelly_fraction: float = Field(default=0.25, gt=0, le=0.5)  # quarter Kelly; half at most
    max_risk_per_trade_ratio: float = Field(default=0.015, gt=0, le=0.05)
    default_risk_ratio: float = Field(default=0.005, ge=0, le=0.05)  # before enough samples
    min_signal_samples: int = Field(default=30, ge=1)
    vol_target_daily_ratio: float = Field(default=0.03, gt=0)
    vol_scale_min: float = Field(default=0.25, gt=0)
    vol_scale_max: float = Field(default=1.5, gt=0)


class CapsSettings(Section):
    """Hard caps on margin (stake) deployed, as ratios of equity; correlation gate."""

    max_position_ratio: float = Field(default=0.05, gt=0, le=1)
    max_total_ratio: float = Field(default=0.20, gt=0, le=1)
    max_exchange_ratio: dict[str, float] = Field(default_factory=dict)  # ccxt id -> ratio
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
        if self.pause_after_losses <= self.reduce_after_losses:
            raise ValueError("pause_after_losses must be greater than reduce_after_losses")
        if self.daily_loss_limit_r is None and self.daily_loss_limit_ratio is None:
            raise ValueError("set daily_loss_limit_r or daily_loss_limit_ratio (or both)")
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

    base: float = Field(default=5.0, gt=0)
    ceiling: float = Field(default=10.0, ge=1)  # the operator's ceiling
    floor: float = Field(default=1.0, ge=1)
    vol_factor_min: float = 0.3
    vol_factor_max: float = 1.5
    drawdown_tiers: tuple[tuple[float, float], ...] = (
        (0.05, 1.0), (0.10, 0.7), (0.15, 0.5), (1.0, 0.3))  # (drawdown below, factor)
    perf_factor_min: float = 0.6
    perf_factor_max: float = 1.2
    perf_window_trades: int = Field(default=50, ge=5)
    step: float = Field(default=1.0, gt=0)
    step_interval_minutes: int = Field(default=60, ge=1)
    rate_limit_decreases: bool = False  # cuts apply at once (fail safe) unless set


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
