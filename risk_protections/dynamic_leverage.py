"""Dynamic leverage: base x vol_factor x dd_factor x perf_factor, clamped and rate-limited.

- vol_factor = normal volatility / current volatility, clamped to [0.3, 1.5];
- dd_factor by drawdown tier (below 5 %: 1.0, below 10 %: 0.7, below 15 %: 0.5, else 0.3);
- perf_factor = 1 + 2 x half-Kelly of the recent trades, clamped to [0.6, 1.2]
  (no edge: 1.0; a losing record: 0.6; a half-Kelly of 0.1 or more: 1.2);
- the product is clamped to [floor, min(exchange maximum, operator ceiling, intervention)];
- increases move at most one ``step`` per ``step_interval_minutes``; cuts apply at once
  unless ``rate_limit_decreases`` (failing safe: a volatility spike cuts leverage now);
- the leverage asked of the exchange is rounded down to ``LEVERAGE_DECIMALS`` (never above
  the value the rules allow, never below 1x): 4.48x, not 4.4812755394686565x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from centaur.settings.risk import LeverageSettings
from risk_protections.kelly import kelly_fraction

LEVERAGE_DECIMALS = 2
_FLOAT_NOISE = 1e-9  # 4.47 + 0.01 is 4.4799999999999995 in binary floating point


@dataclass(frozen=True)
class LeverageInputs:
    normal_vol_ratio: float
    current_vol_ratio: float
    drawdown_ratio: float
    win_rate: float | None  # recent trades; None: too few
    payoff_ratio: float | None
    exchange_max: float
    intervention_ceiling: float | None = None


@dataclass(frozen=True)
class LeverageState:
    value: float
    changed_at: datetime


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def vol_factor(inputs: LeverageInputs, settings: LeverageSettings) -> float:
    if inputs.current_vol_ratio <= 0 or inputs.normal_vol_ratio <= 0:
        return settings.vol_factor_min
    return clamp(inputs.normal_vol_ratio / inputs.current_vol_ratio,
                 settings.vol_factor_min, settings.vol_factor_max)


def drawdown_factor(drawdown: float, settings: LeverageSettings) -> float:
    for below, factor in settings.drawdown_tiers:
        if drawdown < below:
            return factor
    return settings.drawdown_tiers[-1][1]


def perf_factor(inputs: LeverageInputs, settings: LeverageSettings) -> float:
    if inputs.win_rate is None or inputs.payoff_ratio is None:
        return 1.0
    half_kelly = 0.5 * kelly_fraction(inputs.win_rate, inputs.payoff_ratio)
    return clamp(1.0 + 2.0 * half_kelly, settings.perf_factor_min, settings.perf_factor_max)


def ceiling(inputs: LeverageInputs, settings: LeverageSettings) -> float:
    limits = [settings.ceiling, inputs.exchange_max]
    if inputs.intervention_ceiling is not None:
        limits.append(inputs.intervention_ceiling)
    return max(min(limits), 1.0)


def target_leverage(inputs: LeverageInputs, settings: LeverageSettings) -> float:
    raw = (settings.base * vol_factor(inputs, settings)
           * drawdown_factor(inputs.drawdown_ratio, settings) * perf_factor(inputs, settings))
    top = ceiling(inputs, settings)
    return clamp(raw, min(settings.floor, top), top)


def rate_limited(target: float, last: LeverageState | None, now: datetime,
                 settings: LeverageSettings) -> LeverageState:
    if last is None:
        return LeverageState(target, now)
    rising = target > last.value
    if not rising and not settings.rate_limit_decreases:
        return LeverageState(target, now) if target != last.value else last
    if target == last.value:
        return last
    if now - last.changed_at < timedelta(minutes=settings.step_interval_minutes):
        return last
    step = min(abs(target - last.value), settings.step)
    return LeverageState(last.value + step if rising else last.value - step, now)


def rounded_down(leverage: float, decimals: int = LEVERAGE_DECIMALS) -> float:
    """``leverage`` cut to ``decimals`` places (at least 1x): rounding never raises risk."""
    scale = 10 ** decimals
    return max(1.0, math.floor(leverage * scale + _FLOAT_NOISE) / scale)
