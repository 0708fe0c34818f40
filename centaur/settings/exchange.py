"""Settings of the suite's exchange class: offline markets and the order router."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from centaur.settings.base import Section


class OfflineMarketsSettings(Section):
    """Load markets from recorded exchange responses instead of the network."""

    enabled: bool = False
    recordings_dir: Path = Path("../shared/data/orderbooks/cryptofeed")


# ccxt constructor keys that carry credentials: they come from the environment only.
CREDENTIAL_KEYS = frozenset({"apiKey", "secret", "password", "uid", "privateKey",
                             "walletAddress", "token", "login", "twofa"})


class RouteVenueSettings(Section):
    """One venue the router may send children to (the primary is freqtrade's exchange).

    Fees are ratios, negative for a rebate; ``None`` takes ccxt's market fee. Credentials come
    from the environment variables named here (default ``CENTAUR_<VENUE>_API_KEY`` ...).
    """

    ccxt_id: str | None = None  # default: the venue's key in ``router.venues``
    enabled: bool = True
    taker_fee_ratio: float | None = Field(default=None, gt=-0.01, lt=0.01)
    maker_fee_ratio: float | None = Field(default=None, gt=-0.01, lt=0.01)
    fixed_cost_usd: float = Field(default=0.0, ge=0)
    max_exposure_usd: float | None = Field(default=None, gt=0)  # counterparty limit
    api_key_env: str | None = None
    api_secret_env: str | None = None
    api_password_env: str | None = None
    ccxt_config: dict[str, Any] = Field(default_factory=dict)  # urls, options; no secrets

    @field_validator("ccxt_config")
    @classmethod
    def _no_credentials(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = sorted(CREDENTIAL_KEYS & set(value))
        if found:
            raise ValueError(f"credentials ({', '.join(found)}) must not be in a config file; "
                             "name environment variables in api_key_env / api_secret_env / "
                             "api_password_env instead")
        return value

    def env_names(self, venue: str) -> dict[str, str]:
        """ccxt credential key -> environment variable name."""
        stem = "CENTAUR_" + re.sub(r"[^A-Z0-9]", "_", venue.upper())
        return {"apiKey": self.api_key_env or f"{stem}_API_KEY",
                "secret": self.api_secret_env or f"{stem}_API_SECRET",
                "password": self.api_password_env or f"{stem}_API_PASSWORD"}


class SlicingSettings(Section):
    """Time slicing of parents too large for the visible books (see sor_exchange.slicing)."""

    enabled: bool = True
    max_slices: int = Field(default=10, ge=1, le=100)
    interval_secs: float = Field(default=15.0, gt=0, le=3600)
    max_slice_usd: float | None = Field(default=None, gt=0)
    risk_aversion: float = Field(default=1.0, ge=0)
    volatility_bps_per_sqrt_sec: float = Field(default=1.0, gt=0)  # ~3 % a day


class RouterSettings(Section):
    """Smart order routing across venues: one freqtrade order, children on several venues."""

    enabled: bool = False
    venues: dict[str, RouteVenueSettings] = Field(default_factory=dict)
    book_depth: int = Field(default=100, ge=5, le=1000)
    cooldown_secs: float = Field(default=60.0, ge=0)
    request_timeout_secs: float = Field(default=10.0, gt=0)
    # A timed-out request may still reach the venue this long after it was sent (venues drop
    # requests older than their receive window: Binance recvWindow, ccxt default 10 s).
    in_flight_window_secs: float = Field(default=10.0, ge=0)
    max_reroute_rounds: int = Field(default=3, ge=1, le=10)
    price_band_bps: float = Field(default=10.0, ge=0)  # taking children: worst level + band
    limit_first: bool = False  # entries: limit children first, market after the timeout
    limit_first_timeout_secs: float = Field(default=30.0, gt=0)
    fills_log_url: str | None = None  # SQLAlchemy URL; default: SQLite beside the bot's db
    slicing: SlicingSettings = Field(default_factory=SlicingSettings)

    @model_validator(mode="after")
    def _known_exchanges(self) -> RouterSettings:
        import ccxt

        unknown = sorted(f"{name} (ccxt_id {venue.ccxt_id or name})"
                         for name, venue in self.venues.items()
                         if (venue.ccxt_id or name) not in ccxt.exchanges)
        if unknown:
            raise ValueError(f"unknown ccxt exchange(s): {', '.join(unknown)}; use ccxt ids "
                             "such as binance, bybit, okx, hyperliquid")
        return self

    def active_venues(self) -> dict[str, RouteVenueSettings]:
        return {name: venue for name, venue in self.venues.items() if venue.enabled}


class ExchangeSettings(Section):
    offline_markets: OfflineMarketsSettings = Field(default_factory=OfflineMarketsSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)

    @property
    def suite_class_requested(self) -> bool:
        """True when the config opts in to the suite's exchange class."""
        return self.offline_markets.enabled or self.router.enabled
