"""Position sizing: equity x risk fraction / stop distance, the fraction from fractional Kelly.

risk fraction = min(kelly_fraction x f*, cap) with f* the Kelly fraction of the entry tag's
realised trades (win rate and payoff in R, ``trade_record``), shrunk toward zero edge by
sample size (``kelly.shrunk_kelly_fraction``); ``default_risk_ratio`` until the tag has
``min_trades_for_kelly`` closed trades. A tag whose shrunk Kelly is <= 0 is denied
(``NO_EDGE``). The fraction is then scaled by the signal's confidence, by volatility
targeting (target sigma / forecast sigma, clamped), by the regime's position scale and by the
other layers' and states' multipliers. The result is the notional whose loss at the stop is
that fraction of equity; the stake is notional / leverage. Caps (exposure_caps) apply
afterwards; nothing here can exceed the cap.

Every cap that cut the size is recorded in order (``SizingResult.caps``); the last one is the
cap that bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from centaur.decision import Decision, ReasonCode
from centaur.settings.risk import SizingSettings
from risk_protections.kelly import shrunk_kelly_fraction

if TYPE_CHECKING:  # the record's shell reads freqtrade; the rule stays pure
    from risk_protections.trade_record import TagRecord


class SizingCap(StrEnum):
    """The caps a size can hit, in the order the sizer applies them."""

    NONE = "none"
    RISK_PER_TRADE = "risk_per_trade"  # max_risk_per_trade_ratio (1.5 % of equity at most)
    VOL_SCALE_MAX = "vol_scale_max"  # volatility targeting's upper clamp
    MAX_STAKE = "max_stake"  # freqtrade's maximum stake (tradable balance)
    POSITION = "position"  # margin per position (caps.max_position_ratio)
    TOTAL = "total"  # margin deployed in total
    EXCHANGE = "exchange"  # margin per exchange
    BALANCE = "balance"  # free balance


class RiskBasis(StrEnum):
    """Where the base risk fraction came from."""

    DEFAULT = "default"  # too few closed trades of the tag
    KELLY = "kelly"
    NO_EDGE = "no_edge"  # denied


@dataclass(frozen=True)
class SizingInputs:
    equity_usd: float
    stop_distance_ratio: float  # price move from entry to the initial stop
    leverage: float
    record: TagRecord | None  # the entry tag's realised trades; None: unknown
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
    basis: RiskBasis = RiskBasis.DEFAULT
    caps: tuple[SizingCap, ...] = ()  # every cap that cut the size, in order

    @property
    def binding(self) -> SizingCap:
        return self.caps[-1] if self.caps else SizingCap.NONE


def shrunk_edge(record: TagRecord | None, settings: SizingSettings) -> float | None:
    """The tag's shrunk Kelly fraction; None below ``min_trades_for_kelly`` closed trades."""
    if record is None or record.trades < settings.min_trades_for_kelly \
            or record.win_rate is None or record.payoff_ratio is None:
        return None
    return shrunk_kelly_fraction(record.win_rate, record.payoff_ratio, record.trades,
                                 settings.kelly_prior_trades)


def risk_basis(edge: float | None) -> RiskBasis:
    if edge is None:
        return RiskBasis.DEFAULT
    return RiskBasis.KELLY if edge > 0 else RiskBasis.NO_EDGE


def base_risk_ratio(record: TagRecord | None, settings: SizingSettings) -> Decision:
    """The fraction of equity at risk before any cap, as a Decision whose ``scale`` is the
    ratio: the default below the minimum of trades, else fractional shrunk Kelly; a
    non-positive shrunk Kelly is a denial (``NO_EDGE``)."""
    edge = shrunk_edge(record, settings)
    if edge is None or record is None:
        trades = record.trades if record is not None else 0
        return Decision(True, ReasonCode.OK,
                        f"default risk ({trades} < {settings.min_trades_for_kelly} closed trades "
                        "of the tag)", scale=settings.default_risk_ratio)
    measured = (f"tag {record.tag or '(untagged)'}: {record.trades} trades, win rate "
                f"{record.win_rate:.2%}, payoff {record.payoff_ratio:.2f} R")
    if edge <= 0:
        return Decision(False, ReasonCode.NO_EDGE, f"shrunk Kelly {edge:.3f} <= 0 ({measured})")
    return Decision(True, ReasonCode.OK,
                    f"{settings.kelly_fraction} x shrunk Kelly {edge:.3f} ({measured})",
                    scale=settings.kelly_fraction * edge)


def vol_target_scale(sigma_per_candle: float | None, candles_per_day: int,
                     settings: SizingSettings) -> float:
    raw = _vol_target_raw(sigma_per_candle, candles_per_day, settings)
    if raw is None:
        return settings.vol_scale_min  # unknown volatility: smallest size, never the largest
    return min(max(raw, settings.vol_scale_min), settings.vol_scale_max)


def _vol_target_raw(sigma_per_candle: float | None, candles_per_day: int,
                    settings: SizingSettings) -> float | None:
    if sigma_per_candle is None or not math.isfinite(sigma_per_candle) or sigma_per_candle <= 0:
        return None
    return settings.vol_target_daily_ratio / (sigma_per_candle * math.sqrt(candles_per_day))


def size_position(inputs: SizingInputs, settings: SizingSettings) -> SizingResult:
    if not (0 < inputs.stop_distance_ratio < 1) or inputs.leverage <= 0:
        return SizingResult(0.0, 0.0, 0.0, Decision(
            False, ReasonCode.STOP_DISTANCE_INVALID,
            f"stop distance {inputs.stop_distance_ratio!r}, leverage {inputs.leverage!r}"))
    base = base_risk_ratio(inputs.record, settings)
    basis = risk_basis(shrunk_edge(inputs.record, settings))
    if not base.allowed:
        return SizingResult(0.0, 0.0, 0.0, base, basis=basis)
    cap = settings.max_risk_per_trade_ratio
    caps: list[SizingCap] = []
    if base.scale > cap:
        caps.append(SizingCap.RISK_PER_TRADE)
    raw_vol = _vol_target_raw(inputs.sigma_per_candle_ratio, inputs.candles_per_day, settings)
    if raw_vol is not None and raw_vol > settings.vol_scale_max:
        caps.append(SizingCap.VOL_SCALE_MAX)
    factors = {
        "base_risk_ratio": min(base.scale, cap),
        "confidence": min(max(inputs.confidence, 0.0), 1.0),
        "vol_target": vol_target_scale(inputs.sigma_per_candle_ratio, inputs.candles_per_day,
                                       settings),
        "regime": max(inputs.regime_position_scale, 0.0),
        "external": min(max(inputs.external_scale, 0.0), 1.0),
        "state": min(max(inputs.state_scale, 0.0), 1.0),
    }
    uncapped = math.prod(factors.values())
    if uncapped > cap:
        caps.append(SizingCap.RISK_PER_TRADE)
    risk = min(uncapped, cap)
    notional = inputs.equity_usd * risk / inputs.stop_distance_ratio
    return SizingResult(notional / inputs.leverage, notional, risk, base, factors, basis,
                        tuple(caps))
