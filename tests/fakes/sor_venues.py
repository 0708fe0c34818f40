"""Local Binance, Bybit and OKX venues for the order-router tests, and configs pointing at them.

The venues are ``dev_tools.venue`` servers on 127.0.0.1 speaking each venue's real REST protocol
to ccxt's own ``binance``, ``bybit`` and ``okx`` classes, with real recorded book shapes
re-centred on the replayed Binance candles (``dev_tools.venue.catalogue.PROTOCOL_DEFAULTS``).
"""

from __future__ import annotations

import copy
import json
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dev_tools.venue.clients import ccxt_urls
from dev_tools.venue.server import RunningVenue, running_venues
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import deep_merge, load_project_config
from tests.support.paths import BINANCE_DATA, RECORDINGS


ANCHOR = datetime(2025, 10, 10, 12, tzinfo=UTC)
PAIR = "BTC/USDT:USDT"
CREDENTIALS = {  # test-only credentials the local venues check signatures with
    "binance": ("binance-test-key", "binance-test-secret", None),
    "bybit": ("bybit-test-key", "bybit-test-secret", None),
    "okx": ("okx-test-key", "okx-test-secret", "okx-test-passphrase"),
}


def venue_settings(protocols: tuple[str, ...] = ("binance", "bybit", "okx"),
                   anchor: datetime = ANCHOR, **overrides: Any) -> dict[str, VenueSettings]:
    out = {}
    for protocol in protocols:
        key, secret, password = CREDENTIALS[protocol]
        out[protocol] = VenueSettings.for_protocol(
            protocol, datadir=BINANCE_DATA, recordings_dir=RECORDINGS, anchor=anchor,
            api_key=key, api_secret=secret, api_password=password,
            **overrides.get(protocol, {}))
    return out


@contextmanager
def three_venues(**overrides: Any):
    with running_venues(venue_settings(**overrides)) as venues:
        yield venues


def router_config(venues: dict[str, RunningVenue], directory: Path, *, live: bool = False,
                  router: dict[str, Any] | None = None) -> dict[str, Any]:
    """The project's dry-run config with the router over ``venues`` (binance is primary);
    freqtrade's database and the suite's state store under ``directory``."""
    config = load_project_config("dry-run.json")
    # Local venues need no client-side throttling (ccxt's rate limiter sleeps between calls).
    extra = {name: {"ccxt_config": {"urls": ccxt_urls(name, venue.url), "enableRateLimit": False}}
             for name, venue in venues.items() if name != "binance"}
    overrides: dict[str, Any] = {
        "dry_run": not live,
        "db_url": f"sqlite:///{directory / 'trades.sqlite'}",
        "user_data_dir": str(directory),
        "api_server": {"enabled": False},
        "exchange": {"ccxt_config": {"urls": ccxt_urls("binance", venues["binance"].url),
                                     "enableRateLimit": False}},
        "centaur": {"exchange": {"router": deep_merge(
            {"enabled": True, "venues": extra, "fills_log_url": "sqlite://"}, router or {})}},
    }
    config = deep_merge(config, overrides)
    if live:
        key, secret, _ = CREDENTIALS["binance"]
        config["exchange"].update({"key": key, "secret": secret})
    return config


def venue_environment() -> dict[str, str]:
    """The extra venues' credentials, as the environment gives them to the router."""
    env = {}
    for name in ("bybit", "okx"):
        key, secret, password = CREDENTIALS[name]
        stem = f"CENTAUR_{name.upper()}"
        env |= {f"{stem}_API_KEY": key, f"{stem}_API_SECRET": secret}
        if password:
            env[f"{stem}_API_PASSWORD"] = password
    return env


def build_exchange(config: dict[str, Any], runmode: str):
    """The suite's exchange class as freqtrade builds it (in-process, markets from the venue)."""
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import ExchangeResolver

    config = copy.deepcopy(config)
    config["runmode"] = RunMode(runmode)
    config.setdefault("candle_type_def", "futures")
    return ExchangeResolver.load_exchange(config, validate=False)


def venue_orders(venue: RunningVenue) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{venue.url}/_venue/orders", timeout=10) as response:
        return json.loads(response.read())


def inject(venue: RunningVenue, rules: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(f"{venue.url}/_venue/faults", data=json.dumps(rules).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
