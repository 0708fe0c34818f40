"""Position sizing: equity x risk fraction / stop distance, the fraction from fractional Kelly.

risk fraction = min(kelly_fraction x f*, cap) with f* from the signal's measured win rate and
payoff (``default_risk_ratio`` until it has ``min_signal_samples`` scored outcomes), then
scaled by the signal's confidence, by volatility targeting (target sigma / forecast sigma,
clamped), by the regime's position scale and by the other layers' and states' multipliers.
The result is the notional whose loss at the stop is that fraction of equity; the stake is
notional / leverage. Caps (exposure_caps) apply afterwards; nothing here can exceed the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from centaur.decision import Decision, ReasonCode
from centaur.settings.risk import SizingSettings
from centaur.signal_stats import SignalStats
from risk_protections.kelly import kelly_fraction


@dataclass(frozen=True)
class SizingInputs:
    equity_usd: float
    stop_distance_ratio: float  # price move from entry to the initial stop
    leverage: float
    signal_stats: SignalStats | None
    confidence: float  # [0, 1]
    sigma_per_candle_ratio: float | None  # forecast sigma of one candle's return
    candles_per_day: int
    regime_position_scale: float = 1.0
    external_scale: float = 1.0  # other layers (e.g. the LLM's "reduce"), <= 1 in practice
    state_scale: float = 1.0  # trading state (REDUCING) and operator/breaker interventions


@dataclass(frozen=True)
class SizingResult:
    stake_usd: float
    notional_usd: float
    risk_ratio: float  # fraction of equity lost at the stop
    decision: Decision
    factors: dict[str, float] = field(default_factory=dict)


def base_risk_ratio(stats: SignalStats | None, settings: SizingSettings) -> Decision:
    """The Kelly-based fraction of equity at risk, as a Decision whose ``scale`` is the ratio."""
    if stats is None or stats.samples < settings.min_signal_samples:
        return Decision(True, ReasonCode.OK, "default risk (too few scored outcomes)",
                        scale=settings.default_risk_ratio)
    edge = kelly_fraction(stats.win_rate, stats.payoff_ratio)
    if edge <= 0:
        return Decision(False, ReasonCode.NO_EDGE,
                        f"Kelly fraction {edge:.3f} <= 0 (win rate {stats.win_rate:.2%}, "
                        f"payoff {stats.payoff_ratio:.2f})")
    return Decision(True, ReasonCode.OK, f"{settings.kelly_fraction} x Kelly {edge:.3f}",
                    scale=min(settings.kelly_fraction * edge, settings.max_risk_per_trade_ratio))


def vol_target_scale(sigma_per_candle: float | None, candles_per_day: int,
                     settings: SizingSettings) -> float:
    if sigma_per_candle is None or not math.isfinite(sigma_per_candle) or sigma_per_candle <= 0:
        return settings.vol_scale_min  # unknown volatility: smallest size, never the largest
    daily_sigma = sigma_per_candle * math.sqrt(candles_per_day)
    scale = settings.vol_target_daily_ratio / daily_sigma
    return min(max(scale, settings.vol_scale_min), settings.vol_scale_max)


def size_position(inputs: SizingInputs, settings: SizingSettings) -> SizingResult:
    if not (0 < inputs.stop_distance_ratio < 1) or inputs.leverage <= 0:
        return SizingResult(0.0, 0.0, 0.0, Decision(
            False, ReasonCode.STOP_DISTANCE_INVALID,
            f"stop distance {inputs.stop_distance_ratio!r}, leverage {inputs.leverage!r}"))
    base = base_risk_ratio(inputs.signal_stats, settings)
    if not base.allowed:
        return SizingResult(0.0, 0.0, 0.0, base)
    factors = {
        "base_risk_ratio": base.scale,
        "confidence": min(max(inputs.confidence, 0.0), 1.0),
        "vol_target": vol_target_scale(inputs.sigma_per_candle_ratio, inputs.candles_per_day,
                                       settings),
        "regime": max(inputs.regime_position_scale, 0.0),
        "external": min(max(inputs.external_scale, 0.0), 1.0),
        "state": min(max(inputs.state_scale, 0.0), 1.0),
    }
    risk = min(math.prod(factors.values()), settings.max_risk_per_trade_ratio)
    notional = inputs.equity_usd * risk / inputs.stop_distance_ratio
    return SizingResult(notional / inputs.leverage, notional, risk, base, factors)
