"""The local venue's state: instruments, replay clock, books, matching engine, injected faults."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from centaur.offline.recordings import first_response
from centaur.venue.books import BookShape, Level, book_at, load_shape
from centaur.venue.matching import Account, MatchingEngine
from centaur.venue.replay import CandleStore, Instrument, ReplayClock, to_ms


@dataclass(frozen=True)
class VenueSettings:
    """How the venue replays: where the data is, which instant, how deep the books are."""

    datadir: Path
    recordings_dir: Path
    anchor: datetime
    depth_scale: float = 50.0
    wallet_usdt: float = 100_000.0
    api_key: str | None = None  # None: private endpoints accept any key (dry-run needs none)
    api_secret: str | None = None
    depth_recording: str = "BINANCE_FUTURES.http.0.0"


@dataclass
class FaultRule:
    """An injected failure for requests matching ``method`` and ``path`` (for tests).

    actions: ``error_500``, ``rate_limit``, ``delay`` (``value`` seconds, then answer),
    ``drop_after_accept`` (process the request, then drop the connection unanswered),
    ``reject`` (``value``: a VenueError kind).
    """

    method: str
    path: str
    action: str
    times: int = 1
    value: Any = None

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method.upper() == method.upper() and path.endswith(self.path)


@dataclass
class VenueState:
    settings: VenueSettings
    clock: ReplayClock
    store: CandleStore
    futures: dict[str, Instrument]
    spot: dict[str, Instrument]
    exchange_info: dict[str, dict[str, Any]]  # parsed recorded payloads: "spot", "futures"
    ticks: dict[tuple[bool, str], float]
    lots: dict[tuple[bool, str], float]
    shape: BookShape
    engine: MatchingEngine
    faults: list[FaultRule] = field(default_factory=list)
    request_log: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: VenueSettings, started: datetime | None = None) -> VenueState:
        spot_info = first_response(settings.recordings_dir / "BINANCE.0",
                                   "/api/v3/exchangeInfo").json()
        fut_info = first_response(settings.recordings_dir / "BINANCE_FUTURES.0",
                                  "/fapi/v1/exchangeInfo").json()
        return cls(
            settings=settings,
            clock=ReplayClock(anchor=settings.anchor, started=started or datetime.now(UTC)),
            store=CandleStore(settings.datadir),
            futures=_instruments(fut_info, futures=True),
            spot=_instruments(spot_info, futures=False),
            exchange_info={"spot": spot_info, "futures": fut_info},
            ticks={**_filter_values(fut_info, True, "PRICE_FILTER", "tickSize"),
                   **_filter_values(spot_info, False, "PRICE_FILTER", "tickSize")},
            lots={**_filter_values(fut_info, True, "LOT_SIZE", "stepSize"),
                  **_filter_values(spot_info, False, "LOT_SIZE", "stepSize")},
            shape=load_shape(settings.recordings_dir / settings.depth_recording),
            engine=MatchingEngine(Account(wallet=settings.wallet_usdt)),
        )

    def wall_now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), tz=UTC)

    def now_ms(self) -> int:
        return to_ms(self.wall_now())

    def data_now(self) -> datetime:
        return self.clock.to_data(self.wall_now())

    def instrument(self, symbol: str, futures: bool) -> Instrument | None:
        return (self.futures if futures else self.spot).get(symbol)

    def mid(self, instrument: Instrument) -> float | None:
        return self.store.last_close(instrument, self.data_now())

    def book(self, instrument: Instrument, limit: int = 1000) -> tuple[list[Level], list[Level]]:
        mid = self.mid(instrument)
        if mid is None:
            return [], []
        key = (instrument.futures, instrument.symbol)
        return book_at(self.shape, mid, self.ticks[key], self.lots[key],
                       self.settings.depth_scale, limit)

    def marks(self) -> dict[str, float]:
        marks = {}
        for symbol in self.engine.account.positions:
            instrument = self.futures.get(symbol)
            mid = self.mid(instrument) if instrument else None
            if mid is not None:
                marks[symbol] = mid
        return marks

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                rule.times -= 1
                return rule
        return None


def _instruments(info: dict, futures: bool) -> dict[str, Instrument]:
    out = {}
    for entry in info["symbols"]:
        if futures and entry.get("contractType") != "PERPETUAL":
            continue
        out[entry["symbol"]] = Instrument(entry["symbol"], entry["baseAsset"], entry["quoteAsset"],
                                          futures)
    return out


def _filter_values(info: dict, futures: bool, filter_type: str, key: str
                   ) -> dict[tuple[bool, str], float]:
    out = {}
    for entry in info["symbols"]:
        found = next(f for f in entry["filters"] if f["filterType"] == filter_type)
        out[(futures, entry["symbol"])] = float(found[key])
    return out
