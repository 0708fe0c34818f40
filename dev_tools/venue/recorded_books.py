"""Real L2 book snapshots from the shared recordings, parsed into one unified shape.

Sources (``../shared/data/orderbooks``, read-only): cryptofeed REST depth responses (Binance
spot and USDT-M, 1,000 levels), cryptofeed websocket snapshots (Bybit ``orderBookL2_25``, OKX
``books``, Kraken ``book-1000``, Coinbase ``level2``) and nautilus' Binance BTCUSDT 100-level
snapshot (CSV). Venues were recorded on different days and symbols: a ``RecordedBook`` keeps
its recorded prices and sizes, and ``rescaled`` moves it to another mid keeping each level's
distance from the mid in relative terms and its notional in quote units.

How each venue states sizes is a quirk, kept as a table (``SIZE_UNITS``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from centaur.offline.recordings import iter_rest_responses


@dataclass(frozen=True)
class RecordedBook:
    """Bids and asks as (price, amount in base units), best first, with where they came from."""

    venue: str
    symbol: str
    recorded_at: datetime
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    source: str

    @property
    def mid(self) -> float:
        return (self.bids[0][0] + self.asks[0][0]) / 2

    def rescaled(self, mid: float) -> RecordedBook:
        """The same book around ``mid``: relative distances and level notionals kept."""
        ratio = mid / self.mid

        def move(levels):
            return tuple((p * ratio, s / ratio) for p, s in levels)

        return RecordedBook(self.venue, self.symbol, self.recorded_at, move(self.bids),
                            move(self.asks), f"{self.source}, rescaled to mid {mid:g}")

    def top_depth_base(self, side: str, levels: int) -> float:
        book = self.asks if side == "buy" else self.bids
        return sum(s for _, s in book[:levels])


# Size unit per (venue, symbol): "base" amounts, or "quote" contracts worth 1 quote unit each.
# Bybit inverse perpetuals quote sizes in USD contracts (Bybit API docs, orderBookL2_25).
SIZE_UNITS: dict[tuple[str, str], str] = {("bybit", "BTCUSD"): "quote",
                                          ("bybit", "EOSUSD"): "quote"}


def _levels(rows, venue: str, symbol: str, bid: bool) -> tuple[tuple[float, float], ...]:
    unit = SIZE_UNITS.get((venue, symbol), "base")
    out = [(float(p), float(s) / float(p) if unit == "quote" else float(s)) for p, s in rows]
    out = [(p, s) for p, s in out if s > 0]
    return tuple(sorted(out, key=lambda level: -level[0] if bid else level[0]))


def _ws_messages(path: Path) -> Iterator[tuple[float, object]]:
    """Received websocket messages (lines ``ts: payload``) of a cryptofeed recording."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(("wss://", "ws://", "configuration")) or ": " not in line:
                continue
            stamp, payload = line.split(": ", 1)
            try:
                yield float(stamp), json.loads(payload)
            except ValueError:
                continue


def _when(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, tz=UTC)


def rest_depth(path: Path, symbol: str | None = None, venue: str = "binance") -> RecordedBook:
    for response in iter_rest_responses(path):
        wanted = symbol is None or f"symbol={symbol}" in response.url
        if response.path.endswith("/depth") and wanted:
            payload = response.json()
            name = response.url.split("symbol=")[1].split("&")[0]
            return RecordedBook(venue, name, response.recorded_at,
                                _levels(payload["bids"], venue, name, True),
                                _levels(payload["asks"], venue, name, False),
                                f"{path.name} {response.url}")
    raise LookupError(f"no depth snapshot{f' for {symbol}' if symbol else ''} in {path}")


def bybit_snapshot(path: Path, symbol: str) -> RecordedBook:
    topic = f"orderBookL2_25.{symbol}"
    for stamp, message in _ws_messages(path):
        if isinstance(message, dict) and message.get("topic") == topic \
                and message.get("type") == "snapshot":
            rows = message["data"]
            bids = [(r["price"], r["size"]) for r in rows if r["side"] == "Buy"]
            asks = [(r["price"], r["size"]) for r in rows if r["side"] == "Sell"]
            return RecordedBook("bybit", symbol, _when(stamp), _levels(bids, "bybit", symbol, True),
                                _levels(asks, "bybit", symbol, False), f"{path.name} {topic}")
    raise LookupError(f"no {topic} snapshot in {path}")


