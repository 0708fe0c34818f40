"""The suite's exchange class routing live orders across three local venues through ccxt.

Freqtrade's ``ExchangeResolver`` builds ``CentaurBinance`` (live mode, markets loaded from the
local Binance venue); extra venues are ccxt's ``bybit`` and ``okx`` on their local venues.
Faults are injected at the venues; assertions are on the venues' own order books (what was
really sent), the router's journal and the fills log. Time is an injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freqtrade.exceptions import InsufficientFundsError

from centaur.settings import CentaurConfigError
from sor_exchange.client_ids import CLIENT_ID_FORMATS
from sor_exchange.routed import is_composite
from tests.fakes.sor_venues import (PAIR, build_exchange, inject, router_config,
                                    three_venues, venue_environment, venue_orders)


WALLET = {"wallet_usdt": 5_000_000.0}
CHEAP_BYBIT = {"venues": {"bybit": {"taker_fee_ratio": 0.0002}}}  # steers size to bybit
CHEAP_OKX = {"venues": {"okx": {"taker_fee_ratio": 0.0002}}}


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def venues():
    with three_venues(binance=WALLET, bybit=WALLET, okx=WALLET) as running:
        yield running


@pytest.fixture
def make(venues, tmp_path, monkeypatch):
    for name, value in venue_environment().items():
        monkeypatch.setenv(name, value)
    built = []

    def factory(router: dict | None = None, live: bool = True):
        config = router_config(venues, tmp_path, live=live, router=router)
        exchange = build_exchange(config, "live" if live else "dry_run")
        exchange._sor_clock = Clock()
        built.append(exchange)
        return exchange

    yield factory
    for exchange in built:
        exchange.close()


def _children(order: dict) -> list[dict]:
    return order["info"]["sor"]["children"]


def _sent(venues, order: dict) -> dict[str, list[dict]]:
    """What each venue really holds for this parent (by its children's client ids)."""
    ids = {c["client_order_id"] for c in _children(order)}
    return {name: [o for o in venue_orders(v) if o["client_order_id"] in ids]
            for name, v in venues.items()}


def _buy(exchange, amount: float, ordertype: str = "market", rate: float | None = None,
         reduce_only: bool = False, side: str = "buy") -> dict:
    book = exchange.fetch_l2_order_book(PAIR, 5)
    price = rate or (book["asks"][0][0] if side == "buy" else book["bids"][0][0])
    return exchange.create_order(pair=PAIR, ordertype=ordertype, side=side, amount=amount,
                                 rate=price, leverage=1.0, reduceOnly=reduce_only)


@pytest.mark.slow
def test_one_freqtrade_order_aggregates_children_on_several_venues(venues, make):
    exchange = make(CHEAP_OKX)
    order = _buy(exchange, 3.0)
    assert is_composite(order["id"]) and order["status"] == "closed"
    sent = _sent(venues, order)
    used = [name for name, orders in sent.items() if orders]
    assert len(used) >= 2, sent
    venue_filled = sum(o["filled"] for orders in sent.values() for o in orders)
    venue_cost = sum(o["filled"] * o["average"] for orders in sent.values() for o in orders)
    assert order["filled"] == pytest.approx(3.0) == pytest.approx(venue_filled)
    assert order["average"] == pytest.approx(venue_cost / venue_filled)
    assert order["fee"]["cost"] == pytest.approx(sum(c["fee_quote"] for c in _children(order)))
    for child in _children(order):
        assert CLIENT_ID_FORMATS[child["venue"]].valid(child["client_order_id"])
    rows = exchange._sor_fills.rows()
    assert {r["venue"] for r in rows} == set(used)
    assert sum(r["amount"] for r in rows) == pytest.approx(3.0)
    assert all(r["parent_order_id"] == order["id"] and r["arrival_mid"] > 0 for r in rows)
    assert exchange.fetch_order(order["id"], PAIR)["filled"] == pytest.approx(3.0)


@pytest.mark.slow
def test_a_response_lost_after_the_venue_accepted_never_becomes_a_duplicate(venues, make):
    exchange = make(CHEAP_BYBIT)
    inject(venues["bybit"], [{"method": "POST", "path": "/v5/order/create",
                              "action": "drop_after_accept"}])
    order = _buy(exchange, 2.0)
    bybit_child = next(c for c in _children(order) if c["venue"] == "bybit")
    assert "NetworkError" in bybit_child["error"] or "Error" in bybit_child["error"]
    held = [o for o in venue_orders(venues["bybit"])
            if o["client_order_id"] == bybit_child["client_order_id"]]
    assert len(held) == 1, "the venue must hold the child exactly once"
    assert bybit_child["state"] == "closed" and bybit_child["venue_order_id"] == \
        str(held[0]["order_id"])
    assert order["filled"] == pytest.approx(2.0)
    assert sum(o["filled"] for orders in _sent(venues, order).values() for o in orders) == \
        pytest.approx(2.0), "nothing was re-sent elsewhere"


@pytest.mark.slow
def test_a_timed_out_child_is_held_until_the_venue_answers_for_it(venues, make):
    exchange = make({**CHEAP_OKX, "request_timeout_secs": 1.0, "in_flight_window_secs": 10})
    inject(venues["okx"], [{"method": "POST", "path": "/api/v5/trade/batch-orders",
                            "action": "delay", "value": 2.5}])
    order = _buy(exchange, 2.0)
    okx_child = next(c for c in _children(order) if c["venue"] == "okx")
    assert okx_child["state"] == "unknown" and order["status"] == "open"
    assert sum(c["amount_base"] for c in _children(order)) == pytest.approx(2.0), \
        "the held amount must not be routed elsewhere"
    _wait_for_order(venues["okx"], okx_child["client_order_id"])
    exchange._sor_clock.advance(11)
    final = exchange.fetch_order(order["id"], PAIR)
    assert final["status"] == "closed" and final["filled"] == pytest.approx(2.0)
    assert next(c for c in _children(final) if c["venue"] == "okx")["state"] == "closed"


def _wait_for_order(venue, client_order_id: str) -> None:
    from tests.support.processes import wait_until

    wait_until(lambda: any(o["client_order_id"] == client_order_id for o in venue_orders(venue)),
               15, f"the delayed order {client_order_id} to reach the venue", interval=0.2)


@pytest.mark.slow
def test_a_failing_venue_cools_down_and_its_share_is_rerouted(venues, make):
    exchange = make(CHEAP_OKX)
    inject(venues["okx"], [{"method": "POST", "path": "/api/v5/trade/batch-orders",
                            "action": "error_500"}])
    order = _buy(exchange, 2.0)
    assert order["status"] == "closed" and order["filled"] == pytest.approx(2.0)
    assert _sent(venues, order)["okx"] == []
    assert [c["state"] for c in _children(order) if c["venue"] == "okx"] == ["lost"]
    router = exchange.order_router
    assert "okx" in router.executor.health.excluded(exchange._sor_clock())
    assert _sent(venues, _buy(exchange, 1.0))["okx"] == [], "still cooling down"
    exchange._sor_clock.advance(61)
    assert _sent(venues, _buy(exchange, 1.0))["okx"], "back after the cool-down"


@pytest.mark.parametrize(("fault", "cools_down"), [
    ({"action": "reject", "value": "min_notional"}, False),
    ({"action": "reject", "value": "insufficient_margin"}, False),
    ({"action": "rate_limit"}, True),
])
@pytest.mark.slow
def test_rejects_and_rate_limits_are_rerouted(venues, make, fault, cools_down):
    exchange = make(CHEAP_BYBIT)
    inject(venues["bybit"], [{"method": "POST", "path": "/v5/order/create", **fault}])
    order = _buy(exchange, 2.0)
    assert order["filled"] == pytest.approx(2.0) and order["status"] == "closed"
    bybit = [c for c in _children(order) if c["venue"] == "bybit"]
    assert bybit[0]["state"] == "rejected" and _sent(venues, order)["bybit"] == []
    excluded = exchange.order_router.executor.health.excluded(exchange._sor_clock())
    assert ("bybit" in excluded) is cools_down


@pytest.mark.slow
def test_every_venue_refusing_raises_freqtrades_error(venues, make):
    exchange = make()
    for name, path in (("binance", "/fapi/v1/order"), ("bybit", "/v5/order/create"),
                       ("okx", "/api/v5/trade/batch-orders")):
        inject(venues[name], [{"method": "POST", "path": path, "action": "reject",
                               "value": "insufficient_margin", "times": 10}])
    try:
        with pytest.raises(InsufficientFundsError):
            _buy(exchange, 1.0)
    finally:
        for venue in venues.values():
            inject(venue, [])


@pytest.mark.slow
def test_a_partial_fill_is_completed_elsewhere(venues, make):
    exchange = make(CHEAP_BYBIT)
    inject(venues["bybit"], [{"method": "POST", "path": "/v5/order/create",
                              "action": "partial_fill", "value": 0.4}])
    order = _buy(exchange, 2.0)
    bybit = next(c for c in _children(order) if c["venue"] == "bybit")
    assert 0 < bybit["filled_base"] < bybit["amount_base"]
    assert order["filled"] == pytest.approx(2.0) and order["status"] == "closed"
    assert len(_children(order)) > len({c["venue"] for c in _children(order)}) or \
        sum(c["filled_base"] for c in _children(order) if c["venue"] != "bybit") > \
        2.0 - bybit["amount_base"]


@pytest.mark.slow
def test_limit_first_entries_take_the_market_after_the_timeout(venues, make):
    exchange = make({"limit_first": True, "limit_first_timeout_secs": 30})
    bid = exchange.fetch_l2_order_book(PAIR, 5)["bids"][2][0]
    order = _buy(exchange, 1.0, ordertype="limit", rate=bid)
    assert order["status"] == "open" and order["filled"] == 0
    resting = _children(order)
    assert resting and all(c["time_in_force"] == "GTC" and c["state"] == "open" for c in resting)
    exchange._sor_clock.advance(29)
    assert exchange.fetch_order(order["id"], PAIR)["status"] == "open"
    exchange._sor_clock.advance(2)
    final = exchange.fetch_order(order["id"], PAIR)
    assert final["status"] == "closed" and final["filled"] == pytest.approx(1.0)
    sent = _sent(venues, final)
    assert all(o["status"] == "canceled" for orders in sent.values() for o in orders
               if o["client_order_id"] in {c["client_order_id"] for c in resting})
    assert any("timeout" in d for d in final["info"]["sor"]["decisions"])


@pytest.mark.slow
def test_exits_reduce_the_positions_where_they_are(venues, make):
    exchange = make(CHEAP_OKX)
    entry = _buy(exchange, 2.0)
    held = {}
    for child in _children(entry):
        held[child["venue"]] = held.get(child["venue"], 0.0) + child["filled_base"]
    exit_order = _buy(exchange, 2.0, side="sell", reduce_only=True)
    assert exit_order["filled"] == pytest.approx(2.0)
    for child in _children(exit_order):
        assert child["filled_base"] <= held[child["venue"]] + 1e-9
    assert all(abs(p) < 1e-9 for p in exchange.order_router.journal.net_position(PAIR).values())


@pytest.mark.slow
def test_kill_switch_cancels_open_orders_on_every_venue(venues, make):
    exchange = make({"limit_first": True, "limit_first_timeout_secs": 600})
    bid = exchange.fetch_l2_order_book(PAIR, 5)["bids"][3][0]
    order = _buy(exchange, 1.0, ordertype="limit", rate=bid)
    outside = exchange.order_router.gateways["okx"].place(
        PAIR, "buy", 0.05, bid, "limit", "GTC", "ctrPlacedByHand", False)
    cancelled = exchange.cancel_all_open_orders()
    ids = {(c["venue"], c["venue_order_id"]) for c in cancelled}
    for child in _children(exchange.fetch_order(order["id"], PAIR)):
        assert (child["venue"], child["venue_order_id"]) in ids
        assert child["state"] == "canceled"
    assert ("okx", outside.venue_order_id) in ids
    assert all(o["status"] != "open" for v in venues.values() for o in venue_orders(v))
    assert exchange.fetch_order(order["id"], PAIR)["status"] == "canceled"


@pytest.mark.slow
def test_cancel_order_cancels_the_children(venues, make):
    exchange = make({"limit_first": True, "limit_first_timeout_secs": 600})
    bid = exchange.fetch_l2_order_book(PAIR, 5)["bids"][3][0]
    order = _buy(exchange, 1.0, ordertype="limit", rate=bid)
    cancelled = exchange.cancel_order(order["id"], PAIR)
    assert cancelled["status"] == "canceled" and cancelled["filled"] == 0
    assert all(o["status"] == "canceled" for orders in _sent(venues, order).values()
               for o in orders)


@pytest.mark.slow
def test_balances_are_summed_over_venues(venues, make):
    exchange = make()
    total = exchange.get_balances()["USDT"]["total"]
    wallets = sum(v.state.engine.account.wallet for v in venues.values())
    assert total > max(v.state.engine.account.wallet for v in venues.values()) * 2
    # Binance reports its margin balance (wallet plus unrealised PnL of earlier tests' positions)
    assert total == pytest.approx(wallets, rel=1e-4)


@pytest.mark.slow
def test_dry_run_children_fill_against_the_venues_books_and_send_nothing(venues, make):
    exchange = make(CHEAP_OKX, live=False)
    before = {name: len(venue_orders(v)) for name, v in venues.items()}
    order = _buy(exchange, 3.0)
    assert order["status"] == "closed" and order["filled"] == pytest.approx(3.0)
    assert len({c["venue"] for c in _children(order)}) >= 2
    assert {name: len(venue_orders(v)) for name, v in venues.items()} == before
    rows = exchange._sor_fills.rows()
    assert rows and all(r["dry_run"] for r in rows)


@pytest.mark.slow
def test_without_extra_venues_freqtrade_runs_stock(venues, make):
    exchange = make({"venues": {"bybit": {"enabled": False}, "okx": {"enabled": False}}},
                    live=False)
    assert exchange.order_router is None
    assert _buy(exchange, 0.01)["id"].startswith("dry_run_buy_")


@pytest.mark.slow
def test_live_routing_needs_each_venues_credentials(venues, tmp_path, monkeypatch):
    monkeypatch.delenv("CENTAUR_OKX_API_SECRET", raising=False)
    for name, value in venue_environment().items():
        if name != "CENTAUR_OKX_API_SECRET":
            monkeypatch.setenv(name, value)
    with pytest.raises(CentaurConfigError, match="CENTAUR_OKX_API_SECRET"):
        build_exchange(router_config(venues, tmp_path, live=True), "live")


@pytest.mark.parametrize(("router", "message"), [
    ({"venues": {"okx": {"ccxt_config": {"secret": "x"}}}}, "must not be in a config file"),
    ({"venues": {"nowhere": {}}}, "unknown ccxt exchange"),
])
def test_bad_router_settings_name_the_key(router, message):
    from centaur.settings import settings_from

    with pytest.raises(CentaurConfigError, match=message):
        settings_from({"centaur": {"exchange": {"router": router}}})


@pytest.mark.slow
def test_a_large_order_is_sliced_in_time(venues, make):
    exchange = make({"slicing": {"max_slice_usd": 50_000, "interval_secs": 15}})
    order = _buy(exchange, 1.0)
    decisions = order["info"]["sor"]["decisions"]
    assert decisions[0].startswith("slice 3 x"), decisions
    assert order["status"] == "open" and 0 < order["filled"] < 1.0
    assert exchange.fetch_order(order["id"], PAIR)["filled"] == order["filled"], "not due yet"
    filled = [order["filled"]]
    for _ in range(2):
        exchange._sor_clock.advance(15)
        filled.append(exchange.fetch_order(order["id"], PAIR)["filled"])
    assert filled[0] < filled[1] < filled[2] == pytest.approx(1.0)
    assert exchange.fetch_order(order["id"], PAIR)["status"] == "closed"


@pytest.mark.slow
def test_a_restarted_bot_finds_its_orders_legs_in_the_journal(venues, make):
    first = make({"limit_first": True, "limit_first_timeout_secs": 600})
    bid = first.fetch_l2_order_book(PAIR, 5)["bids"][3][0]
    order = _buy(first, 1.0, ordertype="limit", rate=bid)
    first.close()
    second = make({"limit_first": True, "limit_first_timeout_secs": 600})
    legs = _children(second.fetch_order(order["id"], PAIR))
    assert [c["client_order_id"] for c in legs] == [c["client_order_id"] for c in _children(order)]
    assert second.cancel_order(order["id"], PAIR)["status"] == "canceled"
    assert all(o["status"] == "canceled" for orders in _sent(venues, order).values()
               for o in orders)
