"""The spot hedge leg's decisions: paper fills on a real recorded Binance spot book, one order
per (trade, action) across retries and restarts, and what an unknown answer resolves to.

The book is Binance's recorded ``/api/v3/depth`` of NKNUSDT (cryptofeed ``BINANCE.http.0.0``,
1,000 levels) with NKNUSDT's recorded lot and minimum notional (``BINANCE.0`` exchangeInfo). The
unknown-answer cases use ``ScriptedVenue``, a hand-written spot client that answers each call
from a script of ccxt errors before filling on that book (the slow tier drives the same cases
through the real ccxt client against the local venue).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ccxt
import pytest

from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.offline.recordings import first_response
from centaur.state import StateStore
from dev_tools.venue.recorded_books import load_book
from sor_exchange.book import VenueBook, VenueTerms, lots_down
from sor_exchange.client_ids import client_order_id
from sor_exchange.hedge_clients import LiveSpotClient, PaperSpotClient, SpotOrderView
from sor_exchange.hedge_leg import HedgeRequest, SpotHedge
from sor_exchange.hedge_records import HedgeLegStore
from sor_exchange.venues import VenueClient
from tests.support.paths import RECORDINGS

PAIR = "NKN/USDT:USDT"
RECORDED = load_book(RECORDINGS / "BINANCE.http.0.0", "NKNUSDT")
BOOK = VenueBook.from_levels("binance", RECORDED.bids, RECORDED.asks)
NOW = datetime(2021, 10, 12, 0, 30, tzinfo=UTC)


def recorded_terms() -> VenueTerms:
    info = first_response(RECORDINGS / "BINANCE.0", "/api/v3/exchangeInfo").json()
    filters = {f["filterType"]: f for s in info["symbols"] if s["symbol"] == "NKNUSDT"
               for f in s["filters"]}
    return VenueTerms("binance", taker_fee_ratio=0.001, maker_fee_ratio=0.001,
                      lot_base=float(filters["LOT_SIZE"]["stepSize"]),
                      min_base=float(filters["LOT_SIZE"]["minQty"]),
                      min_notional_quote=float(filters["MIN_NOTIONAL"]["minNotional"]))


TERMS = recorded_terms()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class CountingBooks:
    """The venue's book endpoint: counts the requests a paper fill makes."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, symbol: str) -> VenueBook:
        self.requests += 1
        return BOOK


def paper_hedge(state_dir: Path, books: CountingBooks | None = None,
                events: EventSink | None = None) -> SpotHedge:
    client = PaperSpotClient(books or CountingBooks(), lambda symbol: TERMS)
    store = HedgeLegStore(StateStore(str(state_dir / "hedge-legs.sqlite")))
    return SpotHedge(client, store, events=events, clock=Clock())


def walk(levels, amount: float) -> tuple[float, float]:
    """(filled, cost) of taking ``amount`` from ``levels``, level by level."""
    filled = cost = 0.0
    for price, size in levels:
        take = min(size, amount - filled)
        if take <= 0:
            break
        filled, cost = filled + take, cost + take * price
    return filled, cost


def request(trade_id: int, action: str, amount: float = 20_000.0) -> HedgeRequest:
    return HedgeRequest(trade_id, PAIR, action, amount, RECORDED.mid)


# --- pure parts --------------------------------------------------------------------------------

def test_the_request_derives_the_spot_symbol_and_side_and_refuses_nonsense():
    assert request(1, "open").spot_symbol == "NKN/USDT" and request(1, "open").side == "buy"
    assert request(1, "close").side == "sell"
    with pytest.raises(ValueError, match="action"):
        HedgeRequest(1, PAIR, "buy", 1.0, 1.0)
    with pytest.raises(ValueError, match="base_amount"):
        HedgeRequest(1, PAIR, "open", 0.0, 1.0)


# --- paper fills -------------------------------------------------------------------------------

def test_a_paper_open_walks_the_recorded_asks_and_pays_the_fee_in_the_base(tmp_path):
    result = paper_hedge(tmp_path).execute(request(1, "open"))
    filled, cost = walk(RECORDED.asks, 20_000.0)
    assert result.status == "filled" and result.done and result.reason == ""
    assert result.client_order_id == client_order_id("binance", "carry-1-open", 0)
    assert result.filled_base == pytest.approx(filled)
    assert result.average_price == pytest.approx(cost / filled)
    assert result.average_price > RECORDED.asks[0][0]  # it walked past the best ask
    assert result.fee_base == pytest.approx(20_000.0 * 0.001)
    assert result.fee_quote == pytest.approx(cost * 0.001)
    assert result.held_base == pytest.approx(20_000.0 * 0.999)
    assert result.slippage_bps == pytest.approx((cost / filled / RECORDED.mid - 1) * 1e4)


