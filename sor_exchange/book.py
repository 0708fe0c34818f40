"""Unified order-book and venue-terms types, parsed at the adapter boundary.

Routing code sees only these: levels as ``(price, amount_base)`` arrays, best first, and each
venue's trading terms. Venue payloads are parsed here once (amounts in contracts converted to
base units) and kept beside the parsed book, as ccxt keeps ``info``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BUY, SELL = "buy", "sell"


def side_sign(side: str) -> int:
    """+1 for a buy (paying more is worse), -1 for a sell."""
    if side not in (BUY, SELL):
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    return 1 if side == BUY else -1


def _levels(rows: Sequence[Sequence[float]] | np.ndarray, scale: float = 1.0) -> np.ndarray:
    if not len(rows):
        return np.zeros((0, 2))
    if isinstance(rows, np.ndarray):
        array = rows[:, :2].astype("float64")
    else:
        array = np.array([row[:2] for row in rows], dtype="float64")
    array[:, 1] *= scale
    return array[array[:, 1] > 0]


@dataclass(frozen=True, eq=False)
class VenueBook:
    """One venue's visible book: ``bids``/``asks`` arrays of (price, amount in base), best first."""

    venue: str
    bids: np.ndarray
    asks: np.ndarray
    timestamp_ms: int | None = None
    raw: Any = field(default=None, repr=False)

    @classmethod
    def from_levels(cls, venue: str, bids, asks, *, timestamp_ms: int | None = None,
                    raw: Any = None, contract_size: float = 1.0) -> VenueBook:
        return cls(venue, _levels(bids, contract_size), _levels(asks, contract_size),
                   timestamp_ms, raw)

    @classmethod
    def from_ccxt(cls, venue: str, payload: Mapping[str, Any], contract_size: float = 1.0
                  ) -> VenueBook:
        """A ccxt unified order book; ``contract_size`` converts contracts to base units."""
        return cls.from_levels(venue, payload.get("bids") or [], payload.get("asks") or [],
                               timestamp_ms=payload.get("timestamp"), raw=payload,
                               contract_size=contract_size or 1.0)

    def taking(self, side: str) -> np.ndarray:
        """The levels an order of ``side`` takes: asks for a buy, bids for a sell."""
        return self.asks if side_sign(side) > 0 else self.bids

    @property
    def mid(self) -> float | None:
        if not len(self.bids) or not len(self.asks):
            return None
        return float(self.bids[0, 0] + self.asks[0, 0]) / 2

    def depth_base(self, side: str, levels: int) -> float:
        return float(self.taking(side)[:levels, 1].sum())


def arrival_mid(books: Mapping[str, VenueBook]) -> float:
    """The consolidated mid: the middle of the best bid and best ask across venues."""
    bids = [b.bids[0, 0] for b in books.values() if len(b.bids)]
    asks = [b.asks[0, 0] for b in books.values() if len(b.asks)]
    if not bids or not asks:
        raise ValueError("arrival mid needs at least one bid and one ask across the venues")
    return float(max(bids) + min(asks)) / 2


@dataclass(frozen=True)
class VenueTerms:
    """What it costs and what is allowed on one venue for one symbol (amounts in base units).

    Fees are ratios (negative: a rebate). ``max_base`` and ``max_notional_quote`` cap how much
    this venue may take (exposure caps, available balance or margin times leverage, or the
    position an exit may reduce); ``fixed_cost_quote`` is charged once if the venue is used.
    """

    venue: str
    taker_fee_ratio: float = 0.0
    maker_fee_ratio: float = 0.0
    lot_base: float = 0.0
    tick: float = 0.0
    min_base: float = 0.0
    min_notional_quote: float = 0.0
    max_base: float = math.inf
    max_notional_quote: float = math.inf
    fixed_cost_quote: float = 0.0

    def fee_ratio(self, liquidity: str) -> float:
        return self.maker_fee_ratio if liquidity == "maker" else self.taker_fee_ratio

    def min_size_base(self, reference_price: float) -> float:
        """The smallest order this venue accepts, on its lot grid, at ``reference_price``."""
        by_notional = self.min_notional_quote / reference_price if reference_price > 0 else 0.0
        smallest = max(self.min_base, by_notional, self.lot_base)
        return lots_up(smallest, self.lot_base)


def lots_down(amount: float, lot: float) -> float:
    """``amount`` rounded down to a multiple of ``lot`` (``lot`` 0: unchanged)."""
    if lot <= 0:
        return amount
    return round(math.floor(amount / lot + 1e-9) * lot, 12)


def lots_up(amount: float, lot: float) -> float:
    if lot <= 0:
        return amount
    return round(math.ceil(amount / lot - 1e-9) * lot, 12)
