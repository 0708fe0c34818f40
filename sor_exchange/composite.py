"""One freqtrade order from a parent and its children: filled, average, fees, status.

Pure: the parent's record and its children in, a ccxt-shaped order dict out (what freqtrade's
``Order.parse_from_ccxt_object`` reads). The children stay visible under ``info.sor``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sor_exchange.journal import ChildRecord, ParentRecord


def _status(parent: ParentRecord, children: list[ChildRecord], filled: float) -> str:
    working = any(not c.terminal for c in children)
    if working:
        return "open"
    if parent.canceled and filled < parent.amount_base - 1e-12:
        return "canceled"
    more_to_come = parent.pending_base > 1e-12 or parent.slices_left > 0
    if more_to_come:
        return "open"
    if filled > 0:
        return "closed"
    return "expired"


def aggregate(parent: ParentRecord, children: list[ChildRecord], quote: str) -> dict[str, Any]:
    filled = round(sum(c.filled_base for c in children), 12)
    cost = sum(c.cost_quote for c in children)
    fee = sum(c.fee_quote for c in children)
    moment = datetime.fromtimestamp(parent.created_ms / 1000, tz=UTC)
    return {
        "id": parent.parent_id, "clientOrderId": None, "symbol": parent.pair,
        "type": parent.order_type, "side": parent.side, "price": parent.rate,
        "amount": parent.amount_base, "filled": filled,
        "remaining": max(round(parent.amount_base - filled, 12), 0.0),
        "cost": cost, "average": cost / filled if filled else None,
        "status": _status(parent, children, filled),
        "timestamp": parent.created_ms, "datetime": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "lastTradeTimestamp": None, "reduceOnly": parent.reduce_only,
        "fee": {"currency": quote, "cost": fee, "rate": fee / cost if cost else None},
        "trades": [],
        "info": {"sor": {"children": [asdict(c) for c in children],
                         "decisions": list(parent.decisions)}},
    }
