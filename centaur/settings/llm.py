"""Settings of the LLM layer: the entry veto and the degradation-triggered circuit breaker.

The endpoint is any OpenAI-compatible chat-completions server (OpenAI, a hosted provider,
Ollama, vLLM, the suite's local llama.cpp server); only the *name* of the environment variable
holding its key lives here, never the key. Every default of the layer is in this file.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from centaur.settings.base import Section


class LlmMode(StrEnum):
    """How the model is reached. ``live`` in trade modes; the others in backtests/hyperopt."""

    OFF = "off"  # no LLM: the veto allows everything, the breaker never runs
    LIVE = "live"  # trade modes: prefetch when the signal forms, confirm_trade_entry only reads
    RECORD = "record"  # backtests against a live endpoint: cache first, then call and record
    REPLAY = "replay"  # backtests from the record only; a miss follows the failure policy
    INVERT = "invert"  # replay with the opposite gate (proceed/reduce <-> skip): the placebo


class FailurePolicy(StrEnum):
    """What a timeout, connection error, exhausted budget or invalid answer decides."""

    SKIP = "skip"  # fail closed (default)
    PROCEED = "proceed"  # the operator accepts trading without the model's opinion


class BudgetSettings(Section):
    """Daily limits on calls to the endpoint (UTC days); cache hits and replays are free."""

    max_calls_per_day: int = Field(default=2000, ge=0)
    max_tokens_per_day: int = Field(default=2_000_000, ge=0)


class NewsSettings(Section):
    """Headlines shown to the model: a timestamped CSV file or RSS feeds.

    The CSV defaults read ``crypto_headlines_2025-11_2026-02.csv``; the 2021-22 Kaggle file
    needs ``separator: ";"``, ``time_column: "date"``, ``time_format: "%d-%m-%Y %H:%M"``.
    Only headlines published strictly before the candle the decision is made at are visible.
    """

    source: Literal["none", "csv", "rss"] = "none"
    csv_path: str | None = None
    separator: str = ","
    time_column: str = "published_at_utc"
    title_column: str = "title"
    source_column: str | None = "source"
    currencies_column: str | None = "currencies"
    time_format: str | None = None  # strptime format (UTC); None: ISO 8601
    exclude_source_prefixes: tuple[str, ...] = ("@",)  # CryptoPanic tweets start with "@"
    rss_urls: tuple[str, ...] = ()
    rss_refresh_secs: float = Field(default=300.0, gt=0)
    lookback_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    max_headlines: int = Field(default=5, ge=0, le=50)
    # the csv's headlines scored once (VADER lexicon, cached) and aggregated per asset into the
    # candles' ``news_*`` columns: the news signal's input and part of the veto's market state
    sentiment: bool = False

    @field_validator("rss_urls")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _source_configured(self) -> NewsSettings:
        if self.source == "csv" and not self.csv_path:
            raise ValueError("news.source is 'csv' but news.csv_path is not set; "
                             "set csv_path to a timestamped headlines file")
        if self.sentiment and self.source != "csv":
            raise ValueError("news.sentiment needs news.source 'csv' (a timestamped headlines "
                             "file); live RSS headlines are not scored yet")
        if self.source == "rss" and not self.rss_urls:
            raise ValueError("news.source is 'rss' but news.rss_urls is empty; "
                             "list at least one feed URL")
        return self


class VetoSettings(Section):
    """The veto inside ``confirm_trade_entry`` and its stake multiplier for ``reduce``."""

    enabled: bool = True
    # stake multiplier of a fully confident ``reduce``; confidence c gives 1 - c*(1 - floor)
    reduce_floor_ratio: float = Field(default=0.25, gt=0, le=1)
    max_concurrent_calls: int = Field(default=2, ge=1, le=16)


class BreakerSettings(Section):
    """The circuit breaker: triggers on degradation, answers only from a bounded palette."""

    enabled: bool = False
    min_win_rate_ratio: float = Field(default=0.40, ge=0, le=1)
    window_trades: int = Field(default=20, ge=2)  # rolling window of the win rate
    min_trades: int = Field(default=10, ge=1)  # no win-rate trigger on fewer closed trades
    max_drawdown_ratio: float = Field(default=0.15, gt=0, lt=1)
    max_consecutive_losses: int = Field(default=5, ge=1)
    cooldown_hours: float = Field(default=6.0, ge=0)  # between two consultations
    max_calls_per_answer: int = Field(default=3, ge=1, le=10)
    conviction_range: tuple[float, float] = (0.60, 0.85)
    # a breaker answers a degradation: it may shrink positions, never grow them (the seeds'
    # "it has to be defensive"); an operator may widen this knowingly
    size_multiplier_range: tuple[float, float] = (0.25, 1.0)
    # the risk layer's clamps: leverage from 1.0 to the operator ceiling
    leverage_ceiling: float = Field(default=10.0, ge=1.0)
    duration_hours_range: tuple[float, float] = (1.0, 168.0)
    default_duration_hours: float = Field(default=24.0, gt=0)

    @field_validator("conviction_range", "size_multiplier_range", "duration_hours_range")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError("must be [low, high] with 0 < low <= high")
        return value

    @model_validator(mode="after")
    def _default_duration_in_range(self) -> BreakerSettings:
        low, high = self.duration_hours_range
        if not low <= self.default_duration_hours <= high:
            raise ValueError(f"default_duration_hours must lie in duration_hours_range "
                             f"[{low}, {high}]")
        return self


class LlmSettings(Section):
    """Endpoint, mode, failure policy, record store, budgets, news, veto and breaker."""

    mode: LlmMode = LlmMode.OFF
    base_url: str = "http://127.0.0.1:8012/v1"  # `centaur llm serve` (SmolLM2-135M)
    model: str = "SmolLM2-135M-Instruct"
    # the variable's NAME; the key never goes here. Checked at start-up by the LLM runtime
    # (not here: a validation error would echo a pasted key into the log)
    api_key_env: str = "CENTAUR_LLM_API_KEY"
    timeout_secs: float = Field(default=2.0, gt=0, le=600)
    failure_policy: FailurePolicy = FailurePolicy.SKIP
    max_tokens: int = Field(default=256, ge=16, le=4096)
    temperature: float = Field(default=0.0, ge=0, le=2)
    seed: int = 7
    store_path: str | None = None  # default: <user_data_dir>/llm/decisions.sqlite
    run_label: str = "default"  # groups this run's decisions in the store (reports)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    news: NewsSettings = Field(default_factory=NewsSettings)
    veto: VetoSettings = Field(default_factory=VetoSettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")
