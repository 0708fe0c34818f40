"""Settings of the signal ensemble and its decay tracker (the ``centaur.ensemble`` block).

Every default of the strategy layer lives here. The vote and exit thresholds are also freqtrade
hyperopt parameters of the flagship; their defaults are read from this file, and a value set in
the ``centaur.ensemble`` block wins over the strategy's own (unless hyperopt is optimising it).
Candle counts are in the strategy timeframe (5m on the shared data).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from centaur.settings.base import Section


class TrackerSettings(Section):
    """The signal decay tracker: every call scored, rolling accuracy, retire and revive.

    A signal retires when the upper confidence bound of its accuracy over the last
    ``window_calls`` scored calls is below ``retire_accuracy``, and comes back only when the
    lower bound is above ``revive_accuracy`` (hysteresis; with 100 calls the raw rate is
    +/- 5 points of noise). The bounds count calls of the same market move (horizons starting
    in the same window, on any pair) once. Until ``min_calls`` calls are scored it is on
    probation: weight 0.
    """

    window_calls: int = Field(default=100, ge=10)
    min_calls: int = Field(default=30, ge=5)
    retire_accuracy: float = Field(default=0.48, gt=0.0, lt=1.0)
    revive_accuracy: float = Field(default=0.52, gt=0.0, lt=1.0)
    confidence_level: float = Field(default=0.95, ge=0.5, lt=1.0)  # one-sided, Wilson bound
    # A call is right when its directional forward return beats this cost: two taker fills.
    outcome_cost_ratio: float = Field(default=0.001, ge=0.0, lt=0.05)

    @model_validator(mode="after")
    def _hysteresis(self) -> TrackerSettings:
        if self.revive_accuracy <= self.retire_accuracy:
            raise ValueError(f"revive_accuracy ({self.revive_accuracy}) must be above "
                             f"retire_accuracy ({self.retire_accuracy}): the gap is the "
                             "hysteresis that stops a signal flapping")
        if self.min_calls > self.window_calls:
            raise ValueError(f"min_calls ({self.min_calls}) exceeds window_calls "
                             f"({self.window_calls})")
        return self


class RegimeFallbackSettings(Section):
    """The regime used when the models layer's ``regime_*`` columns are absent.

    Trend: ADX(14) of closed 1h candles at or above ``adx_trending``. Volatility: std of 1h
    log returns over ``short_window_hours`` / over ``long_window_hours`` (24 h vs one week),
    with the models layer's thresholds; a window without enough data is ``extreme``.
    """

    adx_trending: float = Field(default=25.0, gt=0.0, lt=100.0)
    short_window_hours: int = Field(default=24, ge=2)
    long_window_hours: int = Field(default=168, ge=4)
    low_vol_ratio: float = Field(default=0.5, gt=0.0)
    high_vol_ratio: float = Field(default=1.3, gt=0.0)
    extreme_vol_ratio: float = Field(default=2.0, gt=0.0)


class EnsembleSettings(Section):
    """Which signals vote, how votes combine, when the regime mutes a family."""

    # Names from strategies.signals.REGISTRY; empty means every registered signal.
    signals: tuple[str, ...] = ()
    vote_threshold: float = Field(default=0.3, gt=0.0, le=1.0)  # |score| to enter
    exit_threshold: float = Field(default=0.3, gt=0.0, le=1.0)  # opposite score to exit
    # Weighted share of an entry's voters calling their own exit that closes the trade.
    voter_exit_share: float = Field(default=0.5, gt=0.0, le=1.0)
    mute_trend_when_ranging: bool = True
    mute_reversion_when_trending: bool = True
    muted_weight_ratio: float = Field(default=0.0, ge=0.0, le=1.0)
    # The weight of a zero vote in every score (a prior): what a signal earns at 55 % accuracy.
    # Voters whose summed weight is below it move the score only in proportion, so a signal
    # with a marginal measured edge cannot enter alone at full conviction.
    evidence_floor_weight: float = Field(default=0.01, ge=0.0, le=1.0)
    apply_vetoes: bool = True  # a live signal's veto (crowded funding side) blocks that side
    tracker: TrackerSettings = Field(default_factory=TrackerSettings)
    regime_fallback: RegimeFallbackSettings = Field(default_factory=RegimeFallbackSettings)
