"""``freqtrade trade --dry-run`` offline against the local venue, queried like an operator would.

The venue replays the real candles through ccxt's own ``binance`` class; the replay is anchored
so that a candle on which the flagship signals (found by a backtest of the same data) closes
about a minute after the bot starts. The test then talks to the running bot through
``freqtrade-client`` (REST) and through Telegram (a local Bot API server), as an operator would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from freqtrade_client import FtRestClient

from centaur.venue.replay import floor_hour
from centaur.venue.server import running_venue
from centaur.venue.state import VenueSettings
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.freqtrade_run import backtest, load_project_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, as_list, free_port, wait_until


SIGNAL_WINDOW = "20250601-20250615"
CHAT_ID = 424242
OTHER_CHAT = 999
TOKEN = "123456:CENTAUR-TEST-TOKEN"
USER, PASSWORD = "centaur", "dry-run-test-password"


def _ceil5(moment: datetime) -> datetime:
    floored = moment.replace(second=0, microsecond=0, minute=moment.minute - moment.minute % 5)
    return floored if floored == moment else floored + timedelta(minutes=5)


def choose_replay(trades: list[dict], now: datetime) -> tuple[datetime, datetime, dict]:
    """Anchor the replay so that a signal candle closes at ``target`` (>= 60 s from now).

    The venue shifts data by whole hours, so data and wall clocks share the minute: pick a
    backtest entry whose minute is the target's and place its hour there.
    """
    target = _ceil5(now + timedelta(seconds=60))
    candidates = [t for t in trades
                  if pd.Timestamp(t["open_date"]).minute == target.minute]
    assert candidates, f"no flagship entry at minute {target.minute} in {SIGNAL_WINDOW}"
    trade = candidates[len(candidates) // 2]
    entry = pd.Timestamp(trade["open_date"]).to_pydatetime()
    anchor = floor_hour(now) - (target - entry)
    return anchor, target, trade


@pytest.fixture(scope="module")
def signals(tmp_path_factory):
    directory = tmp_path_factory.mktemp("signals")
    return backtest(directory, write_config(directory, "backtest.json"),
                    timerange=SIGNAL_WINDOW).trades


@pytest.fixture(scope="module")
def bot(signals, tmp_path_factory):
    directory = tmp_path_factory.mktemp("dry_run")
    now = datetime.now(UTC)
    anchor, target, expected = choose_replay(signals, now)
    settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS, anchor=anchor)
    api_port = free_port()
    telegram, stop_telegram = start_fake_bot_api(TOKEN)
    with running_venue(settings, started=now) as venue:
        urls = load_project_config("dry-run.json")["exchange"]["ccxt_config"]["urls"]["api"]
        config = write_config(directory, "dry-run.json", {
            "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
            "exchange": {"ccxt_config": {"urls": {"api": {
                name: url.replace("http://127.0.0.1:8765", venue.url)
                for name, url in urls.items()}}}},
            "api_server": {"listen_port": api_port},
            "telegram": {"enabled": True},
            "centaur": {"telegram": {"base_url": telegram.url}},
        })
        process = TradeProcess(config, directory / "freqtrade.log", env={
            "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "j" * 40,
            "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-tests",
            "FREQTRADE__TELEGRAM__TOKEN": TOKEN,
            "FREQTRADE__TELEGRAM__CHAT_ID": str(CHAT_ID),
        })
        client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD)
        try:
            wait_until(lambda: client.ping() == {"status": "pong"}, 120, "the REST API",
                       process)
            yield {"client": client, "process": process, "venue": venue, "target": target,
                   "expected": expected, "telegram": telegram, "anchor": anchor}
        finally:
            process.stop()
            stop_telegram()


def test_the_bot_opens_a_trade_on_its_own_signal(bot):
    client, process = bot["client"], bot["process"]
    budget = (bot["target"] - datetime.now(UTC)).total_seconds() + 240
    trades = wait_until(lambda: as_list(client.status()), budget, "a dry-run trade", process, 2)
    trade = trades[0]
    assert trade["is_open"] and trade["strategy"] == "CentaurEnsemble"
    assert trade["enter_tag"] == "trend_pullback"
    assert trade["pair"] in load_project_config("dry-run.json")["exchange"]["pair_whitelist"]
    assert trade["amount"] > 0 and trade["open_rate"] > 0


def test_rest_api_serves_ping_plot_config_and_replayed_candles(bot):
    from strategies.CentaurEnsemble import CentaurEnsemble

    client, venue = bot["client"], bot["venue"]
    assert client.ping() == {"status": "pong"}
    assert client.plot_config() == json.loads(json.dumps(CentaurEnsemble.plot_config.fget(None)))
    candles = client.pair_candles("BTC/USDT:USDT", "5m", limit=50)
    columns = candles["columns"]
    assert {"rsi", "funding_rate", "ema_fast_1h"} <= set(columns)
    last = dict(zip(columns, candles["data"][-1], strict=True))
    data_time = venue.state.clock.to_data(pd.Timestamp(last["date"]).to_pydatetime())
    recorded = pd.read_feather(BINANCE_DATA / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    recorded_close = recorded.loc[recorded["date"] == pd.Timestamp(data_time), "close"]
    assert float(recorded_close.iloc[0]) == pytest.approx(last["close"])


def test_suite_status_route_reports_the_suite_plugins_in_use(bot):
    status = bot["client"]._get("centaur/status")
    assert status["exchange_class"] == "CentaurBinance"
    assert status["protections"] == ["LossStreakGuard"]
    assert status["strategy"] == "CentaurEnsemble"


def test_telegram_command_answers_only_the_authorised_chat(bot):
    telegram = bot["telegram"]
    wait_until(lambda: telegram.polls > 0, 60, "Telegram polling", bot["process"])
    telegram.send_command(OTHER_CHAT, 1, "/centaur")
    telegram.send_command(CHAT_ID, 1, "/centaur")
    answers = telegram.wait_for(lambda m: "CentaurBinance" in m["text"], 60)
    assert answers, bot["process"].log()[-3000:]
    assert all(m["chat_id"] == CHAT_ID for m in telegram.sent)
    assert len(answers) == 1, "the unauthorised chat's command was answered too"
