"""The carry flagship in ``freqtrade trade --dry-run`` against the local venue, driven through
``freqtrade-client``: a forced short opens the perp in freqtrade and the spot hedge leg (paper
fill on the venue's real spot book, same base quantity); a forced exit closes both. With the
venue's spot book unreachable, the hedge cannot be placed and the perp is flattened
(``HEDGE_FAILED``): no unhedged exposure is left open.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import requests
from freqtrade_client import FtRestClient

from centaur.state import StateStore
from dev_tools.venue.clients import ccxt_urls
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, as_list, free_port, wait_until

pytestmark = pytest.mark.slow

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
USER, PASSWORD = "centaur", "carry-dry-run-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "c" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-carry",
}
LIVE_ENV = {**ENV, "FREQTRADE__EXCHANGE__KEY": "venue-test-key",
            "FREQTRADE__EXCHANGE__SECRET": "venue-test-secret"}
PAIR = "BTC/USDT:USDT"


@contextmanager
def carry_bot(directory, venue, live: bool = False):
    """The carry bot on the venue: dry-run (paper spot legs) or live (real orders on it)."""
    api_port = free_port()
    urls = ccxt_urls("binance", venue.url) if live else venue_ccxt_config(venue.url)["urls"]
    config = write_config(directory, "dry-run-carry.json", {
        "dry_run": not live,
        "db_url": f"sqlite:///{directory / 'carry.sqlite'}",
        "exchange": {"ccxt_config": {"urls": urls}},
        "api_server": {"listen_port": api_port},
        # no entry of its own: the forced trades below are the only ones (an unreachable
        # hurdle: a round trip paid back within 15 minutes)
        "centaur": {"carry": {"amortise_days": 0.01},
                    "paper_gate": {"enabled": False}},  # live: no dry-run record to gate on
    })
    process = TradeProcess(config, directory / "freqtrade.log", env=LIVE_ENV if live else ENV)
    client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=120)
    try:
        wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API", process)
        wait_until(lambda: client.pair_candles(PAIR, "1h", limit=5).get("data"), 240,
                   "the first analysis", process, 2)
        yield client, process, directory
    finally:
        process.stop()


@pytest.fixture(scope="module")
def venue():
    with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                     anchor=ANCHOR)) as running:
        yield running


def carry_status(client: FtRestClient) -> dict:
    return client._get("centaur/status")["strategy_status"]["carry"]


def legs_on_disk(directory) -> dict[str, dict]:
    """The hedge's persisted legs by action (the state a restarted bot reads)."""
    path, = (directory / "user_data").glob("hedge-legs-*.sqlite")  # one per trade database
    store = StateStore(str(path))
    return {value["result"]["request"]["action"]: value["result"]
            for value in store.items("hedge.legs").values()}


def test_a_forced_short_opens_both_legs_and_a_forced_exit_closes_both(venue, tmp_path_factory):
    with carry_bot(tmp_path_factory.mktemp("carry"), venue) as (client, process, directory):
        client.forceenter(PAIR, "short")
        trade, = wait_until(lambda: [t for t in as_list(client.status())
                                     if t["enter_tag"] == "force_entry"], 60, "the forced entry",
                            process)
        assert trade["is_short"] and trade["strategy"] == "CentaurCarry"
        assert trade["leverage"] == pytest.approx(2.0)
        status = wait_until(lambda: carry_status(client)["hedges_open"], 60, "the spot leg",
                            process)
        leg = status[0]
        assert leg["trade_id"] == trade["trade_id"] and leg["pair"] == PAIR
        assert leg["spot_base"] == pytest.approx(trade["amount"], rel=1e-6)  # same quantity
        spot_mid = venue.state.mid(venue.state.spot["BTCUSDT"])
        assert leg["spot_price"] == pytest.approx(spot_mid, rel=0.003)  # the real spot book
        assert not carry_status(client)["hedge_failures"]

        client.forceexit(trade["trade_id"])
        wait_until(lambda: not as_list(client.status()), 60, "the forced exit", process)
        wait_until(lambda: not carry_status(client)["hedges_open"], 60, "the spot close",
                   process)
        closed = client.trades()["trades"][0]
        assert closed["exit_reason"] == "force_exit" and not closed["is_open"]
        actions = legs_on_disk(directory)
        assert set(actions) == {"open", "close"}
        assert all(v["status"] == "filled" for v in actions.values())
        # nothing was sent to the venue in dry-run: the legs were paper fills on its book
        orders = requests.get(f"{venue.url}/_venue/spot/orders", timeout=10).json()
        assert orders == []


def set_faults(venue, rules: list[dict]) -> None:
    requests.post(f"{venue.url}/_venue/faults", json=rules, timeout=10).raise_for_status()


def test_a_hedge_that_cannot_be_placed_flattens_the_perp(venue, tmp_path_factory):
    pair = "ETH/USDT:USDT"
    with carry_bot(tmp_path_factory.mktemp("carry_fault"), venue) as (client, process,
                                                                       directory):
        # the spot book answers 500 from now on: the paper hedge cannot price its fill
        set_faults(venue, [{"method": "GET", "path": "/api/v3/depth", "action": "error_500",
                            "times": 10_000}])
        try:
            client.forceenter(pair, "short")
            closed = wait_until(
                lambda: [t for t in client.trades()["trades"] if not t["is_open"]], 120,
                "the perp flattened", process, 2)
        finally:
            set_faults(venue, [])
        assert closed[0]["pair"] == pair and closed[0]["is_short"]
        assert closed[0]["exit_reason"] == "HEDGE_FAILED"
        assert not as_list(client.status())  # no perp left open
        status = carry_status(client)
        assert not status["hedges_open"]  # and no spot leg either
        assert str(closed[0]["trade_id"]) in status["hedge_failures"]
        events = client._get("centaur/status")["strategy_status"]["events"]
        assert any(e["code"] in ("HEDGE_FAILED", "HEDGE_PENDING") and e["severity"] == "critical"
                   for e in events)


