"""Reconciliation in a LIVE ``freqtrade trade`` against the local venue (real orders, keys from
the environment): a forced entry reconciles clean; a position injected at the venue
(``POST /_venue/positions``) is a CRITICAL ``RECONCILIATION_DRIFT`` that halts entries - a forced
entry is denied, ``/api/v1/centaur/status`` shows the halt - until the position is gone; a fill
the venue loses (fault ``lose_fill``) is a drift too, cleared when the venue holds it again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from freqtrade_client import FtRestClient

from dev_tools.venue.clients import ccxt_urls
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, as_list, free_port, wait_until

pytestmark = pytest.mark.slow

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
USER, PASSWORD = "centaur", "reconciliation-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "r" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-reconciliation",
    "FREQTRADE__EXCHANGE__KEY": "venue-test-key",
    "FREQTRADE__EXCHANGE__SECRET": "venue-test-secret",
}
PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reconciliation")
    settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS, anchor=ANCHOR)
    api_port = free_port()
    with running_venue(settings) as venue:
        config = write_config(directory, "dry-run.json", {
            "dry_run": False,
            "bot_name": "centaur-reconciliation",
            "db_url": f"sqlite:///{directory / 'live.sqlite'}",
            "exchange": {"pair_whitelist": PAIRS,
                         "ccxt_config": {"urls": ccxt_urls("binance", venue.url)}},
            "api_server": {"listen_port": api_port},
            "centaur": {"paper_gate": {"enabled": False},
                        "reconciliation": {"enabled": True, "interval_secs": 5,
                                           "failures_before_halt": 3}},
        })
        process = TradeProcess(config, directory / "freqtrade.log", env=ENV)
        client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=120)
        try:
            wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API",
                       process)
            for pair in PAIRS:  # entries need the analysis (else DATA_GAP)
                wait_until(lambda p=pair: client.pair_candles(p, "5m", limit=5).get("data"),
                           240, f"the first analysis of {pair}", process, 2)
            wait_until(lambda: recon(client).get("last_run"), 60, "a first reconciliation",
                       process, 2)
            yield {"client": client, "process": process, "venue": venue,
                   "url": f"http://127.0.0.1:{api_port}/api/v1"}
        finally:
            process.stop()


def status(client: FtRestClient) -> dict:
    return client._get("centaur/status")["strategy_status"]


def recon(client: FtRestClient) -> dict:
    return status(client).get("tower", {}).get("reconciliation", {})


def events(client: FtRestClient, code: str) -> list[dict]:
    return [e for e in status(client)["events"] if e["code"] == code]


def set_position(venue, symbol: str, amount: float) -> None:
    requests.post(f"{venue.url}/_venue/positions", json={"symbol": symbol, "amount": amount},
                  timeout=10).raise_for_status()


def set_faults(venue, rules: list[dict]) -> None:
    requests.post(f"{venue.url}/_venue/faults", json=rules, timeout=10).raise_for_status()


def force_enter(bot, pair: str, side: str) -> requests.Response:
    """The raw answer: freqtrade answers a denied forced entry with an error text."""
    return requests.post(f"{bot['url']}/forceenter", json={"pair": pair, "side": side},
                         auth=(USER, PASSWORD), timeout=120)


def settled_trade(bot, pair: str) -> dict:
    return wait_until(lambda: [t for t in as_list(bot["client"].status())
                               if t["pair"] == pair and not t.get("has_open_orders")],
                      90, f"the {pair} entry filled", bot["process"], 2)[0]


def clean_run_after(client: FtRestClient, moment: str) -> dict | None:
    found = recon(client)
    return found if found.get("last_run", "") > moment and not found["drifts"] \
        and "binance:futures" in found["venues_asked"] else None


def test_1_a_forced_entry_reconciles_clean(bot):
    client, process = bot["client"], bot["process"]
    assert recon(client)["live"] is True
    force_enter(bot, "BTC/USDT:USDT", "long").raise_for_status()
    trade = settled_trade(bot, "BTC/USDT:USDT")
    filled_at = recon(client)["last_run"]
    wait_until(lambda: clean_run_after(client, filled_at), 60, "a clean reconciliation",
               process, 2)
    venue_amount = bot["venue"].state.engine.account.positions["BTCUSDT"].amount
    assert venue_amount == pytest.approx(trade["amount"])
    assert "RECONCILIATION_DRIFT" not in status(client)["halt_codes"]


def test_2_an_unknown_position_halts_entries_until_it_is_gone(bot):
    client, process, venue = bot["client"], bot["process"], bot["venue"]
    set_position(venue, "ETHUSDT", -0.5)  # a position the bot never opened
    wait_until(lambda: "RECONCILIATION_DRIFT" in status(client)["halt_codes"], 60,
               "the drift halt", process, 2)
    critical, = [e for e in events(client, "RECONCILIATION_DRIFT")
                 if e["severity"] == "critical"]
    assert "UNKNOWN_AT_VENUE" in critical["message"] and "ETH/USDT:USDT" in critical["message"]
    drift, = recon(client)["drifts"]
    assert (drift["asset"], drift["kind"], drift["reported_base"]) == (
        "ETH/USDT:USDT", "UNKNOWN_AT_VENUE", -0.5)
    assert status(client)["trading_state"] == "HALTED"
    assert any(lock["reason"].startswith("[RECONCILIATION_DRIFT]")
               for lock in client.locks()["locks"])
    denied = force_enter(bot, "ETH/USDT:USDT", "short")
    assert denied.status_code >= 400 and "TRADING_STATE_HALTED" in denied.text, denied.text
    assert [t["pair"] for t in as_list(client.status())] == ["BTC/USDT:USDT"]  # kept open

    set_position(venue, "ETHUSDT", 0.0)  # the operator closed it on the venue
    wait_until(lambda: "RECONCILIATION_DRIFT" not in status(client)["halt_codes"], 60,
               "the halt to clear", process, 2)
    assert [e["severity"] for e in events(client, "RECONCILIATION_OK")] == ["warning"]
    assert not any(lock["reason"].startswith("[RECONCILIATION_DRIFT]")
                   for lock in client.locks()["locks"])


def test_3_a_fill_the_venue_lost_is_missing_at_the_venue(bot):
    client, process, venue = bot["client"], bot["process"], bot["venue"]
    set_faults(venue, [{"method": "POST", "path": "/fapi/v1/order", "action": "lose_fill",
                        "times": 1}])
    try:
        force_enter(bot, "ETH/USDT:USDT", "short").raise_for_status()
        trade = settled_trade(bot, "ETH/USDT:USDT")
    finally:
        set_faults(venue, [])
    wait_until(lambda: "RECONCILIATION_DRIFT" in status(client)["halt_codes"], 60,
               "the lost-fill halt", process, 2)
    drift, = recon(client)["drifts"]
    assert (drift["asset"], drift["kind"]) == ("ETH/USDT:USDT", "MISSING_AT_VENUE")
    assert drift["expected_base"] == pytest.approx(-trade["amount"])
    set_position(venue, "ETHUSDT", -trade["amount"])  # the venue books it after all
    wait_until(lambda: "RECONCILIATION_DRIFT" not in status(client)["halt_codes"], 60,
               "the halt to clear", process, 2)
    assert recon(client)["drifts"] == []
