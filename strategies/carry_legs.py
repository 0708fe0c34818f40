"""Rule: the spot leg follows the perp - both legs or neither, never a leg twice.

``CarryLegs`` is called from the strategy's ``order_filled`` and at the start of every loop:

- the perp's entry fill buys the spot leg (same base quantity, client id from the trade's id
  and open time); a leg that is not filled flattens the perp (``must_flatten``), at once when
  rejected, after ``PENDING_FLATTEN`` when its answer stays unknown;
- the exit fill that closes the perp sells the leg; a partial exit flattens the rest (the
  legs no longer match);
- every loop: unknown answers are asked again by their client id; an open perp without a
  filled leg and no answer pending is flattened; a leg whose perp is closed (a stop, a
  liquidation, a failed sell) is sold;
- after a restart (``load_unresolved``) legs written as intents or left pending are asked
  again first; a leg naming a trade the database does not hold stops the start-up.

Alerts are operator events (``HEDGE_FAILED``, ``HEDGE_PENDING``, critical), one per state.
Time, trades and the hedge are injected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings import CentaurConfigError
from sor_exchange.hedge_leg import HedgeRequest, HedgeResult

logger = logging.getLogger(__name__)

PENDING_FLATTEN = timedelta(seconds=60)  # an unknown answer this old: flatten the perp


class Hedge(Protocol):
    def execute(self, request: HedgeRequest) -> HedgeResult: ...

    def legs(self, trade_id: int) -> dict[str, HedgeResult]: ...

    def open_hedges(self) -> list[HedgeResult]: ...

    def unresolved(self) -> list[tuple[int, str]]: ...


class Trades(Protocol):
    """freqtrade's trades: the open ones, and any by id."""

    def open(self) -> Iterable[Any]: ...

    def by_id(self, trade_id: int) -> Any | None: ...


