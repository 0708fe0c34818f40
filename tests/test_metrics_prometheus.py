"""A real Prometheus server scrapes a dry-run bot's metrics endpoint and answers PromQL.

One ``freqtrade trade`` process (config/dry-run.json, two pairs, against the local venue) with
``centaur.metrics`` on; Debian's ``/usr/bin/prometheus`` scrapes it every second. The tests
ask Prometheus - not the endpoint - for the series an operator's dashboard reads: equity,
trading state, halts, exchange-error breaker, signals, then a forced entry's per-pair series
and the kill switch's halt; and every query of the Grafana dashboard must parse and evaluate.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from freqtrade_client import FtRestClient

from control_tower.metrics_collector import HALT_SOURCES
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support import prometheus
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT, RECORDINGS
from tests.support.processes import TradeProcess, free_port, wait_until

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not prometheus.available(),
                                 reason="Debian's prometheus package is not installed")]

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
ETH, BTC = "ETH/USDT:USDT", "BTC/USDT:USDT"
USER, PASSWORD = "centaur", "metrics-test-password"
ENV = {"FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
       "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "j" * 40,
       "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-tests"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    directory = tmp_path_factory.mktemp("metrics")
    api_port, metrics_port = free_port(), free_port()
    with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                     anchor=ANCHOR)) as venue:
        config = write_config(directory, "dry-run.json", {
            "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
            "exchange": {"ccxt_config": venue_ccxt_config(venue.url),
                         "pair_whitelist": [BTC, ETH]},
            "api_server": {"listen_port": api_port},
            "centaur": {"metrics": {"enabled": True, "listen_port": metrics_port}},
        })
        process = TradeProcess(config, directory / "freqtrade.log", env=ENV)
        client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=120)
        try:
            wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API", process)
            with prometheus.running_prometheus(directory / "prometheus",
                                               [f"127.0.0.1:{metrics_port}"]) as server:
                wait_until(server.targets_up, 60, "the bot's endpoint up in Prometheus", process)
                yield {"client": client, "process": process, "prometheus": server}
        finally:
            process.stop()


def answered(stack, expr: str, timeout: float = 60) -> dict[tuple, float]:
    """``expr``'s series once Prometheus has at least one (it scrapes every second)."""
    return wait_until(lambda: stack["prometheus"].values(expr), timeout, f"PromQL {expr}",
                      stack["process"])


def test_equity_trading_state_halts_and_breaker_series(stack):
    assert answered(stack, "centaur_equity_usd")[()] == pytest.approx(10_000, rel=0.01)
    assert answered(stack, "centaur_trading_state == 1") == {(("state", "ACTIVE"),): 1.0}
    halts = answered(stack, "centaur_halt_active")
    assert halts == {(("reason", str(code)),): 0.0 for code in HALT_SOURCES}
    assert answered(stack, "centaur_exchange_error_limit")[()] == 5
    assert answered(stack, 'up{job="centaur"}')[()] == 1.0


def test_signal_weights_are_exported_per_signal(stack):
    weights = answered(stack, "count(centaur_signal_weight)", timeout=240)
    assert weights[()] >= 2  # every registered signal votes (write_config)


def test_a_forced_entry_shows_per_pair_series(stack):
    client = stack["client"]
    wait_until(lambda: client.pair_candles(ETH, "5m", limit=5).get("data"), 240,
               "the first analysis", stack["process"], 2)
    client.forceenter(ETH, "short")
    assert answered(stack, "centaur_open_trades == 1")
    leverage = answered(stack, f'sum(centaur_position_leverage_ratio{{pair="{ETH}"}})')[()]
    assert 1.0 <= leverage <= 10.0
    assert answered(stack, f'sum(centaur_leverage_ratio{{pair="{ETH}"}})')[()] == leverage
    assert answered(stack, f'sum(centaur_order_fills_total{{pair="{ETH}",side="sell"}})')[()] == 1
    assert answered(stack, f'sum(centaur_position_notional_usd{{pair="{ETH}",side="short"}})'
                    )[()] > 0
    assert set(answered(stack, "centaur_open_pnl_usd")) == {(("pair", ETH),)}
    assert {k[0][1] for k in answered(stack, "centaur_funding_rate_ratio")} == {BTC, ETH}
    # the order path's requests (the entry's order book, its order) with their durations
    assert answered(stack, 'sum(centaur_venue_api_requests_total{venue="binance"})')[()] >= 1
    assert answered(stack, 'sum(centaur_venue_api_seconds_total{venue="binance"})')[()] > 0


def test_the_kill_switch_shows_as_a_halt_with_its_reason_code(stack):
    client = stack["client"]
    client._post("centaur/killswitch")
    assert answered(stack, "centaur_halt_active == 1") == {(("reason", "KILL_SWITCH"),): 1.0}
    assert answered(stack, "centaur_trading_state == 1") == {(("state", "HALTED"),): 1.0}
    assert answered(stack, 'sum(centaur_events_total{code="KILL_SWITCH"})')[()] >= 1
    # the halt flattens: the forced trade closes and counts for its entry tag
    closed = answered(stack, 'centaur_closed_trades_total{enter_tag="force_entry"} == 1')
    assert closed == {(("enter_tag", "force_entry"),): 1.0}
    assert answered(stack, "centaur_open_trades")[()] == 0


def test_every_dashboard_query_parses_and_evaluates_in_prometheus(stack):
    dashboard = json.loads((PROJECT_ROOT / "dashboards" / "centaur-grafana.json").read_text())
    server = stack["prometheus"]
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            server.query(target["expr"].replace("$__rate_interval", "1m"))  # raises if refused


def test_no_scrape_section_failed_during_the_run(stack):
    assert stack["prometheus"].values("centaur_metrics_errors_total") == {}
