"""Local Binance, Bybit and OKX venues driven by ccxt's own classes through ``VenueClient``.

Each venue speaks its real REST protocol on 127.0.0.1 (signed requests checked) and serves a
real recorded book shape re-centred on the replayed Binance price. Faults are injected at the
venue; the assertions are on the ccxt error class the router sees and the venue's own state.
"""

from __future__ import annotations

import ccxt
import pytest

from centaur.settings.exchange import RouteVenueSettings
from sor_exchange.errors import Outcome, classify
from sor_exchange.routed import venue_api
from sor_exchange.venues import VenueClient
from tests.fakes.sor_venues import (CREDENTIALS, PAIR, ccxt_urls, inject, three_venues,
                                    venue_environment, venue_orders)


pytestmark = pytest.mark.slow

ORDER_PATHS = {"binance": "/fapi/v1/order", "bybit": "/v5/order/create",
               "okx": "/api/v5/trade/batch-orders"}
PROTOCOLS = ("binance", "bybit", "okx")
VENUE_SYMBOLS = {"binance": "BTCUSDT", "bybit": "BTCUSDT", "okx": "BTC-USDT-SWAP"}


@pytest.fixture(scope="module")
def venues():
    with three_venues() as running:
        yield running


def client(venues, name: str, secret: str | None = None) -> VenueClient:
    settings = RouteVenueSettings(ccxt_config={"urls": ccxt_urls(name, venues[name].url)})
    env = venue_environment()
    key, real_secret, _ = CREDENTIALS[name]
    env |= {"CENTAUR_BINANCE_API_KEY": key, "CENTAUR_BINANCE_API_SECRET": real_secret}
    if secret is not None:
        env[f"CENTAUR_{name.upper()}_API_SECRET"] = secret
    return VenueClient(name, venue_api(name, settings, live=True, futures=True, timeout_secs=5,
                                       environ=env))


@pytest.mark.parametrize("name", PROTOCOLS)
def test_books_are_recorded_shapes_around_the_replayed_price(venues, name):
    venue = client(venues, name)
    book = venue.book(PAIR, 50)
    state = venues[name].state
    replayed = state.mid(state.instrument(VENUE_SYMBOLS[name], True))
    assert book.bids[0, 0] < book.asks[0, 0]
    assert abs(book.mid / replayed - 1) < 5e-4
    assert len(book.asks) >= 10
    assert state.shape.source.split()[0] == state.settings.depth_recording


def test_terms_come_from_the_recorded_instrument_lists(venues):
    bybit = client(venues, "bybit").terms(PAIR)
    okx = client(venues, "okx").terms(PAIR)
    assert (bybit.taker_fee_ratio, bybit.maker_fee_ratio) == (0.00075, -0.00025)  # BYBIT.0
    assert bybit.lot_base == 0.001 and bybit.tick == 0.5
    assert okx.lot_base == pytest.approx(0.01)  # 1 contract of ctVal 0.01 BTC (OKX.0)


@pytest.mark.parametrize("name", PROTOCOLS)
def test_a_child_round_trip_by_client_order_id(venues, name):
    venue = client(venues, name)
    book = venue.book(PAIR, 20)
    taken = venue.place(PAIR, "buy", 0.05, float(book.asks[3, 0]), "limit", "IOC",
                        f"ctrRoundTrip{name}", False)
    assert taken.status == "closed" and taken.filled_base == pytest.approx(0.05)
    assert venue.find(PAIR, f"ctrRoundTrip{name}").venue_order_id == taken.venue_order_id
    assert venue.find(PAIR, f"ctrNeverSent{name}") is None
    resting = venue.place(PAIR, "buy", 0.05, float(book.bids[5, 0]), "limit", "GTC",
                          f"ctrResting{name}", False)
    assert resting.status == "open"
    assert [o.venue_order_id for o in venue.open_orders(PAIR)] == [resting.venue_order_id]
    assert venue.cancel(PAIR, resting.venue_order_id).status == "canceled"
    with pytest.raises(ccxt.InvalidOrder):
        venue.place(PAIR, "buy", 0.05, float(book.bids[5, 0]), "limit", "GTC",
                    f"ctrResting{name}", False)
    same_id = [o for o in venue_orders(venues[name]) if o["client_order_id"] == f"ctrResting{name}"]
    assert len(same_id) == 1, "a duplicate client order id must never become a second order"


@pytest.mark.parametrize("name", PROTOCOLS)
@pytest.mark.parametrize(("fault", "expected", "outcome"), [
    ({"action": "reject", "value": "min_notional"}, ccxt.InvalidOrder, Outcome.REJECTED),
    ({"action": "reject", "value": "insufficient_margin"}, ccxt.InsufficientFunds,
     Outcome.REJECTED),
    ({"action": "rate_limit"}, (ccxt.DDoSProtection, ccxt.RateLimitExceeded), Outcome.THROTTLED),
    ({"action": "error_500"}, ccxt.OperationFailed, Outcome.UNKNOWN),  # 5xx: fate unknown
])
def test_venue_errors_arrive_as_ccxt_error_classes(venues, name, fault, expected, outcome):
    venue = client(venues, name)
    price = float(venue.book(PAIR, 5).asks[0, 0])
    inject(venues[name], [{"method": "POST", "path": ORDER_PATHS[name], **fault}])
    with pytest.raises(expected) as caught:
        venue.place(PAIR, "buy", 0.05, price, "limit", "IOC", f"ctrFault{name}", False)
    assert classify(caught.value) is outcome


@pytest.mark.parametrize("name", PROTOCOLS)
def test_a_wrong_signature_is_refused(venues, name):
    venue = client(venues, name, secret="not-the-secret")
    with pytest.raises(ccxt.AuthenticationError):
        venue.balance()
