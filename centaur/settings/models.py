"""Settings of the FreqAI models layer (ranker, GARCH, regime, drift gate).

The ``centaur.models`` block of a freqtrade config. Every default of the layer lives here;
the model classes, the strategy mixin, the report and the benchmark read these sections and
nothing else. Candle counts are in the strategy timeframe (5m on the shared data).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from centaur.settings.base import Section


class RankerSettings(Section):
    """The pooled cross-sectional LightGBM ``lambdarank`` model.

    ``universe``: the pairs ranked against each other. Empty means FreqAI's own pair universe
    (``exchange.pair_whitelist`` + ``freqai.feature_parameters.include_corr_pairlist``); name it
    explicitly when the whitelist can shrink (``lookahead-analysis`` backtests one pair at a
    time, and a universe that shrinks with it would change every rank).
    """

    universe: tuple[str, ...] = ()
    top_k: int = Field(default=2, ge=1)
    bottom_k: int = Field(default=2, ge=0)
    horizon_candles: int = Field(default=48, ge=1)  # 4 h of 5m candles
    round_trip_fee_ratio: float = Field(default=0.001, ge=0.0, lt=0.05)  # 2 x 5 bp taker
    relevance_grades: int = Field(default=4, ge=2, le=10)
    train_every_candles: int = Field(default=12, ge=1)  # hourly query groups
    n_estimators: int = Field(default=150, ge=10)
    learning_rate: float = Field(default=0.05, gt=0.0, le=1.0)
    num_leaves: int = Field(default=15, ge=2)
    min_child_samples: int = Field(default=40, ge=1)
    feature_fraction: float = Field(default=0.8, gt=0.0, le=1.0)
    bagging_fraction: float = Field(default=0.8, gt=0.0, le=1.0)
    threads: int = Field(default=1, ge=1)  # oversubscribed LightGBM threads: 5x slower here
    seed: int = 42

    @model_validator(mode="after")
    def _k_fits(self) -> RankerSettings:
        if len(self.universe) and self.top_k + self.bottom_k > len(self.universe):
            raise ValueError(f"top_k + bottom_k ({self.top_k} + {self.bottom_k}) exceeds the "
                             f"{len(self.universe)} pairs of the universe")
        return self


class GarchSettings(Section):
    """GARCH(1,1), Student-t errors, refitted on a fixed calendar grid with warm starts."""

    fit_window_candles: int = Field(default=2016, ge=200)  # one week of 5m returns
    # Warm-started refits every 2 days (a fit costs ~10 ms: 2.1 s per pair-year of 5m candles);
    # a cold fit every 2 weeks cuts the warm-start chain.
    refit_every_candles: int = Field(default=576, ge=1)
    cold_start_every_candles: int = Field(default=4032, ge=1)
    min_returns: int = Field(default=500, ge=50)
    # alpha + beta above this is explosive: fallback. 5m returns often fit at ~1 (integrated
    # GARCH), which still gives a sound one-step forecast, so the default only rejects > 1.
    max_persistence: float = Field(default=1.0, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _grid_nests(self) -> GarchSettings:
        if self.cold_start_every_candles % self.refit_every_candles:
            raise ValueError("cold_start_every_candles must be a multiple of "
                             "refit_every_candles")
        return self


class RegimeSettings(Section):
    """Volatility ratio (24 h vs 1 week) and trend strength, mapped as in the seeds."""

    short_window_hours: int = Field(default=24, ge=2)
    long_window_hours: int = Field(default=168, ge=2)
    extreme_vol_ratio: float = 2.0
    high_vol_ratio: float = 1.3
    low_vol_ratio: float = 0.5
    trend_adx_min: float = Field(default=25.0, ge=0.0, le=100.0)  # ADX(14) on 1h candles
    extreme_position_scale: float = Field(default=0.25, ge=0.0, le=1.0)
    high_position_scale: float = Field(default=0.5, ge=0.0, le=1.0)
    low_position_scale: float = Field(default=1.0, ge=0.0, le=1.0)
    normal_position_scale: float = Field(default=1.0, ge=0.0, le=1.0)
    extreme_stop_multiplier: float = Field(default=2.0, gt=0.0)
    high_stop_multiplier: float = Field(default=1.5, gt=0.0)
    low_stop_multiplier: float = Field(default=0.75, gt=0.0)
    normal_stop_multiplier: float = Field(default=1.0, gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> RegimeSettings:
        if not self.low_vol_ratio < self.high_vol_ratio < self.extreme_vol_ratio:
            raise ValueError("need low_vol_ratio < high_vol_ratio < extreme_vol_ratio")
        if self.short_window_hours >= self.long_window_hours:
            raise ValueError("short_window_hours must be shorter than long_window_hours")
        return self


class DriftSettings(Section):
    """Fail-closed feature drift gate: recent window against the training window's reference.

    ``psi_max``, ``ks_p_min`` and ``cusum_max_sigma`` are the floors of each feature's
    thresholds; with ``calibrate_on_training`` a feature's threshold is raised to the most
    extreme value its own training windows produced (see ``freqai_models.drift``). A feature
    drifts when ``min_tests_breached`` tests breach together; a pair is blocked while at least
    ``min_drifted_features`` features drift.
    """

    enabled: bool = True
    psi_max: float = Field(default=0.25, gt=0.0)
    ks_p_min: float = Field(default=0.01, gt=0.0, lt=1.0)
    cusum_max_sigma: float = Field(default=5.0, gt=0.0)
    cusum_slack_sigma: float = Field(default=0.5, ge=0.0)
    psi_bins: int = Field(default=10, ge=3, le=50)
    window_candles: int = Field(default=288, ge=20)  # 24 h
    check_every_candles: int = Field(default=12, ge=1)  # hourly
    calibrate_on_training: bool = True
    calibrate_every_candles: int = Field(default=48, ge=1)  # training windows, 4 h apart
    min_tests_breached: int = Field(default=2, ge=1, le=3)
    min_drifted_features: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _whole_blocks(self) -> DriftSettings:
        for name in ("check_every_candles", "calibrate_every_candles"):
            if self.window_candles % getattr(self, name):
                raise ValueError(f"window_candles must be a multiple of {name}")
        return self


class ModelsSettings(Section):
    """The ``centaur.models`` block."""

    ranker: RankerSettings = Field(default_factory=RankerSettings)
    garch: GarchSettings = Field(default_factory=GarchSettings)
    regime: RegimeSettings = Field(default_factory=RegimeSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
