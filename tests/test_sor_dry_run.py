"""``freqtrade trade --dry-run`` with the order router on, across three local venues.

The bot runs as an operator runs it (``config/dry-run-sor.json``: Binance primary, Bybit and
OKX as extra venues, each capped at 9,000 USD of exposure so a 20,000 USD stake must be
split). A trade is opened and closed through freqtrade's REST API; the fills log then shows
each child fill with the trade id, strategy, signal tag and venue, on several venues, and the
exit reduced exactly what each venue held.
"""

from __future__ import annotations

import pytest
from freqtrade_client import FtRestClient

from sor_exchange.fills_log import FillsLog
from tests.fakes.sor_venues import ANCHOR, ccxt_urls, three_venues
from tests.support.freqtrade_run import write_config
from tests.support.paths import TEST_STRATEGIES
from tests.support.processes import TradeProcess, free_port, wait_until


pytestmark = pytest.mark.slow

USER, PASSWORD = "centaur", "sor-dry-run-password"
PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sor_dry_run")
    api_port = free_port()
    with three_venues(anchor=ANCHOR) as venues:
        config = write_config(directory, "dry-run-sor.json", {
            "strategy": "FundingScenario",
            "strategy_path": str(TEST_STRATEGIES),
            "db_url": f"sqlite:///{directory / 'sor.sqlite'}",
            "exchange": {"pair_whitelist": [PAIR],
                         "ccxt_config": {"urls": ccxt_urls("binance", venues["binance"].url)}},
            "api_server": {"listen_port": api_port},
            "centaur": {"exchange": {"router": {"venues": {
                name: {"ccxt_config": {"urls": ccxt_urls(name, venues[name].url)}}
                for name in ("bybit", "okx")}}}},
        })
        process = TradeProcess(config, directory / "freqtrade.log", env={
            "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "s" * 40,
            "FREQTRADE__API_SERVER__WS_TOKEN": "sor-ws-token",
        })
        client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD)
        try:
            wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API", process)
            yield {"client": client, "process": process, "venues": venues,
                   "fills": f"sqlite:///{directory / 'sor.sor-fills.sqlite'}"}
        finally:
            process.stop()


def test_a_trade_opens_and_closes_routed_across_venues(bot):
    client, process = bot["client"], bot["process"]
    wait_until(lambda: client.forceenter(PAIR, "long", order_type="market",
                                         enter_tag="sor_test").get("trade_id") is not None,
               60, "a forced entry", process, 2)
    trade = wait_until(lambda: [t for t in client.status() if t.get("amount")], 60,
                       "the routed entry to fill", process)[0]
    assert trade["is_open"] and trade["amount"] > 0
    client.forceexit(trade["trade_id"], ordertype="market")
    closed = wait_until(lambda: (t := client.trade(trade["trade_id"])) and not t["is_open"]
                        and t, 60, "the routed exit to fill", process)
    assert closed["close_rate"] > 0
    process.stop()  # freqtrade closes the exchange: fills get their trade ids

    rows = FillsLog(bot["fills"]).rows()
    entries = [r for r in rows if r["side"] == "buy"]
    exits = [r for r in rows if r["side"] == "sell"]
    assert {r["trade_id"] for r in rows} == {trade["trade_id"]}
    assert {r["strategy"] for r in rows} == {"FundingScenario"}
    assert {r["signal_tag"] for r in rows} == {"sor_test"}
    assert len({r["venue"] for r in entries}) >= 3, entries  # 20,000 USD over 9,000 caps
    assert sum(r["amount"] for r in entries) == pytest.approx(trade["amount"])
    assert sum(r["amount"] for r in exits) == pytest.approx(trade["amount"])
    for venue in {r["venue"] for r in rows}:
        held = sum(r["amount"] for r in entries if r["venue"] == venue)
        assert sum(r["amount"] for r in exits if r["venue"] == venue) == pytest.approx(held)
    assert all(r["dry_run"] for r in rows)
    orders = {name: v.state.engine.orders for name, v in bot["venues"].items()}
    assert all(not placed for placed in orders.values()), "dry-run must send no order"