def test_a_paper_close_sells_what_the_open_leg_holds_on_the_lot(tmp_path):
    hedge = paper_hedge(tmp_path)
    hedge.execute(request(1, "open", 20_000.0))
    closed = hedge.execute(request(1, "close", 20_000.0))
    filled, cost = walk(RECORDED.bids, 19_980.0)  # 20,000 less the 20 NKN commission
    assert closed.status == "filled"
    assert closed.filled_base == pytest.approx(19_980.0)
    assert closed.average_price == pytest.approx(cost / filled)
    assert closed.fee_base == 0.0 and closed.fee_quote == pytest.approx(cost * 0.001)
    assert closed.slippage_bps > 0  # sold below the reference mid


def test_a_paper_order_below_the_minimum_notional_is_rejected(tmp_path):
    result = paper_hedge(tmp_path).execute(request(1, "open", 10.0))  # ~3.5 USDT < 10
    assert result.status == "rejected" and result.filled_base == 0.0
    assert "minimum" in result.reason


# --- idempotency and persistence ---------------------------------------------------------------

def test_a_recorded_fill_is_returned_without_touching_the_venue(tmp_path):
    books = CountingBooks()
    hedge = paper_hedge(tmp_path, books)
    first = hedge.execute(request(5, "open"))
    assert books.requests == 1
    assert hedge.execute(request(5, "open")) == first
    assert books.requests == 1


def test_a_new_hedge_on_the_same_state_dir_knows_the_legs(tmp_path):
    first = paper_hedge(tmp_path)
    opened = first.execute(request(7, "open"))
    first.execute(request(8, "open"))
    first.execute(request(8, "close"))
    books = CountingBooks()
    restarted = paper_hedge(tmp_path, books)
    assert restarted.execute(request(7, "open")) == opened
    assert books.requests == 0
    assert restarted.legs(7) == {"open": opened}
    assert set(restarted.legs(8)) == {"open", "close"}
    assert [r.request.trade_id for r in restarted.open_hedges()] == [7]


# --- unknown answers ---------------------------------------------------------------------------

REFUSED, LOST = "refused", "lost"  # the error came before the venue got it / after it filled


class ScriptedVenue:
    """A spot client whose orders and lookups answer from scripts of ``(when, ccxt error)``
    before filling on the recorded book; it keeps the orders it holds by client id."""

    def __init__(self, place: list[tuple[str, Exception]] | None = None,
                 find: list[Exception] | None = None, partial_ratio: float = 1.0):
        self.place_script, self.find_script = list(place or []), list(find or [])
        self.partial_ratio = partial_ratio
        self.orders: dict[str, SpotOrderView] = {}
        self.paper = PaperSpotClient(lambda symbol: BOOK, lambda symbol: TERMS)

    @property
    def sent(self) -> list[str]:
        return list(self.orders)

    def lot_amount(self, symbol: str, amount_base: float) -> float:
        return self.paper.lot_amount(symbol, amount_base)

    def place_market(self, symbol: str, side: str, amount_base: float,
                     client_order_id: str) -> SpotOrderView:
        when, error = self.place_script.pop(0) if self.place_script else (None, None)
        if when == REFUSED:
            raise error
        view = self.paper.place_market(symbol, side, amount_base * self.partial_ratio,
                                       client_order_id)
        if self.partial_ratio < 1:  # a market order the book could not fill expires
            view = replace(view, status="expired")
        self.orders[client_order_id] = view
        if when == LOST:
            raise error
        return view

    def find(self, symbol: str, client_order_id: str) -> SpotOrderView | None:
        if self.find_script:
            raise self.find_script.pop(0)
        return self.orders.get(client_order_id)

    def error_text(self, error: Exception) -> str:
        return self.paper.error_text(error)


def scripted_hedge(tmp_path: Path, venue: ScriptedVenue, clock: Clock | None = None
                   ) -> tuple[SpotHedge, EventSink]:
    store = StateStore(str(tmp_path / "hedge-legs.sqlite"))
    events = EventSink(StateStore())
    return SpotHedge(venue, HedgeLegStore(store), events=events, clock=clock or Clock()), events


def codes(events: EventSink) -> list[str]:
    return [event["code"] for event in events.recent()]


def test_a_lost_answer_is_found_by_client_id_and_never_sent_twice(tmp_path):
    venue = ScriptedVenue(place=[(LOST, ccxt.NetworkError("connection reset"))])
    hedge, events = scripted_hedge(tmp_path, venue)
    result = hedge.execute(request(1, "open"))
    assert result.status == "filled"
    assert venue.sent == [result.client_order_id]
    assert codes(events) == [ReasonCode.ORDER_RECONCILED]