class CarryLegs:
    """The hedge's legs kept in step with freqtrade's perp trades."""

    def __init__(self, hedge: Hedge, trades: Trades, events: EventSink,
                 clock: Callable[[], datetime]):
        self.hedge = hedge
        self._trades = trades
        self._events = events
        self._clock = clock
        self.unhedged: dict[int, str] = {}  # trade id -> why its perp is flattened
        self.pending: dict[tuple[int, str], tuple[HedgeRequest, datetime]] = {}
        self._alerted: set[tuple[int, str, str, str]] = set()

    def clear(self) -> None:
        self.unhedged.clear()
        self.pending.clear()
        self._alerted.clear()

    # --- fills ----------------------------------------------------------------------------

    def on_fill(self, trade: Any, order: Any) -> None:
        """The perp filled ``order``; errors are caught here (freqtrade would swallow them)."""
        entry = order.ft_order_side == trade.entry_side
        try:
            if entry:
                self._execute(request_for(trade, "open", float(order.safe_filled),
                                          float(order.safe_price)))
            elif closes(trade, order):
                self._sell(trade, float(order.safe_price))
            else:
                self.unhedged[int(trade.id)] = "a partial exit of the perp: both legs close"
        except Exception as err:  # noqa: BLE001 - the leg's outcome is unknown
            logger.exception("[%s] trade %s: the hedge raised", ReasonCode.HEDGE_PENDING,
                             trade.id)
            self._alert(trade, "open" if entry else "close", "pending",
                        f"the hedge raised {err!r}")
            if entry:
                self.unhedged[int(trade.id)] = f"the hedge raised {err!r}"

    def must_flatten(self, trade_id: int) -> str | None:
        return self.unhedged.get(trade_id)

    # --- every loop -------------------------------------------------------------------------

    def reconcile(self) -> None:
        now = self._clock()
        for (trade_id, _), (request, since) in list(self.pending.items()):
            result = self._execute(request)
            if result.status == "pending" and now - since > PENDING_FLATTEN:
                self.unhedged.setdefault(trade_id, "the spot leg's answer is still unknown")
        pending_opens = {trade_id for trade_id, action in self.pending if action == "open"}
        open_ids = set()
        for trade in self._trades.open():
            trade_id = int(trade.id)
            open_ids.add(trade_id)
            opened = self.hedge.legs(trade_id).get("open")
            if (opened is None or not opened.done) and trade_id not in pending_opens \
                    and not trade.has_open_orders:
                self.unhedged.setdefault(trade_id, "no filled spot leg for this open perp")
        for leg in self.hedge.open_hedges():
            trade_id = leg.request.trade_id
            if trade_id in open_ids or (trade_id, "close") in self.pending:
                continue
            trade = self._trades.by_id(trade_id)
            if trade is not None:
                self._sell(trade, float(trade.close_rate or leg.average_price))

    def load_unresolved(self) -> None:
        """After a restart: legs whose outcome is unknown are asked again first."""
        for trade_id, action in self.hedge.unresolved():
            trade = self._trades.by_id(trade_id)
            if trade is None:
                raise CentaurConfigError(
                    f"the hedge's legs file has an unresolved {action} leg of trade {trade_id}, "
                    "which this trade database does not hold: it belongs to another database. "
                    "Fix: resolve that leg on the venue by hand, then move the legs file away.")
            opened = self.hedge.legs(trade_id).get("open")
            amount = opened.filled_base if action == "close" and opened else float(trade.amount)
            request = request_for(trade, action, amount, float(trade.open_rate))
            self.pending[(trade_id, action)] = (request, self._clock())

    # --- one leg ------------------------------------------------------------------------------

    def _sell(self, trade: Any, price: float) -> None:
        opened = self.hedge.legs(int(trade.id)).get("open")
        if opened is not None and opened.filled_base > 0:
            self._execute(request_for(trade, "close", opened.filled_base, price))

    def _execute(self, request: HedgeRequest) -> HedgeResult:
        result = self.hedge.execute(request)
        key = (request.trade_id, request.action)
        if result.status == "pending":
            self.pending.setdefault(key, (request, self._clock()))
        else:
            self.pending.pop(key, None)
        if not result.done:
            trade = self._trades.by_id(request.trade_id)
            if trade is not None:
                self._alert(trade, request.action, result.status, result.reason)
            if request.action == "open" and result.status != "pending":
                self.unhedged[request.trade_id] = result.reason or result.status
        return result

    def _alert(self, trade: Any, action: str, status: str, reason: str) -> None:
        said = (int(trade.id), action, status, reason)
        if said in self._alerted:  # asked again every loop: one alert per state
            return
        self._alerted.add(said)
        code = ReasonCode.HEDGE_PENDING if status == "pending" else ReasonCode.HEDGE_FAILED
        self._events.emit(OperatorEvent(
            self._clock(), Severity.CRITICAL, code,
            f"spot {action} leg of trade {trade.id} {status}: {reason}; "
            + next_step(action, status, reason), pair=trade.pair))

    def status(self) -> dict[str, Any]:
        return {
            "hedges_open": [{"trade_id": leg.request.trade_id, "pair": leg.request.perp_pair,
                             "spot_base": leg.filled_base, "spot_price": leg.average_price,
                             "client_order_id": leg.client_order_id}
                            for leg in self.hedge.open_hedges()],
            "hedge_failures": {str(k): v for k, v in self.unhedged.items()},
            "hedges_pending": [f"{t}:{a}" for t, a in self.pending],
        }


def request_for(trade: Any, action: str, base_amount: float, price: float) -> HedgeRequest:
    """The leg's request; the trade's open time keys its client id beyond the trade id."""
    opened = int(trade.open_date_utc.timestamp())
    return HedgeRequest(int(trade.id), trade.pair, action, base_amount, price, key=str(opened))


def closes(trade: Any, order: Any) -> bool:
    """An exit fill that closes the trade (freqtrade's backtest calls ``order_filled``
    before it closes the trade, live after)."""
    return not trade.is_open or float(order.safe_filled) >= float(trade.amount) * (1 - 1e-9)


def next_step(action: str, status: str, reason: str) -> str:
    """What happens next, for the operator reading the alert."""
    if status == "pending":
        return "asked again every loop by its client id"
    if action == "open":
        return "the perp is flattened"
    if reason == "partial":  # the venue finished the order: its id is spent
        return "the rest of the spot is held unhedged: OPERATOR, sell it on the venue"
    return "sent again every loop until the spot is sold"
