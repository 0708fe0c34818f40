"""The decision trail: assembled at confirmation, written on the trade's custom_data at fill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freqtrade.persistence import Order, Trade, init_db

from centaur.decision import Decision, ReasonCode
from centaur.pipeline import EntryProposal
from centaur.signal_stats import SignalStats
from strategies.decision_trail import ENTRY_KEY, EXIT_KEY, ROUTE_KEY, DecisionTrail, entry_trail

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.fixture
def trade():
    init_db("sqlite://")
    trade = Trade(pair="ETH/USDT:USDT", stake_amount=100.0, amount=0.05, open_rate=2000.0,
                  open_date=NOW, fee_open=0.0005, fee_close=0.0005, exchange="binance",
                  is_short=True, leverage=2.0, trading_mode="futures", enter_tag="ens")
    Trade.session.add(trade)
    Trade.commit()
    yield trade
    Trade.session.remove()


def _order(trade, side: str, order_id: str) -> Order:
    order = Order(ft_trade_id=trade.id, ft_order_side=side, ft_pair=trade.pair,
                  ft_is_open=False, order_id=order_id, status="closed", amount=0.05,
                  filled=0.05, average=2000.0, price=2000.0, order_type="limit", side=side,
                  order_filled_date=NOW)
    trade.orders.append(order)
    return order


def _trail() -> dict:
    proposal = EntryProposal("ETH/USDT:USDT", "short", "ens", ("basis", "funding"), 0.7,
                             SignalStats(0.55, 1.2, 40), NOW - timedelta(minutes=5), NOW, 2000.0)
    return entry_trail(proposal, gates=["halts", "llm_veto"],
                       weights={"basis": 0.6, "funding": 0.4, "other": 0.1},
                       sizing={"stake_usd": 100.0, "binding_cap": "NONE"},
                       veto=Decision(True, ReasonCode.LLM_REDUCE, "crowded shorts", scale=0.5),
                       amount=0.05, rate=2000.0, confirmed_at=NOW)


def test_entry_trail_names_voters_with_weights_sizing_and_the_veto():
    trail = _trail()
    assert trail["proposal"]["voters"] == [{"signal": "basis", "weight": 0.6},
                                           {"signal": "funding", "weight": 0.4}]
    assert trail["proposal"]["measured"] == {"win_rate": 0.55, "payoff_ratio": 1.2, "samples": 40}
    assert trail["veto"] == {"allowed": True, "reason": "LLM_REDUCE", "detail": "crowded shorts",
                             "scale": 0.5}
    assert trail["order"]["notional_usd"] == 100.0


def test_trail_is_written_on_the_entry_fill_only(trade):
    trail = DecisionTrail()
    trail.confirmed("ETH/USDT:USDT", "short", _trail())
    assert trade.get_custom_data(ENTRY_KEY) is None  # confirmed is not filled
    trail.on_fill(trade, _order(trade, "sell", "e1"), None)
    stored = trade.get_custom_data(ENTRY_KEY)
    assert stored["proposal"]["tag"] == "ens" and stored["veto"]["reason"] == "LLM_REDUCE"
    # a second entry fill (position adjustment) without a new confirmation keeps the first
    trail.on_fill(trade, _order(trade, "sell", "e2"), None)
    assert trade.get_custom_data(ENTRY_KEY)["confirmed_at"] == NOW.isoformat()


def test_router_legs_and_exit_are_appended(trade):
    trail = DecisionTrail()
    legs = [{"venue": "binance", "amount": 0.03, "price": 2000.0, "fee_quote": 0.03,
             "slippage_bps": 1.2, "client_order_id": "x1"},
            {"venue": "okx", "amount": 0.02, "price": 2000.5, "fee_quote": 0.02,
             "slippage_bps": 2.0, "client_order_id": "x2"}]
    trail.on_fill(trade, _order(trade, "sell", "sor-1"), legs)
    trade.exit_reason = "CARRY_FUNDING_FLIP"
    trail.on_fill(trade, _order(trade, "buy", "sor-2"), legs[:1])
    route = trade.get_custom_data(ROUTE_KEY)
    assert [len(r["legs"]) for r in route] == [2, 1]
    assert sum(leg["amount"] for leg in route[0]["legs"]) == pytest.approx(0.05)
    assert trade.get_custom_data(EXIT_KEY)["reason"] == "CARRY_FUNDING_FLIP"


def test_a_failing_trail_write_never_raises_into_the_fill(trade, monkeypatch):
    trail = DecisionTrail()
    trail.confirmed("ETH/USDT:USDT", "short", _trail())

    def broken_legs(order_id: str) -> list:
        raise RuntimeError("fills log unreadable")

    trail.write(trade, _order(trade, "sell", "sor-9"), broken_legs)  # logged, not raised
    assert trade.get_custom_data(ENTRY_KEY)["proposal"]["tag"] == "ens"  # the rest is kept
    assert trade.get_custom_data(ROUTE_KEY) is None

    def broken_store(key, value):
        raise RuntimeError("database locked")

    monkeypatch.setattr(trade, "set_custom_data", broken_store)
    trail.write(trade, _order(trade, "buy", "e-exit"), None)  # logged, not raised


def test_the_trail_travels_to_hyperopt_workers():
    import pickle

    trail = DecisionTrail()
    trail.confirmed("ETH/USDT:USDT", "short", {"x": 1})
    copy = pickle.loads(pickle.dumps(trail))
    copy.confirmed("BTC/USDT:USDT", "long", {"y": 2})  # its lock works
    assert len(copy._pending) == 2
