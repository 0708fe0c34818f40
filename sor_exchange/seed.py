"""The seed's Smart Order Router example, modelled as books and fees the router can read.

The seed's table (a 50 BTC sell): Binance 25 BTC of depth, maker rebate -0.01%, est. slippage
0.05%; Bybit 15 BTC, -0.025%, 0.08%; OKX 10 BTC, 0.00%, 0.12%; Hyperliquid 5 BTC, +0.01% taker
fee, 0.20%. Its decision (20 / 15 / 5 / 10) sends Hyperliquid twice its stated depth, so the
table cannot be taken literally. Interpretation used here, stated once:

- "depth" is the size resting on the bid side within the venue's book, spread evenly over
  ``LEVELS`` levels whose prices fall linearly from the mid to ``mid * (1 - 2 * slippage)``,
  so that sweeping the whole depth has the stated average slippage;
- the fee column is the fee a taking sell pays (a negative value is a rebate, as the seed
  labels it), so the fee-adjusted price of a level is ``p * (1 - fee)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sor_exchange.book import VenueBook, VenueTerms

SEED_MID = 100_000.0
SEED_ORDER_BASE = 50.0
SEED_SIDE = "sell"
LEVELS = 20


@dataclass(frozen=True)
class SeedRow:
    venue: str
    depth_base: float
    fee_ratio: float
    slippage_ratio: float
    seed_decision_base: float


SEED_TABLE: tuple[SeedRow, ...] = (
    SeedRow("binance", 25.0, -0.0001, 0.0005, 20.0),
    SeedRow("bybit", 15.0, -0.00025, 0.0008, 15.0),
    SeedRow("okx", 10.0, 0.0, 0.0012, 5.0),
    SeedRow("hyperliquid", 5.0, 0.0001, 0.0020, 10.0),
)


def seed_book(row: SeedRow, mid: float = SEED_MID) -> VenueBook:
    """Bids spread evenly from the mid down to twice the stated average slippage."""
    fractions = np.linspace(0.0, 1.0, LEVELS)
    bids = np.column_stack([mid * (1 - 2 * row.slippage_ratio * fractions),
                            np.full(LEVELS, row.depth_base / LEVELS)])
    asks = np.array([[mid * (1 + 1e-6), row.depth_base]])
    return VenueBook.from_levels(row.venue, bids, asks)


def seed_inputs() -> tuple[dict[str, VenueBook], dict[str, VenueTerms]]:
    books = {row.venue: seed_book(row) for row in SEED_TABLE}
    terms = {row.venue: VenueTerms(row.venue, taker_fee_ratio=row.fee_ratio, lot_base=0.001)
             for row in SEED_TABLE}
    return books, terms
