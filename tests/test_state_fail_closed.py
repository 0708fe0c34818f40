"""Losing the risk state never re-enables trading: a running ``freqtrade trade`` dry-run bot.

Found by probing: deleting the state file while [KILL_SWITCH] was active came back ACTIVE and
forced entries opened; /resume answered {'cleared': []} and left freqtrade's lock; a lock
deleted in FreqUI stayed deleted while the suite stayed HALTED; a forced entry failed with a
bare "Failed to enter position"; the kill switch's exits said ``force_exit``; random bytes
stopped start-up with ``file is not a database``; a stored ``{}`` was silently ACTIVE.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
import websockets
from freqtrade_client import FtRestClient

from centaur.state import StateStore
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, as_list, free_port, wait_until


pytestmark = pytest.mark.slow

USER, PASSWORD = "centaur", "state-test-password-3c9e"
JWT, WS_TOKEN = "j" * 24 + "-state-test-jwt-5d", "state-test-ws-token-77b1"
ENV = {"FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
       "FREQTRADE__API_SERVER__JWT_SECRET_KEY": JWT,
       "FREQTRADE__API_SERVER__WS_TOKEN": WS_TOKEN}


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("state_fail_closed")
    settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                             anchor=datetime(2025, 6, 10, 12, tzinfo=UTC))
    api_port = free_port()
    with running_venue(settings) as venue:
        config = write_config(directory, "dry-run.json", {
            "db_url": f"sqlite:///{directory / 'bot.sqlite'}",
            "exchange": {"ccxt_config": venue_ccxt_config(venue.url)},
            "api_server": {"listen_port": api_port},
        })
        yield {"config": config, "directory": directory, "api_port": api_port,
               "state_file": directory / "bot.centaur.sqlite"}


class Bot:
    def __init__(self, setup: dict, name: str):
        self.process = TradeProcess(setup["config"], setup["directory"] / f"{name}.log", env=ENV)
        self.client = FtRestClient(f"http://127.0.0.1:{setup['api_port']}", USER, PASSWORD,
                                   timeout=120)
        self.port = setup["api_port"]
        wait_until(lambda: self.client.ping() == {"status": "pong"}, 120, "the REST API",
                   self.process)
        wait_until(lambda: self.status().get("trading_state"), 60, "the risk state",
                   self.process)

    def status(self) -> dict:
        return self.client._get("centaur/status")["strategy_status"]

    def halt_codes(self) -> set[str]:
        return set(self.status()["halt_codes"])

    def suite_locks(self) -> list[dict]:
        return [lock for lock in self.client.locks()["locks"]
                if lock["reason"].startswith(("[KILL_SWITCH]", "[STATE_"))]

    def event_codes(self) -> list[str]:
        return [event["code"] for event in self.status()["events"]]

    def stop(self) -> None:
        assert self.process.stop(signal.SIGINT) in (0, 130)  # 130: freqtrade's SIGINT exit


def _delete_state(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _websocket_with_token(port: int) -> None:
    """What FreqUI does: the token in the URL, which uvicorn logs."""
    async def connect():
        url = f"ws://127.0.0.1:{port}/api/v1/message/ws?token={WS_TOKEN}"
        async with websockets.connect(url) as socket:
            await socket.send('{"type": "subscribe", "data": ["status"]}')
    asyncio.run(connect())


def test_losing_the_state_never_reenables_trading(bot):
    first = Bot(bot, "first")
    try:
        assert first.status()["trading_state"] == "ACTIVE"  # a first start: nothing lost
        _websocket_with_token(first.port)

        def entered():  # the first loops may still lack the funding candle (DATA_GAP), and
            # every signal votes here: the ensemble may already hold a pair of its own
            held = {t["pair"]: t["enter_tag"] for t in as_list(first.client.status())}
            if "force_entry" in held.values():
                return held
            free = [p for p in ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
                    if p not in held]
            first.client.forceenter(free[0], "long")
            return None
        wait_until(entered, 90, "the forced entry", first.process, interval=3)

        # the kill switch flattens through the risk layer: the exit carries its code
        assert first.client._post("centaur/killswitch")["halted"].startswith("[KILL_SWITCH]")
        wait_until(lambda: as_list(first.client.status()) == [] or None, 60, "the flattening",
                   first.process)
        # the ensemble's own trades, if any, were flattened the same way
        trades = first.client.trades()["trades"]
        closed, = [t for t in trades if t["enter_tag"] == "force_entry"]
        assert {t["exit_reason"] for t in trades} == {"KILL_SWITCH"}

        # a forced entry while halted is denied, and says why
        answer = first.client.forceenter("ETH/USDT:USDT", "long")
        assert "[TRADING_STATE_HALTED]" in str(answer)
        assert as_list(first.client.status()) == []

        # the lock deleted as FreqUI does comes back, with a warning
        lock, = first.suite_locks()
        first.client.delete_lock(lock["id"])
        relocked = wait_until(lambda: [lk for lk in first.suite_locks()
                                       if lk["id"] != lock["id"]], 60, "the re-asserted lock",
                              first.process)
        assert relocked[0]["reason"].startswith("[KILL_SWITCH]")
        assert "LOCK_REASSERTED" in first.event_codes()
        assert first.status()["trading_state"] == "HALTED"
    finally:
        first.stop()
    log = first.process.log()
    assert "message/ws" in log or "WebSocket" in log or "websocket" in log
    assert PASSWORD not in log and JWT not in log and WS_TOKEN not in log

    # 1. the state file deleted while the kill switch is active
    _delete_state(bot["state_file"])
    lost = Bot(bot, "after_delete")
    try:
        assert lost.status()["trading_state"] == "HALTED"
        assert lost.halt_codes() == {"STATE_LOST", "KILL_SWITCH"}  # freqtrade's lock adopted
        critical = [e for e in lost.status()["events"] if e["code"] == "STATE_LOST"]
        assert critical and critical[0]["severity"] == "critical"
        assert str(bot["state_file"]) in critical[0]["message"]
        assert "/state_reset" in critical[0]["message"]
        assert "[TRADING_STATE_HALTED]" in str(lost.client.forceenter("XRP/USDT:USDT", "long"))
        assert as_list(lost.client.status()) == []

        # /resume clears the kill switch and its freqtrade lock; the state halt stays
        resumed = lost.client._post("centaur/resume", data={"include_timed": True})
        assert resumed["cleared_codes"] == ["KILL_SWITCH"]
        assert resumed["still_halted_codes"] == ["STATE_LOST"]
        assert [lk["reason"][:12] for lk in lost.suite_locks()] == ["[STATE_LOST]"]
        # only the operator's explicit fresh start ends it
        reset = lost.client._post("centaur/state/reset")
        assert reset["still_halted_codes"] == [] and lost.suite_locks() == []
        assert lost.status()["trading_state"] == "ACTIVE"
        assert "STATE_RESET" in lost.event_codes()
    finally:
        lost.stop()

    # 2. random bytes: moved aside, HALTED STATE_CORRUPT (not a start-up crash)
    bot["state_file"].write_bytes(os.urandom(8192))
    for suffix in ("-wal", "-shm"):  # a WAL left by a bot stopped hard would still hold page 1
        Path(f"{bot['state_file']}{suffix}").unlink(missing_ok=True)
    corrupt = Bot(bot, "after_garbage")
    try:
        assert corrupt.halt_codes() == {"STATE_CORRUPT"}
        assert list(bot["directory"].glob("bot.centaur.sqlite.corrupt-*"))
        assert "[TRADING_STATE_HALTED]" in str(corrupt.client.forceenter("SOL/USDT:USDT",
                                                                         "long"))
        corrupt.client._post("centaur/state/reset")
    finally:
        corrupt.stop()

    # 3. a stored state of {}: schema-invalid, not silently ACTIVE
    StateStore(str(bot["state_file"])).put("risk", "state", {})
    empty = Bot(bot, "after_empty_object")
    try:
        assert empty.halt_codes() == {"STATE_CORRUPT"}
        assert empty.status()["trading_state"] == "HALTED"
    finally:
        empty.stop()
