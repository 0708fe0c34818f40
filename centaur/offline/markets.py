"""Offline markets source: real recorded exchange responses, parsed by ccxt's own code.

Backtesting, hyperopt and lookahead analysis load exchange markets over the network and abort
offline. With ``centaur.exchange.offline_markets.enabled`` the suite exchange class loads its
markets from recorded ``exchangeInfo`` responses instead: a ccxt exchange object whose HTTP
transport answers from the recording runs ccxt's unmodified ``load_markets``, so precision,
limits and contract sizes are exactly what ccxt would derive from the live venue.

Online (the switch off), nothing changes: the stock ``_api_reload_markets`` runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import ccxt
from freqtrade.enums import RunMode

from centaur.offline.recordings import RecordedResponse, first_response
from centaur.settings import CentaurConfigError, settings_from

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketRecording:
    """Where one market type's ``exchangeInfo`` of a venue was recorded."""

    market_type: str  # the ccxt ``fetchMarkets`` type it answers (spot, linear, inverse)
    file_name: str
    url_path: str


# Venue quirk table: which recording answers which ccxt market request.
# Sources: ../shared/data/README.md ("BINANCE.0 starts with the real /api/v3/exchangeInfo
# response (2021-10-12)"; "BINANCE_FUTURES.0 holds /fapi/v1/exchangeInfo").
MARKET_RECORDINGS: dict[str, tuple[MarketRecording, ...]] = {
    "binance": (
        MarketRecording("spot", "BINANCE.0", "/api/v3/exchangeInfo"),
        MarketRecording("linear", "BINANCE_FUTURES.0", "/fapi/v1/exchangeInfo"),
    ),
}


@dataclass(frozen=True)
class MarketsSnapshot:
    """Markets as ccxt parsed them from the recordings, with where they came from."""

    exchange_id: str
    markets: dict[str, dict[str, Any]]
    currencies: dict[str, Any]
    recorded: tuple[tuple[MarketRecording, datetime], ...]

    def describe(self) -> str:
        return ", ".join(
            f"{rec.market_type} from {rec.file_name} (recorded {when:%Y-%m-%d})"
            for rec, when in self.recorded
        )

    def missing(self, pairs: list[str]) -> list[str]:
        return [pair for pair in pairs if pair not in self.markets]


def load_snapshot(exchange_id: str, recordings_dir: Path) -> MarketsSnapshot:
    """Parse the recorded markets of ``exchange_id`` with ccxt (cached per process)."""
    return _load_snapshot(exchange_id, recordings_dir.resolve())


@lru_cache(maxsize=8)
def _load_snapshot(exchange_id: str, recordings_dir: Path) -> MarketsSnapshot:
    sources = MARKET_RECORDINGS.get(exchange_id)
    if not sources:
        raise CentaurConfigError(
            f"No offline markets recording for exchange '{exchange_id}' "
            f"(available: {', '.join(sorted(MARKET_RECORDINGS))}). Fix: set "
            "centaur.exchange.offline_markets.enabled to false, or use one of those exchanges."
        )
    if not recordings_dir.is_dir():
        raise CentaurConfigError(
            f"centaur.exchange.offline_markets.recordings_dir '{recordings_dir}' does not "
            "exist. Fix: place ../shared beside the project or point the key at the "
            "cryptofeed recordings folder."
        )
    responses = {rec.url_path: (rec, first_response(recordings_dir / rec.file_name, rec.url_path))
                 for rec in sources}
    api = _recorded_ccxt_class(exchange_id)(
        {"options": {"fetchMarkets": {"types": [rec.market_type for rec in sources]}}},
        responses={path: response for path, (_, response) in responses.items()},
    )
    api.load_markets()
    snapshot = MarketsSnapshot(
        exchange_id=exchange_id,
        markets=dict(api.markets),
        currencies=dict(api.currencies or {}),
        recorded=tuple((rec, response.recorded_at) for rec, response in responses.values()),
    )
    logger.info("Offline markets for %s: %d markets, %s", exchange_id,
                len(snapshot.markets), snapshot.describe())
    return snapshot


@lru_cache(maxsize=8)
def _recorded_ccxt_class(exchange_id: str) -> type:
    """A subclass of ccxt's own exchange class whose transport replays recordings."""
    base = getattr(ccxt, exchange_id)

    def __init__(self, config: dict, *, responses: dict[str, RecordedResponse]) -> None:
        self._recorded_responses = responses
        base.__init__(self, config)

    def fetch(self, url, method="GET", headers=None, body=None):
        for path, response in self._recorded_responses.items():
            if url.split("?", 1)[0].endswith(path):
                return response.json()
        raise ccxt.ExchangeNotAvailable(f"offline markets: no recorded response for {url}")

    return type(f"Recorded{base.__name__}", (base,), {"__init__": __init__, "fetch": fetch})


class OfflineMarketsMixin:
    """Freqtrade ``Exchange`` mixin: markets from recordings when the config asks for it."""

    _config: dict[str, Any]
    _api_async: Any

    def _offline_snapshot(self) -> MarketsSnapshot | None:
        offline = settings_from(self._config).exchange.offline_markets
        if not offline.enabled:
            return None
        if self._config.get("runmode") == RunMode.LIVE:
            raise CentaurConfigError(
                "centaur.exchange.offline_markets.enabled is for backtesting, hyperopt and "
                "dry-run. Fix: set it to false for live trading (real markets are required)."
            )
        return load_snapshot(self._config["exchange"]["name"].lower(), offline.recordings_dir)

    async def _api_reload_markets(self, reload: bool = False) -> None:
        snapshot = self._offline_snapshot()
        if snapshot is None:
            await super()._api_reload_markets(reload=reload)  # type: ignore[misc]
            return
        self._api_async.set_markets(list(snapshot.markets.values()), snapshot.currencies)

    def validate_config(self, config: dict[str, Any]) -> None:
        snapshot = self._offline_snapshot()
        if snapshot is not None:
            missing = snapshot.missing(list(config["exchange"].get("pair_whitelist", [])))
            if missing:
                raise CentaurConfigError(
                    f"Pair(s) {', '.join(missing)} not in the offline markets snapshot "
                    f"({snapshot.describe()}). Fix: remove them from exchange.pair_whitelist, "
                    "or set centaur.exchange.offline_markets.enabled to false to load live "
                    "markets (needs the network)."
                )
        super().validate_config(config)  # type: ignore[misc]
