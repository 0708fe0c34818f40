"""High slippage: a filled order whose fills on a venue slipped more than ``slippage_alert_bps``
(volume-weighted, positive = worse than the arrival mid) is a WARNING ``HIGH_SLIPPAGE``.

The fills come from the order router's fills log (``sor_exchange.fills_log``: one row per
child fill, with its venue and slippage against the parent's arrival mid). An order the router
did not place has no rows there: its own fill is measured against the price freqtrade asked
(``order.price``) on the bot's exchange.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from sor_exchange.fills_log import FILLS, default_url


@dataclass(frozen=True)
class VenueSlippage:
    venue: str
    slippage_bps: float
    notional_quote: float


def venue_slippage(fills: Iterable[Mapping[str, Any]]) -> list[VenueSlippage]:
    """Volume-weighted slippage per venue of fill rows (``venue``, ``price``, ``amount``,
    ``slippage_bps``)."""
    totals: dict[str, tuple[float, float]] = {}
    for fill in fills:
        notional = float(fill["price"]) * float(fill["amount"])
        weighted, volume = totals.get(fill["venue"], (0.0, 0.0))
        totals[fill["venue"]] = (weighted + float(fill["slippage_bps"]) * notional,
                                 volume + notional)
    return [VenueSlippage(venue, weighted / volume, volume)
            for venue, (weighted, volume) in sorted(totals.items()) if volume > 0]


def high_slippage(fills: Iterable[Mapping[str, Any]], threshold_bps: float
                  ) -> list[VenueSlippage]:
    return [v for v in venue_slippage(fills) if v.slippage_bps > threshold_bps]


def order_fill(order: Any, venue: str) -> list[dict[str, Any]]:
    """A freqtrade order's own fill as a fill row: against the price freqtrade asked."""
    asked, filled = order.price, order.safe_price
    amount = order.safe_filled
    if not asked or not filled or not amount:
        return []
    sign = 1 if (order.side or order.ft_order_side) == "buy" else -1
    return [{"venue": venue, "price": filled, "amount": amount,
             "slippage_bps": sign * (filled / asked - 1) * 1e4}]


class FillsLogReader:
    """The router's fills of one parent order, read from its fills log (None: no log)."""

    def __init__(self, config: Mapping[str, Any], url: str | None):
        self.url = url or default_url(dict(config))
        self._engine = None

    def fills(self, parent_order_id: str) -> list[dict[str, Any]]:
        if self._engine is None:
            if self.url.startswith("sqlite:///") and \
                    not Path(self.url.removeprefix("sqlite:///")).is_file():
                return []  # the router has not written a fill yet (or is off)
            self._engine = create_engine(self.url)
        query = select(FILLS).where(FILLS.c.parent_order_id == parent_order_id)
        with self._engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