# --- live: real orders on the local venue (perp on /fapi, spot hedge on /api/v3) ----------------
def venue_orders(venue, market: str) -> list[dict]:
    path = "/_venue/spot/orders" if market == "spot" else "/_venue/orders"
    return requests.get(f"{venue.url}{path}", timeout=10).json()


def test_live_both_legs_are_real_orders_on_the_venue(venue, tmp_path_factory):
    with carry_bot(tmp_path_factory.mktemp("carry_live"), venue, live=True) as (client, process, _):
        client.forceenter(PAIR, "short")
        trade = wait_until(lambda: [t for t in as_list(client.status())
                                    if t["pair"] == PAIR and not t.get("has_open_orders")],
                           90, "the perp filled", process, 2)[0]
        leg = wait_until(lambda: [h for h in carry_status(client)["hedges_open"]
                                  if h["trade_id"] == trade["trade_id"]], 60, "the spot leg",
                         process, 2)[0]
        spot = [o for o in venue_orders(venue, "spot") if o["symbol"] == "BTCUSDT"]
        assert len(spot) == 1 and spot[0]["side"] == "buy" and spot[0]["status"] == "closed"
        assert spot[0]["client_order_id"] == leg["client_order_id"]
        assert spot[0]["filled"] == pytest.approx(trade["amount"], rel=1e-6)
        client.forceexit(trade["trade_id"])
        wait_until(lambda: not carry_status(client)["hedges_open"], 90, "the spot close",
                   process, 2)
        spot = [o for o in venue_orders(venue, "spot") if o["symbol"] == "BTCUSDT"]
        assert [o["side"] for o in spot] == ["buy", "sell"]
        perp = [o for o in venue_orders(venue, "futures") if o["symbol"] == "BTCUSDT"]
        assert [o["side"] for o in perp] == ["sell", "buy"]


@pytest.fixture
def fresh_venue():
    with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                     anchor=ANCHOR)) as running:
        yield running


def futures_position(venue, symbol: str) -> float:
    position = venue.state.engine.account.positions.get(symbol)
    return position.amount if position else 0.0


def test_live_a_rejected_hedge_flattens_the_perp_on_the_venue(fresh_venue, tmp_path_factory):
    venue = fresh_venue
    with carry_bot(tmp_path_factory.mktemp("carry_reject"), venue, live=True) as (client, process, _):
        set_faults(venue, [{"method": "POST", "path": "/api/v3/order", "action": "reject",
                            "value": "insufficient_balance", "times": 10_000}])
        client.forceenter(PAIR, "short")
        closed = wait_until(lambda: [t for t in client.trades()["trades"] if not t["is_open"]],
                            120, "the perp flattened", process, 2)
        set_faults(venue, [])
        assert closed[0]["exit_reason"] == "HEDGE_FAILED"
        perp = [o for o in venue_orders(venue, "futures") if o["symbol"] == "BTCUSDT"]
        assert [o["side"] for o in perp] == ["sell", "buy"]  # opened, then flattened
        assert futures_position(venue, "BTCUSDT") == pytest.approx(0.0, abs=1e-12)
        assert not [o for o in venue_orders(venue, "spot") if o["filled"] > 0]
        assert not carry_status(client)["hedges_open"]


def test_live_a_lost_hedge_answer_is_found_by_its_id_never_sent_twice(fresh_venue,
                                                                       tmp_path_factory):
    venue = fresh_venue
    with carry_bot(tmp_path_factory.mktemp("carry_lost"), venue, live=True) as (client, process, _):
        # the venue fills the spot buy, then drops the connection before answering
        set_faults(venue, [{"method": "POST", "path": "/api/v3/order",
                            "action": "drop_after_accept", "times": 1}])
        client.forceenter(PAIR, "short")
        trade = wait_until(lambda: [t for t in as_list(client.status())
                                    if t["pair"] == PAIR and not t.get("has_open_orders")],
                           90, "the perp filled", process, 2)[0]
        leg = wait_until(lambda: [h for h in carry_status(client)["hedges_open"]
                                  if h["trade_id"] == trade["trade_id"]], 90,
                         "the spot leg resolved", process, 2)[0]
        spot = venue_orders(venue, "spot")
        assert len(spot) == 1 and spot[0]["client_order_id"] == leg["client_order_id"]
        assert spot[0]["filled"] == pytest.approx(trade["amount"], rel=1e-6)
        assert as_list(client.status())  # the carry stands: the perp was not flattened
        client.forceexit(trade["trade_id"])
        wait_until(lambda: not carry_status(client)["hedges_open"], 90, "the spot close",
                   process, 2)
        assert [o["side"] for o in venue_orders(venue, "spot")] == ["buy", "sell"]
        assert futures_position(venue, "BTCUSDT") == pytest.approx(0.0, abs=1e-12)
