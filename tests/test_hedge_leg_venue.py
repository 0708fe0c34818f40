"""The spot hedge leg through ccxt's own ``binance`` class against the local venue's spot account.

The venue (``dev_tools.venue``, 127.0.0.1) speaks Binance's spot REST protocol with signed
requests checked, a cash account per asset and the recorded book shape re-centred on the
replayed BTC/USDT spot price. Faults are injected at the venue; the assertions are on the
hedge's decisions, the venue's orders (``/_venue/spot/orders``) and its balances.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dev_tools.venue.server import RunningVenue, running_venue
from sor_exchange.hedge_leg import HedgeRequest, SpotHedge, spot_hedge_from_config
from tests.fakes.sor_venues import CREDENTIALS, ccxt_urls, inject, venue_settings

pytestmark = pytest.mark.slow

PAIR = "BTC/USDT:USDT"
ORDER_PATH = "/api/v3/order"


@pytest.fixture
def venue():
    settings = venue_settings(("binance",), binance={
        "spot_balances": (("USDT", 10_000.0),)})["binance"]
    with running_venue(settings) as running:
        yield running


def config(venue: RunningVenue, *, dry_run: bool = False) -> dict[str, Any]:
    """freqtrade's config as the strategy sees it: the exchange section, keys from the env."""
    key, secret, _ = CREDENTIALS["binance"]
    return {"dry_run": dry_run, "trading_mode": "futures",
            "exchange": {"name": "binance", "key": key, "secret": secret,
                         "ccxt_config": {"urls": ccxt_urls("binance", venue.url),
                                         "enableRateLimit": False}}}


def hedge(venue: RunningVenue, state_dir: Path, *, dry_run: bool = False) -> SpotHedge:
    return spot_hedge_from_config(config(venue, dry_run=dry_run), state_dir)


def spot_orders(venue: RunningVenue, client_order_id: str | None = None) -> list[dict]:
    with urllib.request.urlopen(f"{venue.url}/_venue/spot/orders", timeout=10) as response:
        orders = json.loads(response.read())
    return [o for o in orders if client_order_id in (None, o["client_order_id"])]


def balances(venue: RunningVenue) -> dict[str, float]:
    return dict(venue.state.spot_engine.account.free)


def order_posts(venue: RunningVenue) -> int:
    return venue.state.request_log.count(("POST", ORDER_PATH))


def request(trade_id: int, action: str, amount: float = 0.02) -> HedgeRequest:
    return HedgeRequest(trade_id, PAIR, action, amount, 121_000.0)


def test_an_open_then_a_close_move_the_spot_balances_there_and_back(venue, tmp_path):
    legs = hedge(venue, tmp_path)
    opened = legs.execute(request(1, "open"))
    assert opened.status == "filled" and opened.filled_base == pytest.approx(0.02)
    after_open = balances(venue)
    assert after_open["BTC"] == pytest.approx(opened.held_base)  # 0.02 less the BTC commission
    assert opened.fee_base == pytest.approx(0.02 * 0.001)
    assert after_open["USDT"] == pytest.approx(10_000.0 - opened.filled_base * opened.average_price)
    assert [h.request.trade_id for h in legs.open_hedges()] == [1]
    closed = legs.execute(request(1, "close"))
    assert closed.status == "filled" and closed.filled_base == pytest.approx(opened.held_base)
    after_close = balances(venue)
    assert after_close["BTC"] == pytest.approx(0.0, abs=1e-12)
    assert after_close["USDT"] == pytest.approx(
        after_open["USDT"] + closed.filled_base * closed.average_price - closed.fee_quote)
    assert legs.open_hedges() == []
    assert [o["status"] for o in spot_orders(venue)] == ["closed", "closed"]
    assert venue.state.engine.orders == {}, "the hedge never touches the USDT-M account"


