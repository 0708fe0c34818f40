"""The local venue's state: instruments, replay clock, books, matching engine, injected faults.

One state per venue; its ``protocol`` (binance, bybit, okx) picks the wire protocol served.
The USDT-M ``engine`` and the spot ``spot_engine`` (Binance only) are separate accounts; injected
faults match any path, spot or futures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from dev_tools.venue.books import BookShape, Level, book_at
from dev_tools.venue.catalogue import CATALOGUES, PROTOCOL_DEFAULTS, Catalogue
from dev_tools.venue.matching import Account, MatchingEngine, Position
from dev_tools.venue.recorded_books import load_book
from dev_tools.venue.spot_account import SpotEngine
from dev_tools.venue.replay import CandleStore, Instrument, ReplayClock, to_ms


@dataclass(frozen=True)
class VenueSettings:
    """How the venue replays: where the data is, which instant, how deep the books are.

    ``protocol`` picks the wire protocol and the recorded instrument list (``catalogue``); use
    ``for_protocol`` to get that protocol's stated book recording and fees.
    """

    datadir: Path
    recordings_dir: Path
    anchor: datetime
    depth_scale: float = 50.0
    wallet_usdt: float = 100_000.0
    api_key: str | None = None  # None: private endpoints accept any key (dry-run needs none)
    api_secret: str | None = None
    depth_recording: str = "BINANCE_FUTURES.http.0.0"
    protocol: str = "binance"
    depth_symbol: str | None = None
    # Data time before which nothing is served (as if the market opened then): a bot started
    # at the anchor then sees exactly the history a backtest starting there would load.
    history_start: datetime | None = None
    api_password: str | None = None  # OKX's passphrase
    taker_fee_ratio: float = 0.0004
    maker_fee_ratio: float = 0.0002
    min_notional_quote: float = 5.0
    # The spot account (Binance protocol): starting balances per asset and the spot fee
    # schedule (Binance spot regular tier, 0.1% / 0.1%).
    spot_balances: tuple[tuple[str, float], ...] = (("USDT", 100_000.0),)
    spot_taker_fee_ratio: float = 0.001
    spot_maker_fee_ratio: float = 0.001

    @classmethod
    def for_protocol(cls, protocol: str, **values: Any) -> VenueSettings:
        """Settings with ``protocol``'s recorded book and fee schedule as defaults."""
        defaults = PROTOCOL_DEFAULTS[protocol]
        stated = {"depth_recording": defaults.depth_recording,
                  "depth_symbol": defaults.depth_symbol, "depth_scale": defaults.depth_scale,
                  "taker_fee_ratio": defaults.taker_fee_ratio,
                  "maker_fee_ratio": defaults.maker_fee_ratio,
                  "min_notional_quote": defaults.min_notional_quote}
        return cls(protocol=protocol, **{**stated, **values})


@dataclass
class FaultRule:
    """An injected failure for requests matching ``method`` and ``path`` (for tests).

    actions: ``error_500``, ``rate_limit``, ``delay`` (``value`` seconds, then answer),
    ``drop_after_accept`` (process the request, then drop the connection unanswered),
    ``reject`` (``value``: a VenueError kind), ``partial_fill`` (an order finds only
    ``value`` times its amount of liquidity on the book), ``lose_fill`` (the order fills and
    is answered, but the account's positions and balances stay as they were: a lost fill).
    """

    method: str
    path: str
    action: str
    times: int = 1
    value: Any = None

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method.upper() == method.upper() and path.endswith(self.path)


# Where the fault middleware leaves the rule that matched a request, for the order handlers.
FAULT_KEY = web.RequestKey("centaur_fault", FaultRule | None)


