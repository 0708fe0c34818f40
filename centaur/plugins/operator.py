"""The operator's override commands, shared by Telegram and the REST API.

Kill switch: halt (entries blocked until resume, shown as a lock), then exit every open trade
(freqtrade cancels each trade's open orders first), then ask the exchange class to cancel
any remaining venue orders (the order router's child orders). Resume: clear the operator
halts (kill switch, max drawdown) - and the timed ones (daily drawdown, error rate) when asked.
Interventions (the LLM breaker's or an operator's) can be listed and revoked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class OperatorError(Exception):
    """The command cannot run on this bot; the message says why."""


def _strategy(rpc: Any) -> Any:
    bot = getattr(rpc, "_freqtrade", None)
    strategy = getattr(bot, "strategy", None)
    if strategy is None or not hasattr(strategy, "kill_switch"):
        raise OperatorError("this bot's strategy has no Centaur risk layer")
    return strategy


def kill_switch(rpc: Any, by: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    strategy = _strategy(rpc)
    halt = strategy.kill_switch(now, by)
    bot = rpc._freqtrade
    exits = rpc._rpc_force_exit("all")["result"] if bot.state.name == "RUNNING" else \
        "bot not running: no exits placed"
    cancel_venues = getattr(bot.exchange, "cancel_all_open_orders", None)
    venue_orders = cancel_venues() if callable(cancel_venues) else []
    return {"halted": halt.lock_reason, "since": halt.since.isoformat(), "exits": exits,
            "venue_orders_cancelled": len(venue_orders)}


def resume(rpc: Any, by: str, include_timed: bool = False, now: datetime | None = None
           ) -> dict[str, Any]:
    cleared = _strategy(rpc).resume(now or datetime.now(UTC), by, include_timed)
    return {"cleared": [h.lock_reason for h in cleared]}


def interventions(rpc: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    book = _strategy(rpc).interventions
    return [i.to_json() for i in book.active(now or datetime.now(UTC))]


def revoke(rpc: Any, intervention_id: str, by: str, now: datetime | None = None
           ) -> dict[str, Any]:
    strategy = _strategy(rpc)
    revoked = strategy.interventions.revoke(intervention_id, now or datetime.now(UTC))
    if revoked is None:
        raise OperatorError(f"no intervention with id {intervention_id!r}")
    return {"revoked": revoked.to_json(), "by": by}