def test_a_rejected_hedge_leaves_no_order_on_the_venue(venue, tmp_path):
    inject(venue, [{"method": "POST", "path": ORDER_PATH, "action": "reject",
                    "value": "insufficient_balance"}])
    result = hedge(venue, tmp_path).execute(request(2, "open"))
    assert result.status == "rejected" and result.filled_base == 0.0
    assert "Injected rejection" in result.reason
    assert spot_orders(venue) == []
    assert balances(venue) == {"USDT": 10_000.0}


def test_a_lost_answer_is_found_by_client_id_with_one_order_on_the_venue(venue, tmp_path):
    inject(venue, [{"method": "POST", "path": ORDER_PATH, "action": "drop_after_accept"}])
    result = hedge(venue, tmp_path).execute(request(3, "open"))
    assert result.status == "filled" and result.filled_base == pytest.approx(0.02)
    assert result.fee_base == pytest.approx(0.02 * 0.001)  # from the order's trades
    orders = spot_orders(venue, result.client_order_id)
    assert len(orders) == 1 and orders[0]["status"] == "closed"
    assert len(spot_orders(venue)) == 1
    assert order_posts(venue) == 1


def test_a_request_that_failed_before_the_venue_processed_it_is_sent_once_more(venue, tmp_path):
    """A 500 may still be processed late (Binance only rejects a reused id among open orders):
    the leg stays pending until the request can no longer arrive, then goes once more."""
    inject(venue, [{"method": "POST", "path": ORDER_PATH, "action": "error_500"}])
    clock = [datetime.now(UTC)]
    spot_hedge = hedge(venue, tmp_path)
    spot_hedge.clock = lambda: clock[0]
    pending = spot_hedge.execute(request(4, "open"))
    assert pending.status == "pending" and spot_orders(venue) == []
    clock[0] += timedelta(seconds=11)  # past the receive window
    result = spot_hedge.execute(request(4, "open"))
    assert result.status == "filled" and result.client_order_id == pending.client_order_id
    assert len(spot_orders(venue)) == 1 and order_posts(venue) == 2


def test_a_retry_after_a_restart_returns_the_recorded_fill_without_an_order(venue, tmp_path):
    first = hedge(venue, tmp_path).execute(request(5, "open"))
    posts = order_posts(venue)
    restarted = hedge(venue, tmp_path)
    assert restarted.execute(request(5, "open")) == first
    assert order_posts(venue) == posts and len(spot_orders(venue)) == 1
    assert restarted.legs(5) == {"open": first}


def test_a_close_without_the_base_is_rejected_with_the_venues_message(venue, tmp_path):
    result = hedge(venue, tmp_path).execute(request(6, "close", 0.5))
    assert result.status == "rejected" and result.filled_base == 0.0
    assert "Account has insufficient balance for requested action." in result.reason
    assert spot_orders(venue) == []


def test_a_partial_fill_is_rejected_with_what_the_account_holds(venue, tmp_path):
    inject(venue, [{"method": "POST", "path": ORDER_PATH, "action": "partial_fill",
                    "value": 0.5}])
    result = hedge(venue, tmp_path).execute(request(7, "open"))
    assert result.status == "rejected" and result.reason == "partial"
    assert result.filled_base == pytest.approx(0.01, rel=0.01)
    assert balances(venue)["BTC"] == pytest.approx(result.held_base)
    assert spot_orders(venue)[0]["status"] == "expired"


def test_dry_run_fills_on_the_venues_spot_book_and_sends_nothing(venue, tmp_path):
    result = hedge(venue, tmp_path, dry_run=True).execute(request(8, "open"))
    spot = venue.state.spot["BTCUSDT"]
    best_ask = venue.state.book(spot, 1)[1][0].price
    assert result.status == "filled" and result.filled_base == pytest.approx(0.02)
    assert result.average_price >= best_ask * (1 - 1e-12)  # the walk's float sum
    assert result.fee_quote == pytest.approx(0.02 * result.average_price * 0.001)
    assert order_posts(venue) == 0 and spot_orders(venue) == []
