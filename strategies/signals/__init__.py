"""The suite's signals: one rule per module, one shared shape (``base.SignalFrame``).

``REGISTRY`` maps each signal's tag to its class, the mixin holding its freqtrade hyperopt
parameters and the function that builds it from a strategy's current parameter values. The
registry order is the order of the ``enter_tag`` of an ensemble entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strategies.signals import (
    basis,
    bollinger_rsi,
    breakout,
    ema_adx,
    funding,
    news_sentiment,
    ranker,
    rsi_bounce,
    squeeze,
)
from strategies.signals.base import Family, Signal, SignalContext, SignalFrame

__all__ = ["REGISTRY", "Family", "Signal", "SignalContext", "SignalEntry", "SignalFrame",
           "build_signals", "parse_tag", "TAG_SEPARATOR"]

TAG_SEPARATOR = "+"


@dataclass(frozen=True)
class SignalEntry:
    signal: type[Signal]
    parameters: type
    from_strategy: Callable[[Any], Signal]


REGISTRY: dict[str, SignalEntry] = {
    entry.signal.name: entry for entry in (
        SignalEntry(basis.BasisMeanReversion, basis.BasisParameters, basis.from_strategy),
        SignalEntry(bollinger_rsi.BollingerRsiReversion, bollinger_rsi.BollingerRsiParameters,
                    bollinger_rsi.from_strategy),
        SignalEntry(rsi_bounce.RsiBounce, rsi_bounce.RsiBounceParameters,
                    rsi_bounce.from_strategy),
        SignalEntry(squeeze.BollingerSqueeze, squeeze.SqueezeParameters, squeeze.from_strategy),
        SignalEntry(ema_adx.EmaAdxTrend, ema_adx.EmaAdxParameters, ema_adx.from_strategy),
        SignalEntry(breakout.MomentumBreakout, breakout.BreakoutParameters,
                    breakout.from_strategy),
        SignalEntry(funding.FundingExtremes, funding.FundingParameters, funding.from_strategy),
        SignalEntry(ranker.RankerTopK, ranker.RankerParameters, ranker.from_strategy),
        SignalEntry(news_sentiment.NewsSentiment, news_sentiment.NewsSentimentParameters,
                    news_sentiment.from_strategy),
    )
}


def build_signals(strategy: Any, names: tuple[str, ...]) -> list[Signal]:
    """The named signals (registry order) with the strategy's current parameter values."""
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown signal(s) {unknown}; known: {', '.join(REGISTRY)}")
    return [entry.from_strategy(strategy) for name, entry in REGISTRY.items() if name in names]


def parse_tag(tag: str | None) -> tuple[str, ...]:
    """The signal names in an ``enter_tag`` such as ``bb_rsi+ema_adx`` (others ignored)."""
    if not tag:
        return ()
    return tuple(name for name in tag.split(TAG_SEPARATOR) if name in REGISTRY)
