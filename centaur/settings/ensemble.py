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
    """The signal decay tracker: every call scored against its random-direction null, the excess
    over a calendar window, retire and revive with hysteresis (``strategies.signal_tracker``).

    The window is sized for power, not for reaction: an excess hit rate is a difference of a
    few points and one window's standard error is ``0.5 / sqrt(independent moves)``;
    ``make report-evidence`` prints each signal's minimum detectable edge at this window. A
    candle reads the state at the last anchor (every ``anchor_hours``, UTC) before it; the
    state needs ``window_days`` plus ``memory_anchors`` anchors of candles before it.
    """

    # 7 days + 1 anchor + the longest horizon (8 h) = 2,400 5m candles: what freqtrade can fetch
    # live on Binance futures (5 calls x 499). Longer windows need a longer live history.
    window_days: int = Field(default=7, ge=1, le=365)
    anchor_hours: int = Field(default=24, ge=1, le=24 * 7)
    memory_anchors: int = Field(default=1, ge=0, le=60)  # how long a decisive status holds
    min_clusters: int = Field(default=30, ge=5)  # independent moves before a window decides
    confidence_level: float = Field(default=0.95, ge=0.5, lt=1.0)  # one-sided
    # A call is right when its directional forward return beats this cost: two taker fills.
    outcome_cost_ratio: float = Field(default=0.001, ge=0.0, lt=0.05)

    @model_validator(mode="after")
    def _whole_anchors(self) -> TrackerSettings:
        if (self.window_days * 24) % self.anchor_hours:
            raise ValueError(f"window_days ({self.window_days}) must be a whole number of "
                             f"anchors of anchor_hours ({self.anchor_hours})")
        if 24 % self.anchor_hours and self.anchor_hours % 24:
            raise ValueError(f"anchor_hours ({self.anchor_hours}) must divide a day or be a "
                             "whole number of days, so anchors fall on calendar boundaries")
        return self

    def span_secs(self) -> int:
        """Candle history the state needs before a candle: the window and the memory."""
        return (self.window_days * 24 + self.memory_anchors * self.anchor_hours) * 3600


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

    # Names from strategies.signals.REGISTRY. Absent (null): every registered signal - for
    # research and for tests of the mechanics. The shipped configs list only the signals
    # `make report-evidence` finds an out-of-sample edge for; an empty list trades nothing.
    signals: tuple[str, ...] | None = None
    vote_threshold: float = Field(default=0.3, gt=0.0, le=1.0)  # |score| to enter
    exit_threshold: float = Field(default=0.3, gt=0.0, le=1.0)  # opposite score to exit
    # Weighted share of an entry's voters calling their own exit that closes the trade.
    voter_exit_share: float = Field(default=0.5, gt=0.0, le=1.0)
    mute_trend_when_ranging: bool = True
    mute_reversion_when_trending: bool = True
    muted_weight_ratio: float = Field(default=0.0, ge=0.0, le=1.0)
    # The weight of a zero vote in every score (a prior): what a signal earns at an excess hit
    # rate of 5 points over its random-direction null.
    # Voters whose summed weight is below it move the score only in proportion, so a signal
    # with a marginal measured edge cannot enter alone at full conviction.
    evidence_floor_weight: float = Field(default=0.01, ge=0.0, le=1.0)
    apply_vetoes: bool = True  # a live signal's veto (crowded funding side) blocks that side
    tracker: TrackerSettings = Field(default_factory=TrackerSettings)
    regime_fallback: RegimeFallbackSettings = Field(default_factory=RegimeFallbackSettings)
