"""``CarryLegs``: the spot leg follows the perp - both legs or neither, never a leg twice.

A scripted hedge (hand-written, answers as the real one does) and plain trade objects; the
clock is injected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.settings import CentaurConfigError
from centaur.state import StateStore
from sor_exchange.hedge_leg import HedgeRequest, HedgeResult
from strategies.carry_legs import PENDING_FLATTEN, CarryLegs

T0 = datetime(2025, 6, 1, tzinfo=UTC)


@dataclass
class FakeTrade:
    id: int
    pair: str = "BTC/USDT:USDT"
    amount: float = 0.5
    open_rate: float = 100.0
    close_rate: float | None = None
    is_open: bool = True
    has_open_orders: bool = False
    entry_side: str = "sell"
    exit_side: str = "buy"
    open_date_utc: datetime = T0


@dataclass
class FakeOrder:
    ft_order_side: str
    safe_filled: float
    safe_price: float = 100.0


@dataclass
class ScriptedHedge:
    """Answers from a script per action (default: filled); keeps what it recorded."""

    script: dict[str, list[str]] = field(default_factory=dict)
    recorded: dict[tuple[int, str], HedgeResult] = field(default_factory=dict)
    sent: list[HedgeRequest] = field(default_factory=list)
    stored_unresolved: list[tuple[int, str]] = field(default_factory=list)
    raises: Exception | None = None

    def execute(self, request: HedgeRequest) -> HedgeResult:
        if self.raises is not None:
            raise self.raises
        done = self.recorded.get((request.trade_id, request.action))
        if done is not None and done.done:
            return done
        self.sent.append(request)
        status = (self.script.get(request.action) or ["filled"]).pop(0) \
            if self.script.get(request.action) else "filled"
        filled = request.base_amount if status == "filled" else 0.0
        result = HedgeResult(request, f"cid-{request.trade_id}-{request.action}", status,
                             filled, 100.0 if filled else 0.0, 0.0,
                             "" if status == "filled" else f"venue says {status}")
        self.recorded[(request.trade_id, request.action)] = result
        return result

    def legs(self, trade_id: int) -> dict[str, HedgeResult]:
        return {a: r for (t, a), r in self.recorded.items() if t == trade_id}

    def open_hedges(self) -> list[HedgeResult]:
        return [r for (t, a), r in self.recorded.items() if a == "open" and r.filled_base > 0
                and not ((t, "close") in self.recorded and self.recorded[(t, "close")].done)]

    def unresolved(self) -> list[tuple[int, str]]:
        return list(self.stored_unresolved)


class FakeTrades:
    def __init__(self, *trades: FakeTrade):
        self.trades = {t.id: t for t in trades}

    def open(self):
        return [t for t in self.trades.values() if t.is_open]

    def by_id(self, trade_id: int):
        return self.trades.get(trade_id)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def make(hedge: ScriptedHedge, *trades: FakeTrade) -> tuple[CarryLegs, EventSink, Clock]:
    events, clock = EventSink(StateStore()), Clock()
    return CarryLegs(hedge, FakeTrades(*trades), events, clock), events, clock


def codes(events: EventSink) -> list[str]:
    return [e["code"] for e in events.recent(50)]


def test_an_entry_fill_buys_the_same_quantity_and_an_exit_fill_sells_it():
    trade, hedge = FakeTrade(1), ScriptedHedge()
    legs, events, _ = make(hedge, trade)
    legs.on_fill(trade, FakeOrder("sell", 0.5))
    assert [(r.action, r.base_amount) for r in hedge.sent] == [("open", 0.5)]
    assert legs.must_flatten(1) is None
    trade.is_open = False  # live: freqtrade closed the trade before the callback
    legs.on_fill(trade, FakeOrder("buy", 0.5))
    assert [(r.action, r.base_amount) for r in hedge.sent] == [("open", 0.5), ("close", 0.5)]
    legs.reconcile()
    assert len(hedge.sent) == 2 and not codes(events)  # nothing sent twice, nothing to say


def test_a_backtest_exit_fill_sells_before_freqtrade_closes_the_trade():
    trade, hedge = FakeTrade(1), ScriptedHedge()
    legs, _, _ = make(hedge, trade)
    legs.on_fill(trade, FakeOrder("sell", 0.5))
    legs.on_fill(trade, FakeOrder("buy", 0.5))  # still is_open: the fill covers the amount
    assert hedge.sent[-1].action == "close"


def test_a_rejected_hedge_flattens_the_perp_and_alerts_once():
    trade, hedge = FakeTrade(1), ScriptedHedge(script={"open": ["rejected"] * 5})
    legs, events, _ = make(hedge, trade)
    legs.on_fill(trade, FakeOrder("sell", 0.5))
    assert legs.must_flatten(1) == "venue says rejected"
    legs.reconcile()
    legs.reconcile()
    assert codes(events) == [ReasonCode.HEDGE_FAILED]


def test_a_pending_answer_is_asked_again_and_flattens_only_when_it_stays_unknown():
    trade = FakeTrade(1)
    hedge = ScriptedHedge(script={"open": ["pending", "pending", "pending"]})
    legs, events, clock = make(hedge, trade)
    legs.on_fill(trade, FakeOrder("sell", 0.5))
    assert legs.must_flatten(1) is None  # not yet: it may have filled
    clock.now += timedelta(seconds=30)
    legs.reconcile()
    assert legs.must_flatten(1) is None
    clock.now += PENDING_FLATTEN
    legs.reconcile()
    assert legs.must_flatten(1) == "the spot leg's answer is still unknown"
    assert codes(events) == [ReasonCode.HEDGE_PENDING]


def test_a_pending_answer_that_resolves_keeps_the_carry():
    trade = FakeTrade(1)
    hedge = ScriptedHedge(script={"open": ["pending", "filled"]})
    legs, _, _ = make(hedge, trade)
    legs.on_fill(trade, FakeOrder("sell", 0.5))
    legs.reconcile()
    assert legs.must_flatten(1) is None and not legs.pending


def test_an_open_perp_without_a_leg_is_flattened_and_an_orphan_leg_is_sold():
    unhedged, closed = FakeTrade(1), FakeTrade(2, is_open=False, close_rate=101.0)
    hedge = ScriptedHedge()
    legs, _, _ = make(hedge, unhedged, closed)
    hedge.execute(HedgeRequest(2, closed.pair, "open", 0.5, 100.0))  # its perp is gone
    legs.reconcile()
    assert legs.must_flatten(1) == "no filled spot leg for this open perp"
    assert hedge.sent[-1].action == "close" and hedge.sent[-1].trade_id == 2
    assert not hedge.open_hedges()


def test_a_partial_exit_and_a_raising_hedge_flatten_the_perp():
    trade, hedge = FakeTrade(1), ScriptedHedge()
    legs, events, _ = make(hedge, trade)
    legs.on_fill(trade, FakeOrder("sell", 0.5))
    legs.on_fill(trade, FakeOrder("buy", 0.2))
    assert "partial exit" in legs.must_flatten(1)
    other, broken = FakeTrade(2), ScriptedHedge(raises=RuntimeError("bug"))
    legs, events, _ = make(broken, other)
    legs.on_fill(other, FakeOrder("sell", 0.5))
    assert "raised" in legs.must_flatten(2)
    assert codes(events) == [ReasonCode.HEDGE_PENDING]


def test_after_a_restart_unresolved_legs_are_asked_first_and_strangers_stop_it():
    trade = FakeTrade(1, is_open=False, close_rate=99.0)
    hedge = ScriptedHedge(stored_unresolved=[(1, "open")])
    legs, _, _ = make(hedge, trade)
    legs.load_unresolved()
    legs.reconcile()  # resolved filled; its perp is closed: sold
    assert [r.action for r in hedge.sent] == ["open", "close"]
    stranger = ScriptedHedge(stored_unresolved=[(7, "open")])
    legs, _, _ = make(stranger, trade)
    with pytest.raises(CentaurConfigError, match="another database"):
        legs.load_unresolved()
