"""The paper gate in a real ``freqtrade trade`` on config/live.json (live mode, real orders
possible) against the local venue: a dry-run record of 15 trades stops the start with status 2
and the numbers; with ``centaur.paper_gate.override_reason`` the bot starts (its REST API
answers; STOPPED, as live.json starts), and the override is in the state store and in the
suite's status, beside the size ramp at 25 %."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from freqtrade_client import FtRestClient

from centaur.state import StateStore
from control_tower.paper_gate import list_overrides
from dev_tools.venue.clients import ccxt_urls
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, free_port, wait_until
from tests.test_paper_gate import profits, write_dry_run_db

pytestmark = pytest.mark.slow

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
USER, PASSWORD = "centaur", "paper-gate-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "p" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-paper-gate",
    "FREQTRADE__EXCHANGE__KEY": "venue-test-key",
    "FREQTRADE__EXCHANGE__SECRET": "venue-test-secret",
}
REASON = "operator accepts a short paper record for the test"


@pytest.fixture(scope="module")
def venue():
    with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                     anchor=ANCHOR)) as running:
        yield running


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    found = tmp_path_factory.mktemp("paper_gate")
    write_dry_run_db(found / "dry-run.sqlite", profits(10, 5))  # 15 closed, positive
    return found


def live_config(directory, venue, api_port: int, gate: dict[str, Any]):
    return write_config(directory, "live.json", {
        "db_url": f"sqlite:///{directory / 'live.sqlite'}",
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"],
                     "ccxt_config": {"options": {"fetchMarkets": {"types": ["spot", "linear"]}},
                                     "urls": ccxt_urls("binance", venue.url)}},
        "api_server": {"listen_port": api_port},
        "telegram": {"enabled": False},
        "centaur": {"paper_gate": {"dry_run_db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
                                   **gate}},
    }, name=f"live-{api_port}.json")


def test_a_live_start_on_a_short_dry_run_record_exits_2_naming_the_numbers(venue, directory):
    config = live_config(directory, venue, free_port(), {})
    process = run_freqtrade(["trade", "-c", str(config)], env=ENV, timeout=300)
    output = process.stdout + process.stderr
    assert process.returncode == 2, output[-4000:]
    for text in ("PAPER_GATE_REFUSED", "15 closed trades < 60 needed", "win rate 66.7%",
                 "avg win 12.00", "avg loss 8.00", "expectancy +5.3333",
                 "centaur.paper_gate.override_reason"):
        assert text in output, (text, output[-4000:])
    assert not list_overrides(StateStore(str(directory / "live.centaur.sqlite")))


@pytest.fixture(scope="module")
def overridden(venue, directory):
    api_port = free_port()
    config = live_config(directory, venue, api_port, {"override_reason": REASON})
    process = TradeProcess(config, directory / "override.log", env=ENV)
    client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=60)
    try:
        # live.json starts STOPPED (initial_state): freqtrade-client's ping says "not_running"
        config = wait_until(client.show_config, 180, "the REST API", process)
        yield client, config
    finally:
        process.stop()


def test_an_override_starts_the_bot_and_is_kept_for_the_weekly_report(overridden, directory):
    client, config = overridden
    assert config["state"] == "stopped" and config["dry_run"] is False  # up, in live mode
    tower = client._get("centaur/status")["strategy_status"]["tower"]
    gate = tower["paper_gate"]
    assert gate["verdict"] == "overridden" and gate["record"]["closed_trades"] == 15
    assert gate["override"]["why"] == REASON
    ramp = tower["size_ramp"]
    assert ramp["ratio"] == 0.25 and ramp["week"] == 0 and ramp["next_ratio"] == 0.5
    kept, = list_overrides(StateStore(str(directory / "live.centaur.sqlite")),
                           kind="paper_gate")
    assert kept["why"] == REASON and "15 closed trades < 60 needed" in kept["refused"]
