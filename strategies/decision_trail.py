"""The decision trail: why a trade exists, kept on the trade itself in freqtrade's
``custom_data``, so FreqUI's trade detail (and GET /api/v1/trades/{id}/custom-data) shows it
without a fork.

Keys on each trade:

- ``centaur_entry``: the proposal (pair, side, tag, candle, confidence, the voters with their
  tracker weights at that candle), the risk layer's sizing (stake, risk basis and fraction,
  every cap that cut the size, the decision), the LLM veto's decision (code, scale, the
  model's reason), and the gates the entry passed;
- ``centaur_route``: the order router's legs of every filled order (venue, amount, price,
  slippage, fee);
- ``centaur_exit``: the exit reason code and the fill.

State is committed when it becomes true: the entry's trail is assembled when freqtrade
confirms the entry and written when the entry order fills; an entry that never fills leaves
nothing. Trading only (backtests keep their decisions in the reports).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from centaur.decision import Decision
from centaur.pipeline import EntryProposal

logger = logging.getLogger(__name__)

ENTRY_KEY = "centaur_entry"
ROUTE_KEY = "centaur_route"
EXIT_KEY = "centaur_exit"
KEEP_PENDING = 64  # confirmed entries waiting for their fill (one per pair and side at most)


def decision_json(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"allowed": decision.allowed, "reason": str(decision.reason),
            "detail": decision.detail, "scale": decision.scale}


def voter_weights(rows: Any, proposal: EntryProposal) -> dict[str, float]:
    """The voters' tracker weights at the proposal's candle (``EnsembleRows``; none: empty)."""
    if rows is None:
        return {}
    index = rows.index_at(int(pd.Timestamp(proposal.candle_time).value))
    if index is None:
        return {}
    return {name: round(float(rows.weight[index, i]), 4)
            for i, name in enumerate(rows.names) if name in proposal.voters}


def entry_trail(proposal: EntryProposal, *, gates: list[str], weights: dict[str, float],
                sizing: dict[str, Any] | None, veto: Decision | None,
                amount: float, rate: float, confirmed_at: datetime) -> dict[str, Any]:
    """The entry's trail as plain JSON (pure)."""
    stats = proposal.stats
    return {
        "confirmed_at": confirmed_at.isoformat(),
        "proposal": {
            "pair": proposal.pair, "side": proposal.side, "tag": proposal.tag,
            "candle": proposal.candle_time.isoformat(),
            "confidence": round(proposal.confidence, 4),
            "voters": [{"signal": name, "weight": weights.get(name)}
                       for name in proposal.voters],
            "measured": None if stats is None else {
                "win_rate": round(stats.win_rate, 4), "payoff_ratio": round(stats.payoff_ratio, 4),
                "samples": stats.samples},
        },
        "sizing": sizing,
        "veto": decision_json(veto),
        "gates_passed": gates,
        "order": {"amount": amount, "rate": rate, "notional_usd": round(amount * rate, 2)},
    }


class DecisionTrail:
    """Holds each confirmed entry's trail until its order fills, then writes it on the trade."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()  # the bot loop and the REST thread (forced entries)

    def confirmed(self, pair: str, side: str, trail: dict[str, Any]) -> None:
        with self._lock:
            self._pending[(pair, side)] = trail
            while len(self._pending) > KEEP_PENDING:
                self._pending.pop(next(iter(self._pending)))

    # Hyperopt pickles the strategy into its workers; a lock does not travel.
    def __getstate__(self) -> dict[str, Any]:
        return {"_pending": dict(self._pending)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._pending = state["_pending"]
        self._lock = threading.Lock()

    def write(self, trade: Any, order: Any,
              route_legs: Callable[[str], list[dict[str, Any]]] | None) -> None:
        """``on_fill`` with the router's legs; the trail informs, it never stops the fill's
        bookkeeping - a failure is logged."""
        legs = None
        try:
            legs = route_legs(order.order_id) if callable(route_legs) else None
        except Exception:  # noqa: BLE001 - the router's legs are left out, the rest is kept
            logger.exception("%s: the router's legs of order %s are unreadable", trade.pair,
                             order.order_id)
        try:
            self.on_fill(trade, order, legs)
        except Exception:  # noqa: BLE001 - informational record; the trade itself is booked
            logger.exception("%s: the decision trail of order %s was not written", trade.pair,
                             order.order_id)

    def on_fill(self, trade: Any, order: Any, legs: list[dict[str, Any]] | None) -> None:
        side = "short" if trade.is_short else "long"
        if order.ft_order_side == trade.entry_side:
            with self._lock:
                pending = self._pending.pop((trade.pair, side), None)
            if pending is not None and trade.get_custom_data(ENTRY_KEY) is None:
                trade.set_custom_data(ENTRY_KEY, pending)
        else:
            trade.set_custom_data(EXIT_KEY, {
                "reason": order.ft_order_tag or trade.exit_reason,
                "filled": _order_json(order)})
        if legs:
            route = trade.get_custom_data(ROUTE_KEY) or []
            route.append({"order": _order_json(order), "legs": legs})
            trade.set_custom_data(ROUTE_KEY, route)


def _order_json(order: Any) -> dict[str, Any]:
    return {"id": order.order_id, "side": order.ft_order_side,
            "amount": order.safe_filled, "price": order.safe_price,
            "filled_at": order.order_filled_utc.isoformat() if order.order_filled_utc else None}
