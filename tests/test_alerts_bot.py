"""Tiered alerts in a running dry-run bot: the operator's kill switch (REST) is a CRITICAL alert
that reaches Telegram (the local Bot API server) and the Slack-compatible webhook (the local
stand-in) exactly once each - the webhook after failing twice, from the outbox with backoff -
and freqtrade's own forwarding of the event text is off."""

from __future__ import annotations

import time

import pytest
from freqtrade_client import FtRestClient

from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.fakes.slack_webhook import start_fake_slack_webhook
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, free_port, wait_until
from tests.test_dry_run import ANCHOR, CHAT_ID, ENV, PASSWORD, TOKEN, USER

pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
KILL_SWITCH_ALERT = "[CRITICAL] [KILL_SWITCH]"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("alerts_bot")
    telegram, stop_telegram = start_fake_bot_api(TOKEN)
    slack, stop_slack = start_fake_slack_webhook()
    venue_settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                   anchor=ANCHOR)
    try:
        with running_venue(venue_settings) as venue:
            api_port = free_port()
            config = write_config(directory, "dry-run.json", {
                "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
                "exchange": {"ccxt_config": venue_ccxt_config(venue.url),
                             "pair_whitelist": PAIRS},
                "api_server": {"listen_port": api_port},
                "telegram": {"enabled": True},
                "centaur": {"telegram": {"base_url": telegram.url},
                            "alerts": {"enabled": True, "retry_base_secs": 0.5,
                                       "telegram": {"min_severity": "info"},
                                       "slack": {"enabled": True,
                                                 "min_severity": "warning"}}},
            })
            env = {**ENV, "CENTAUR_SLACK_WEBHOOK_URL": slack.url}
            process = TradeProcess(config, directory / "freqtrade.log", env=env)
            client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=60)
            try:
                wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API",
                           process)
                wait_until(lambda: _alerts_status(client), 120, "the alerts part", process)
                yield {"client": client, "process": process, "telegram": telegram,
                       "slack": slack}
            finally:
                process.stop()
    finally:
        stop_slack()
        stop_telegram()


def _alerts_status(client: FtRestClient) -> dict:
    strategy = client._get("centaur/status").get("strategy_status", {})
    return strategy.get("tower", {}).get("alerts") or {}


def test_the_kill_switch_is_one_critical_alert_on_telegram_and_on_slack(bot):
    client, process = bot["client"], bot["process"]
    telegram, slack = bot["telegram"], bot["slack"]
    slack.fail_next(2, status=500)  # the webhook is down for the first two tries
    posts_before = slack.posts

    assert client._post("centaur/killswitch")["halted"].startswith("[KILL_SWITCH]")

    wait_until(lambda: telegram.wait_for(lambda m: KILL_SWITCH_ALERT in m["text"], 0.1), 30,
               "the kill switch alert on Telegram", process, 0.5)
    wait_until(lambda: slack.wait_for(lambda t: KILL_SWITCH_ALERT in t, 0.1), 30,
               "the kill switch alert on the webhook", process, 0.5)
    time.sleep(6)  # a few more bot loops and worker polls: nothing arrives a second time

    on_telegram = [m for m in telegram.sent if "[KILL_SWITCH]" in m["text"]]
    on_slack = [t for t in slack.texts() if "[KILL_SWITCH]" in t]
    assert len(on_telegram) == 1, [m["text"] for m in on_telegram]
    assert len(on_slack) == 1, on_slack
    assert on_telegram[0]["chat_id"] == CHAT_ID
    assert on_slack[0].startswith("🔴 [CRITICAL] [KILL_SWITCH]: operator kill switch")
    assert slack.posts - posts_before >= 3  # two refused, then delivered from the outbox

    status = _alerts_status(client)
    assert status["channels"]["slack"]["pending"] == 0
    assert status["channels"]["slack"]["failed_attempts"] >= 2
    assert status["channels"]["telegram"]["pending"] == 0
    assert status["undelivered_events"] == 1  # ALERT_UNDELIVERED once, not per retry
    assert slack.path not in process.log()  # the webhook URL is a secret