def test_a_duplicate_id_rejection_adopts_the_order_the_venue_holds(tmp_path):
    venue = ScriptedVenue()
    cid = client_order_id("binance", "carry-1-open", 0)
    venue.place_market("NKN/USDT", "buy", 20_000.0, cid)  # placed by a run that then died
    duplicate = ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}')
    venue.place_script = [(REFUSED, duplicate)]
    hedge, _ = scripted_hedge(tmp_path, venue)
    assert hedge.execute(request(1, "open")).status == "filled"
    assert venue.sent == [cid]


def test_a_request_the_venue_never_got_is_sent_again_with_the_same_id(tmp_path):
    clock = Clock()
    venue = ScriptedVenue(place=[(REFUSED, ccxt.ExchangeNotAvailable("connection refused"))])
    hedge, _ = scripted_hedge(tmp_path, venue, clock)
    assert hedge.execute(request(1, "open")).status == "pending"  # it may still arrive
    clock.now += timedelta(seconds=11)
    result = hedge.execute(request(1, "open"))
    assert result.status == "filled" and venue.sent == [result.client_order_id]


def test_a_timed_out_request_stays_pending_until_it_can_no_longer_arrive(tmp_path):
    clock = Clock()
    venue = ScriptedVenue(place=[(REFUSED, ccxt.RequestTimeout("read timeout"))])
    hedge, events = scripted_hedge(tmp_path, venue, clock)
    pending = hedge.execute(request(1, "open"))
    assert pending.status == "pending" and venue.sent == []
    assert codes(events) == [ReasonCode.VENUE_ERROR]
    assert hedge.execute(request(1, "open")).status == "pending"  # still within the window
    clock.now += timedelta(seconds=11)  # past the venue's receive window
    filled = hedge.execute(request(1, "open"))
    assert filled.status == "filled" and venue.sent == [pending.client_order_id]


def test_an_unanswerable_lookup_leaves_the_leg_pending_and_a_retry_resolves_it(tmp_path):
    venue = ScriptedVenue(place=[(LOST, ccxt.RequestTimeout("read timeout"))],
                          find=[ccxt.NetworkError("venue unreachable")])
    hedge, _ = scripted_hedge(tmp_path, venue)
    pending = hedge.execute(request(1, "open"))
    assert pending.status == "pending" and "lookup by client id failed" in pending.reason
    restarted, _ = scripted_hedge(tmp_path, venue)
    assert restarted.execute(request(1, "open")).status == "filled"
    assert len(venue.sent) == 1


def test_a_venue_rejection_is_rejected_with_its_reason_and_an_operator_event(tmp_path):
    venue = ScriptedVenue(place=[(REFUSED, ccxt.InsufficientFunds(
        "binance Account has insufficient balance for requested action."))])
    hedge, events = scripted_hedge(tmp_path, venue)
    result = hedge.execute(request(1, "open"))
    assert result.status == "rejected" and result.filled_base == 0.0
    assert "insufficient balance" in result.reason and venue.sent == []
    assert codes(events) == [ReasonCode.ROUTE_REJECTED]
    assert events.recent()[0]["severity"] == "critical"


def test_a_throttled_order_is_pending_not_rejected(tmp_path):
    venue = ScriptedVenue(place=[(REFUSED, ccxt.DDoSProtection("429 Too many requests"))])
    hedge, _ = scripted_hedge(tmp_path, venue)
    assert hedge.execute(request(1, "open")).status == "pending"
    assert hedge.execute(request(1, "open")).status == "filled"


def test_a_partial_fill_is_rejected_with_what_is_held_and_never_topped_up(tmp_path):
    venue = ScriptedVenue(partial_ratio=0.5)
    hedge, _ = scripted_hedge(tmp_path, venue)
    partial = hedge.execute(request(1, "open"))
    assert partial.status == "rejected" and partial.reason == "partial"
    assert partial.filled_base == pytest.approx(10_000.0)
    assert hedge.execute(request(1, "open")) == partial and len(venue.sent) == 1
    assert [r.request.trade_id for r in hedge.open_hedges()] == [1]
    closed = hedge.execute(request(1, "close"))  # sized on what the partial open holds
    assert closed.filled_base == pytest.approx(lots_down(partial.held_base, 1.0) * 0.5)


def test_credentials_never_reach_the_reason():
    api = ccxt.binance({"apiKey": "hedge-test-key-value", "secret": "hedge-test-secret-value"})
    client = LiveSpotClient(VenueClient("binance", api))
    error = ccxt.AuthenticationError("binance bad signature hedge-test-secret-value for "
                                     "hedge-test-key-value")
    text = client.error_text(error)
    assert "hedge-test-secret-value" not in text and "hedge-test-key-value" not in text
    assert text.startswith("AuthenticationError: binance bad signature")
