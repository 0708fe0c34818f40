"""The operator's override commands, shared by Telegram and the REST API.

Kill switch: halt with flattening (entries blocked until resume, shown as a lock), cancel
every trade's open orders, and ask the exchange class to cancel any remaining venue orders
(the order router's child orders); the open trades then exit on the bot's next loop through
the risk layer's ``custom_exit``, so each exit carries the halt's code (``KILL_SWITCH``) as
its exit reason. Resume: clear the operator halts (kill switch, max drawdown) - and the timed
ones (daily drawdown, error rate) when asked - with freqtrade's locks for them. State reset:
the operator's explicit fresh start after ``STATE_LOST`` / ``STATE_CORRUPT``. Interventions
(the LLM breaker's or an operator's) can be listed and revoked. A forced entry the suite
denies answers with the denial's reason code.
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
    running = bot.state.name == "RUNNING"
    cancelled = _cancel_open_orders(rpc) if running else []
    exits = (f"open trades exit on the next loop with exit reason {halt.source}" if running
             else "bot not running: no exits placed")
    cancel_venues = getattr(bot.exchange, "cancel_all_open_orders", None)
    venue_orders = cancel_venues() if callable(cancel_venues) else []
    return {"halted": halt.lock_reason, "since": halt.since.isoformat(), "exits": exits,
            "orders_cancelled_for_trades": cancelled,
            "venue_orders_cancelled": len(venue_orders)}


def _cancel_open_orders(rpc: Any) -> list[int]:
    from freqtrade.persistence import Trade

    cancelled = []
    for trade in Trade.get_open_trades():
        if trade.has_open_orders:
            rpc._rpc_cancel_open_order(trade.id)
            cancelled.append(trade.id)
    return cancelled


def resume(rpc: Any, by: str, include_timed: bool = False, now: datetime | None = None
           ) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    strategy = _strategy(rpc)
    cleared = strategy.resume(now, by, include_timed)
    return _halts_after(strategy, cleared, now)


def state_reset(rpc: Any, by: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    strategy = _strategy(rpc)
    cleared = strategy.state_reset(now, by)
    return _halts_after(strategy, cleared, now)


def denied_entry_message(bot: Any, pair: str, message: str) -> str:
    """freqtrade's "Failed to enter position" completed with the suite's reason code."""
    last_denial = getattr(getattr(bot, "strategy", None), "last_denial", None)
    denial = last_denial(pair) if callable(last_denial) else None
    if denial is None:
        return message
    return f"{message} Denied: [{denial.reason}] {denial.detail}".strip()


def forget_denial(bot: Any, pair: str) -> None:
    forget = getattr(getattr(bot, "strategy", None), "forget_denial", None)
    if callable(forget):
        forget(pair)


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


def _halts_after(strategy: Any, cleared: list, now: datetime) -> dict[str, list[str]]:
    """What an operator command cleared and what still halts, as text and as reason codes."""
    return {"cleared": [h.lock_reason for h in cleared],
            "cleared_codes": [str(h.source) for h in cleared],
            "still_halted": strategy.active_halt_reasons(now),
            "still_halted_codes": strategy.active_halt_codes(now)}