@dataclass
class VenueState:
    settings: VenueSettings
    clock: ReplayClock
    store: CandleStore
    catalogue: Catalogue
    shape: BookShape
    engine: MatchingEngine
    spot_engine: SpotEngine | None = None  # the spot cash account (Binance protocol only)
    faults: list[FaultRule] = field(default_factory=list)
    request_log: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: VenueSettings, started: datetime | None = None) -> VenueState:
        catalogue = CATALOGUES[settings.protocol](settings.recordings_dir)
        recording = settings.recordings_dir / settings.depth_recording
        return cls(
            settings=settings,
            clock=ReplayClock(anchor=settings.anchor, started=started or datetime.now(UTC)),
            store=CandleStore(settings.datadir, history_start=settings.history_start),
            catalogue=catalogue,
            shape=BookShape.from_book(load_book(recording, settings.depth_symbol)),
            engine=MatchingEngine(Account(wallet=settings.wallet_usdt),
                                  taker_fee=settings.taker_fee_ratio,
                                  maker_fee=settings.maker_fee_ratio,
                                  min_notional=settings.min_notional_quote),
            spot_engine=SpotEngine.from_exchange_info(
                catalogue.payloads["spot"], dict(settings.spot_balances),
                settings.spot_taker_fee_ratio, settings.spot_maker_fee_ratio)
            if "spot" in catalogue.payloads else None,
        )

    @property
    def futures(self) -> dict[str, Instrument]:
        return self.catalogue.futures

    @property
    def spot(self) -> dict[str, Instrument]:
        return self.catalogue.spot

    @property
    def exchange_info(self) -> dict[str, Any]:
        return self.catalogue.payloads

    @property
    def ticks(self) -> dict[tuple[bool, str], float]:
        return self.catalogue.ticks

    @property
    def lots(self) -> dict[tuple[bool, str], float]:
        return self.catalogue.lots

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

    def book_for_order(self, instrument: Instrument, side: str, amount: float,
                       fault: FaultRule | None) -> tuple[list[Level], list[Level]]:
        """The book an incoming order meets; a ``partial_fill`` fault leaves it only
        ``fault.value`` times the order's amount on the side it takes."""
        bids, asks = self.book(instrument)
        if fault is None or fault.action != "partial_fill":
            return bids, asks
        thin = _thinned(asks if side == "buy" else bids, amount * float(fault.value))
        return (bids, thin) if side == "buy" else (thin, asks)

    def marks(self) -> dict[str, float]:
        marks = {}
        for symbol in self.engine.account.positions:
            instrument = self.futures.get(symbol)
            mid = self.mid(instrument) if instrument else None
            if mid is not None:
                marks[symbol] = mid
        return marks

    # --- holdings: read and set by tests (``/_venue/positions``) --------------------------

    def holdings(self) -> tuple[dict[str, Position], dict[str, float], dict[str, float]]:
        """A copy of the USD-M positions and the spot free / locked balances."""
        spot = self.spot_engine.account if self.spot_engine is not None else None
        return ({s: replace(p) for s, p in self.engine.account.positions.items()},
                dict(spot.free) if spot else {}, dict(spot.locked) if spot else {})

    def restore_holdings(self, kept: tuple[dict[str, Position], dict[str, float],
                                           dict[str, float]]) -> None:
        positions, free, locked = kept
        self.engine.account.positions.clear()
        self.engine.account.positions.update(positions)
        if self.spot_engine is not None:
            self.spot_engine.account.free.clear()
            self.spot_engine.account.free.update(free)
            self.spot_engine.account.locked.clear()
            self.spot_engine.account.locked.update(locked)

    def set_position(self, symbol: str, amount: float, entry_price: float | None = None
                     ) -> None:
        instrument = self.futures.get(symbol)
        if instrument is None:
            raise ValueError(f"unknown USD-M symbol {symbol!r}")
        price = float(entry_price) if entry_price is not None else self.mid(instrument) or 0.0
        self.engine.account.positions[symbol] = Position(amount, price if amount else 0.0)

    def set_spot_free(self, asset: str, free: float) -> None:
        if self.spot_engine is None:
            raise ValueError("this venue has no spot account")
        self.spot_engine.account.free[asset] = free

    def holdings_json(self) -> dict[str, Any]:
        positions, free, locked = self.holdings()
        return {"positions": {s: {"amount": p.amount, "entry_price": p.entry_price}
                              for s, p in positions.items() if p.amount},
                "spot": {a: {"free": free.get(a, 0.0), "locked": locked.get(a, 0.0)}
                         for a in sorted(set(free) | set(locked))}}

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                rule.times -= 1
                return rule
        return None


def _thinned(levels: list[Level], amount: float) -> list[Level]:
    out, left = [], amount
    for level in levels:
        if left <= 1e-12:
            break
        out.append(Level(level.price, min(level.amount, left)))
        left -= level.amount
    return out
