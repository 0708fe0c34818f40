"""Order books for the venue: the shape of a real recorded L2 book, moved to the current price.

The recordings hold books of other symbols at other times (``BINANCE_FUTURES.http.0.0``:
SUSHIUSDT, 1,000 levels, 2021-07-22). The venue keeps the book's *shape* - each level's
distance from the mid in relative terms and its notional size - and re-centres it on the
replayed price, snapping prices to the instrument's tick. ``depth_scale`` multiplies every
level's notional (a BTC book is deeper than a SUSHI book); it is a stated assumption of the
tool, not market data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from centaur.offline.recordings import iter_rest_responses


@dataclass(frozen=True)
class Level:
    price: float
    amount: float


@dataclass(frozen=True)
class BookShape:
    """Levels as (relative distance from mid, notional in quote) per side."""

    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    source: str

    @classmethod
    def from_depth_payload(cls, payload: dict, source: str) -> BookShape:
        bids = [(float(p), float(q)) for p, q in payload["bids"]]
        asks = [(float(p), float(q)) for p, q in payload["asks"]]
        mid = (bids[0][0] + asks[0][0]) / 2
        return cls(
            bids=tuple(((mid - p) / mid, p * q) for p, q in bids),
            asks=tuple(((p - mid) / mid, p * q) for p, q in asks),
            source=source,
        )

    @classmethod
    def from_book(cls, book) -> BookShape:
        """A ``recorded_books.RecordedBook`` (levels in base units) as a shape."""
        mid = book.mid
        return cls(bids=tuple(((mid - p) / mid, p * q) for p, q in book.bids),
                   asks=tuple(((p - mid) / mid, p * q) for p, q in book.asks),
                   source=book.source)


def load_shape(recording: Path, symbol: str | None = None) -> BookShape:
    """The first recorded depth snapshot of ``recording`` (optionally of one symbol)."""
    for response in iter_rest_responses(recording):
        if response.path.endswith("/depth") and (symbol is None or f"symbol={symbol}" in response.url):
            return BookShape.from_depth_payload(response.json(), f"{recording.name} {response.url}")
    raise LookupError(f"no depth snapshot in {recording}")


def book_at(shape: BookShape, mid: float, tick: float, lot: float, depth_scale: float,
            limit: int) -> tuple[list[Level], list[Level]]:
    """The shape re-centred on ``mid``: prices on the tick grid, amounts on the lot grid,
    colliding levels merged, levels smaller than one lot dropped."""
    return (_side(shape.bids, mid, tick, lot, depth_scale, limit, bid=True),
            _side(shape.asks, mid, tick, lot, depth_scale, limit, bid=False))


def _side(levels, mid: float, tick: float, lot: float, depth_scale: float, limit: int, *,
          bid: bool) -> list[Level]:
    merged: dict[float, float] = {}
    for distance, notional in levels:
        raw = mid * (1 - distance) if bid else mid * (1 + distance)
        ticks = math.floor(raw / tick) if bid else math.ceil(raw / tick)
        price = float(Decimal(ticks) * Decimal(str(tick)))
        if price <= 0:
            continue
        merged[price] = merged.get(price, 0.0) + notional * depth_scale / price
        if len(merged) > limit:
            break
    ordered = sorted(merged.items(), reverse=bid)
    snapped = [(price, float(Decimal(math.floor(amount / lot)) * Decimal(str(lot))))
               for price, amount in ordered]
    return [Level(price, amount) for price, amount in snapped if amount > 0][:limit]
