"""Human GO on a running dry-run bot: forced entries above ``centaur.human_confirm.above_usd``
wait for a GO pressed in Telegram (the local Bot API server) or posted over REST; no answer
within ``timeout_secs`` is no trade; a press from another chat is refused.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
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

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
CHAT_ID, OTHER_CHAT = 424242, 999
TOKEN = "123456:CENTAUR-TEST-TOKEN"
USER, PASSWORD = "centaur", "human-go-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "j" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-tests",
    "FREQTRADE__TELEGRAM__TOKEN": TOKEN,
    "FREQTRADE__TELEGRAM__CHAT_ID": str(CHAT_ID),
}

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
TIMEOUT_SECS = 20
CANDLE_SECS = 300


@contextmanager
def bot_with_human_go(directory, venue, telegram_url: str):
    api_port = free_port()
    config = write_config(directory, "dry-run.json", {
        "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
        "exchange": {"ccxt_config": venue_ccxt_config(venue.url), "pair_whitelist": PAIRS},
        "api_server": {"listen_port": api_port},
        "telegram": {"enabled": True},
        "centaur": {"telegram": {"base_url": telegram_url},
                    "ensemble": {"signals": []},  # flat: only forced entries
                    "human_confirm": {"enabled": True, "above_usd": 20.0,
                                      "timeout_secs": TIMEOUT_SECS}},
    })
    process = TradeProcess(config, directory / "freqtrade.log", env=ENV)
    client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=120)
    try:
        wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API", process)
        yield client, process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    telegram, stop_telegram = start_fake_bot_api(TOKEN)
    try:
        with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                         anchor=ANCHOR)) as venue, \
                bot_with_human_go(tmp_path_factory.mktemp("human_go"), venue,
                                  telegram.url) as (client, process):
            for pair in PAIRS:  # entries need the analysis (else DATA_GAP)
                wait_until(lambda p=pair: client.pair_candles(p, "5m", limit=5).get("data"),
                           240, "the first analysis", process, 2)
            wait_until(lambda: telegram.polls > 0, 60, "Telegram polling", process)
            yield {"client": client, "process": process, "telegram": telegram}
    finally:
        stop_telegram()


def prompt_for(telegram, pair: str, side: str) -> dict:
    """The newest GO / NO prompt for ``pair`` and ``side``."""
    prompts = telegram.wait_for(lambda m: m.get("reply_markup") and
                                f"GO needed for {pair} {side}" in m["text"], 30)
    assert prompts, "no Telegram prompt with buttons"
    return prompts[-1]


def buttons(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"]
            for row in message["reply_markup"]["inline_keyboard"] for b in row}


def go_state(client) -> dict:
    return client._get("centaur/go")


def open_pairs(client) -> list[str]:
    return [t["pair"] for t in as_list(client.status())]


def room_in_candle(needed_secs: float) -> None:
    """Denials for a candle (NO, timeout) hold within it: start where one is left (best
    effort - ``timed_out_without_trade`` holds when a loaded machine runs past the candle)."""
    left = CANDLE_SECS - time.time() % CANDLE_SECS
    if left < needed_secs:
        time.sleep(left + 2)


def timed_out_without_trade(client, process, pair: str, side: str, request_id: str,
                            timeout_secs: float) -> None:
    """The request times out and no trade opens. The entry asked again is refused
    ``HUMAN_GO_TIMEOUT`` within the request's candle; once that candle has ended (a slow
    machine) it files a new request for the new candle instead (``HUMAN_GO_PENDING``). Either
    way the request is recorded as timed out, with its timeout answer in the log."""
    wait_until(lambda: [r for r in go_state(client)["recent"]
                        if r["id"] == request_id and r["status"] == "timeout"],
               timeout_secs + 20, "the request to time out", process)
    retry = str(client.forceenter(pair, side))
    state = go_state(client)
    (request,) = [r for r in state["recent"] if r["id"] == request_id]
    assert request["status"] == "timeout" and request["answered_by"] is None
    assert [(a["answer"], a["accepted"], a["reason"]) for a in state["answers"]
            if a["request_id"] == request_id] == [("timeout", True, "HUMAN_GO_TIMEOUT")]
    if "[HUMAN_GO_TIMEOUT]" not in retry:  # the candle ended: a new candle, a new request
        assert "[HUMAN_GO_PENDING]" in retry, retry
        newer = [r for r in state["pending"] if (r["pair"], r["side"]) == (pair, side)]
        assert newer and all(r["candle_time"] > request["candle_time"] for r in newer), newer
    assert pair not in open_pairs(client)


def test_go_pressed_in_the_authorised_chat_opens_the_forced_trade(bot):
    client, telegram, process = bot["client"], bot["telegram"], bot["process"]
    pair = PAIRS[0]
    first = client.forceenter(pair, "long")
    assert "[HUMAN_GO_PENDING]" in str(first)
    prompt = prompt_for(telegram, pair, "long")
    assert set(buttons(prompt)) == {"GO", "NO"}
    assert prompt["chat_id"] == CHAT_ID
    (pending,) = [r for r in go_state(client)["pending"] if r["pair"] == pair]
    assert buttons(prompt)["GO"] == f"centaur_go:{pending['id']}:go"
    assert pending["notional_usd"] > 20.0 and pending["tag"] == "force_entry"

    telegram.press_button(OTHER_CHAT, 2, prompt, buttons(prompt)["GO"])
    refused = wait_until(lambda: [a for a in telegram.callback_answers if "refused" in a["text"]],
                         30, "the refusal of the other chat's press", process, 0.5)
    assert "not authorised" in refused[0]["text"]
    assert [r["id"] for r in go_state(client)["pending"]] == [pending["id"]]
    assert "[HUMAN_GO_PENDING]" in str(client.forceenter(pair, "long"))

    telegram.press_button(CHAT_ID, 1, prompt, buttons(prompt)["GO"])
    wait_until(lambda: [a for a in telegram.callback_answers if a["text"] == "GO accepted"],
               30, "the GO to be accepted", process, 0.5)
    edited = wait_until(lambda: [e for e in telegram.edits
                                 if e["message_id"] == prompt["message_id"]],
                        30, "the prompt edited with the answer", process, 0.5)
    assert "GO by telegram user 1" in edited[-1]["text"]

    client.forceenter(pair, "long")
    wait_until(lambda: pair in open_pairs(client), 60, "the trade after the GO", process)
    answers = go_state(client)["answers"]
    assert [(a["answer"], a["accepted"], a["by"]) for a in answers if a["pair"] == pair] == [
        ("go", False, f"telegram user 2 in chat {OTHER_CHAT}"),
        ("go", True, "telegram user 1")]


def test_no_answer_in_time_is_no_trade(bot):
    client, telegram, process = bot["client"], bot["telegram"], bot["process"]
    pair = PAIRS[1]
    room_in_candle(TIMEOUT_SECS + 25)
    assert "[HUMAN_GO_PENDING]" in str(client.forceenter(pair, "long"))
    prompt = prompt_for(telegram, pair, "long")
    (pending,) = [r for r in go_state(client)["pending"] if r["pair"] == pair]

    timed_out_without_trade(client, process, pair, "long", pending["id"], TIMEOUT_SECS)
    edited = wait_until(lambda: [e for e in telegram.edits
                                 if e["message_id"] == prompt["message_id"]],
                        30, "the prompt edited with the timeout", process, 0.5)
    assert "TIMEOUT" in edited[-1]["text"]


def test_go_posted_over_rest_by_a_frequi_user(bot):
    client, process = bot["client"], bot["process"]
    pair = PAIRS[1]
    assert "[HUMAN_GO_PENDING]" in str(client.forceenter(pair, "short"))
    (pending,) = [r for r in go_state(client)["pending"]
                  if r["pair"] == pair and r["side"] == "short"]
    url = f"{client._serverurl}/api/v1/centaur/go/{pending['id']}"
    assert requests.post(url, json={"answer": "go"}, timeout=30).status_code == 401
    answer = client._post(f"centaur/go/{pending['id']}", data={"answer": "go"})
    assert answer["accepted"] and answer["by"] == f"REST user {USER}"
    again = client._post(f"centaur/go/{pending['id']}", data={"answer": "no"})
    assert "already granted" in again["detail"]

    client.forceenter(pair, "short")
    wait_until(lambda: pair in open_pairs(client), 60, "the trade after the REST GO", process)