def okx_snapshot(path: Path, symbol: str) -> RecordedBook:
    for stamp, message in _ws_messages(path):
        arg = message.get("arg", {}) if isinstance(message, dict) else {}
        if arg.get("channel") == "books" and arg.get("instId") == symbol \
                and message.get("action") == "snapshot":
            data = message["data"][0]
            return RecordedBook("okx", symbol, _when(stamp),
                                _levels([r[:2] for r in data["bids"]], "okx", symbol, True),
                                _levels([r[:2] for r in data["asks"]], "okx", symbol, False),
                                f"{path.name} books {symbol}")
    raise LookupError(f"no OKX books snapshot for {symbol} in {path}")


def kraken_snapshot(path: Path, symbol: str) -> RecordedBook:
    for stamp, message in _ws_messages(path):
        if isinstance(message, list) and message[-1] == symbol and isinstance(message[1], dict) \
                and "as" in message[1]:
            book = message[1]
            return RecordedBook("kraken", symbol, _when(stamp),
                                _levels([r[:2] for r in book["bs"]], "kraken", symbol, True),
                                _levels([r[:2] for r in book["as"]], "kraken", symbol, False),
                                f"{path.name} book-1000 {symbol}")
    raise LookupError(f"no Kraken book snapshot for {symbol} in {path}")


def coinbase_snapshot(path: Path, symbol: str) -> RecordedBook:
    for stamp, message in _ws_messages(path):
        if isinstance(message, dict) and message.get("type") == "snapshot" \
                and message.get("product_id") == symbol:
            return RecordedBook("coinbase", symbol, _when(stamp),
                                _levels(message["bids"], "coinbase", symbol, True),
                                _levels(message["asks"], "coinbase", symbol, False),
                                f"{path.name} level2 {symbol}")
    raise LookupError(f"no Coinbase snapshot for {symbol} in {path}")


def tardis_snapshot(path: Path, venue: str = "binance") -> RecordedBook:
    """The first row of a Tardis ``book_snapshot_N`` CSV (``asks[i].price``, ``.amount``...)."""
    with path.open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    depth = sum(1 for key in row if key.startswith("asks[") and key.endswith(".price"))

    def side(name: str):
        return [(row[f"{name}[{i}].price"], row[f"{name}[{i}].amount"]) for i in range(depth)
                if row.get(f"{name}[{i}].price")]

    symbol = row["symbol"]
    return RecordedBook(venue, symbol, _when(int(row["timestamp"]) / 1e6),
                        _levels(side("bids"), venue, symbol, True),
                        _levels(side("asks"), venue, symbol, False), f"tardis {path.name}")


# Which parser reads which recording: (file name prefix, parser taking (path, symbol)).
PARSERS: tuple[tuple[str, Callable[[Path, str | None], RecordedBook]], ...] = (
    ("BYBIT.ws", lambda p, s: bybit_snapshot(p, s or "BTCUSD")),
    ("OKX.ws", lambda p, s: okx_snapshot(p, s or "BTC-USDT")),
    ("KRAKEN.ws", lambda p, s: kraken_snapshot(p, s or "XBT/CHF")),
    ("COINBASE.ws", lambda p, s: coinbase_snapshot(p, s or "SKL-USD")),
    ("BINANCE", lambda p, s: rest_depth(p, s)),
    ("binance-futures_book_snapshot", lambda p, s: tardis_snapshot(p)),
)


def load_book(path: Path, symbol: str | None = None) -> RecordedBook:
    """The first snapshot of ``symbol`` (or the recording's default symbol) in ``path``."""
    for prefix, parser in PARSERS:
        if path.name.startswith(prefix):
            return parser(path, symbol)
    raise LookupError(f"no book parser for recording {path.name} "
                      f"(known prefixes: {', '.join(p for p, _ in PARSERS)})")
