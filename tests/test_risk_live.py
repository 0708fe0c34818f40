"""The risk layer in a running ``freqtrade trade --dry-run`` bot against the local venue.

- exchange errors (injected 5xx on the venue's order book) put the bot in safe mode, which
  clears by itself once the window has passed;
- a breaker trips (max drawdown, set tiny), the bot is killed with SIGKILL mid-day, restarted,
  and is still halted with the same leverage state and the same lock;
- the operator's kill switch (REST) flattens and halts; /resume on Telegram clears it.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from datetime import UTC, datetime

import pytest
import requests
from freqtrade_client import FtRestClient

from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, as_list, free_port, wait_until


pytestmark = pytest.mark.slow

CHAT_ID = 515151
TOKEN = "654321:CENTAUR-RISK-TEST"
USER, PASSWORD = "centaur", "risk-live-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "k" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-risk-tests",
    "FREQTRADE__TELEGRAM__TOKEN": TOKEN,
    "FREQTRADE__TELEGRAM__CHAT_ID": str(CHAT_ID),
}


def _post(url: str, payload) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    directory = tmp_path_factory.mktemp("risk_live")
    settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                             anchor=datetime(2025, 6, 10, 12, tzinfo=UTC))
    api_port = free_port()
    telegram, stop_telegram = start_fake_bot_api(TOKEN)
    with running_venue(settings) as venue:
        config = write_config(directory, "dry-run.json", {
            "db_url": f"sqlite:///{directory / 'risk-live.sqlite'}",
            "exchange": {"ccxt_config": venue_ccxt_config(venue.url)},
            "api_server": {"listen_port": api_port},
            "telegram": {"enabled": True},
            "centaur": {"telegram": {"base_url": telegram.url},
                        "risk": {"breakers": {"max_drawdown_ratio": 0.00005,
                                              "error_max_count": 3, "error_window_secs": 20}}},
        })
        yield {"config": config, "directory": directory, "venue": venue, "api_port": api_port,
               "telegram": telegram}
        stop_telegram()


def _start(setup, name: str) -> tuple[TradeProcess, FtRestClient]:
    process = TradeProcess(setup["config"], setup["directory"] / f"{name}.log", env=ENV)
    # A loop of the full flagship takes seconds; the kill switch waits for freqtrade's exit lock.
    client = FtRestClient(f"http://127.0.0.1:{setup['api_port']}", USER, PASSWORD, timeout=120)
    wait_until(lambda: client.ping() == {"status": "pong"}, 120, "the REST API", process)
    return process, client


def _force_enter(client: FtRestClient, pair: str) -> dict | None:
    """freqtrade answers a failed forced entry with a plain-text 500: that is a failure too."""
    try:
        return client.forceenter(pair, "long")
    except requests.exceptions.JSONDecodeError:
        return None


def _status(client: FtRestClient) -> dict:
    return client._get("centaur/status")["strategy_status"]


def _halt_codes(client: FtRestClient) -> list[str]:
    return _status(client)["halt_codes"]


def test_safe_mode_breaker_restart_and_operator_override(setup):
    venue = setup["venue"]
    process, client = _start(setup, "first")
    try:
        # 1. exchange errors -> safe mode, which clears by itself
        _post(f"{venue.url}/_venue/faults",
              [{"method": "GET", "path": "/fapi/v1/depth", "action": "error_500", "times": 200}])
        failed_entries = []

        def failing_entries_until_safe_mode():
            if "EXCHANGE_ERROR_RATE" in _halt_codes(client):
                return True
            failed_entries.append(_force_enter(client, "BTC/USDT:USDT"))
            return False
        wait_until(failing_entries_until_safe_mode, 120, "safe mode after exchange errors",
                   process)
        assert all(r is None for r in failed_entries)  # every forced entry's book failed
        assert as_list(client.status()) == []
        locks = client.locks()["locks"]
        assert any(lock["reason"].startswith("[EXCHANGE_ERROR_RATE]") for lock in locks)
        _post(f"{venue.url}/_venue/faults", [])
        wait_until(lambda: _status(client)["trading_state"] != "HALTED", 120,
                   "safe mode to clear", process)

        # 2. a trade, a breaker trip (max drawdown), its lock and leverage state
        _force_enter(client, "BTC/USDT:USDT")
        trades = wait_until(lambda: as_list(client.status()), 60, "the forced entry", process)
        assert trades[0]["pair"] == "BTC/USDT:USDT"
        wait_until(lambda: "MAX_DRAWDOWN" in _halt_codes(client), 60, "the breaker", process)
        before = _status(client)
        assert before["trading_state"] == "HALTED"
        assert before["leverage"]["BTC/USDT:USDT"] >= 1.0
    finally:
        assert process.stop(signal.SIGKILL) == -signal.SIGKILL

    # 3. SIGKILL mid-day, restart: still halted, same leverage state, same lock, trade open
    process, client = _start(setup, "after_sigkill")
    try:
        wait_until(lambda: _status(client).get("trading_state"), 60, "the risk state", process)
        after = _status(client)
        assert after["trading_state"] == "HALTED"
        assert "MAX_DRAWDOWN" in _halt_codes(client)
        assert after["leverage"] == before["leverage"]
        assert any(lock["reason"].startswith("[MAX_DRAWDOWN]") for lock in client.locks()["locks"])
        assert [t["pair"] for t in as_list(client.status())] == ["BTC/USDT:USDT"]
        _force_enter(client, "ETH/USDT:USDT")  # denied while halted: stake 0
        assert [t["pair"] for t in as_list(client.status())] == ["BTC/USDT:USDT"]

        # 4. kill switch over REST: flatten and halt; /resume over Telegram clears it
        response = client._post("centaur/killswitch")
        assert response["halted"].startswith("[KILL_SWITCH]")
        wait_until(lambda: as_list(client.status()) == [] or None, 60, "the flattening",
                   process)
        assert "KILL_SWITCH" in _halt_codes(client)
        telegram = setup["telegram"]
        wait_until(lambda: telegram.polls > 0, 60, "Telegram polling", process)
        telegram.send_command(CHAT_ID, 1, "/resume")
        answer = telegram.wait_for(lambda m: "cleared" in m["text"], 60)
        assert answer and "KILL_SWITCH" in answer[0]["text"]
        assert "MAX_DRAWDOWN" in answer[0]["text"]
        wait_until(lambda: _status(client)["trading_state"] != "HALTED", 30, "the resume",
                   process)
        assert _halt_codes(client) == []
    finally:
        process.stop()
