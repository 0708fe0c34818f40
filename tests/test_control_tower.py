"""The control tower as a new user meets it: one bot against the local venue with every part on.

A live-mode ``freqtrade trade`` (real orders at the local venue, keys from the environment,
because reconciliation compares with what a venue holds - in dry-run nothing is held there):

- first, the same config with the paper gate on and a 15-trade dry-run record: the start is
  refused (exit 2) naming the numbers; then started with ``override_reason``, which is logged
  and kept for the weekly report;
- the real Prometheus (Debian's package) scrapes the metrics endpoint and answers PromQL;
- an entry above ``centaur.human_confirm.above_usd`` waits for a GO pressed in Telegram (the
  local Bot API server); a second one gets no answer and times out: no trade;
- a position injected at the venue is a reconciliation drift: entries halt, and the CRITICAL
  alert arrives on Telegram and on the Slack-compatible webhook (local stand-ins), the halt
  shows in Prometheus; when the venue agrees again the halt lifts;
- the trade opened after the GO carries its decision trail (FreqUI's custom data), and the
  weekly report renders from the bot's database (HTML, PDF with pages that render).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import requests
from freqtrade_client import FtRestClient

from dev_tools.venue.clients import ccxt_urls
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.fakes.slack_webhook import start_fake_slack_webhook
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT, RECORDINGS
from tests.support.processes import TradeProcess, as_list, free_port, wait_until
from tests.support.prometheus import running_prometheus
from tests.test_human_go_bot import buttons, prompt_for, room_in_candle, timed_out_without_trade
from tests.test_paper_gate import profits, write_dry_run_db

pytestmark = pytest.mark.slow

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
CHAT_ID = 515151
TOKEN = "654321:CENTAUR-TOWER-TOKEN"
USER, PASSWORD = "centaur", "control-tower-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "t" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-the-tower",
    "FREQTRADE__EXCHANGE__KEY": "venue-test-key",
    "FREQTRADE__EXCHANGE__SECRET": "venue-test-secret",
    "FREQTRADE__TELEGRAM__TOKEN": TOKEN,
    "FREQTRADE__TELEGRAM__CHAT_ID": str(CHAT_ID),
}
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
GO_TIMEOUT_SECS = 20
OVERRIDE = "paper record short on purpose: control tower acceptance test"


def tower_config(directory, venue, telegram_url: str, api_port: int, metrics_port: int,
                 paper_gate: dict, name: str):
    return write_config(directory, "dry-run.json", {
        "dry_run": False,
        "bot_name": "centaur-tower",
        "db_url": f"sqlite:///{directory / 'live.sqlite'}",
        "exchange": {"pair_whitelist": [BTC, ETH],
                     "ccxt_config": {"urls": ccxt_urls("binance", venue.url)}},
        "api_server": {"listen_port": api_port},
        "telegram": {"enabled": True},
        "centaur": {
            "telegram": {"base_url": telegram_url},
            "ensemble": {"signals": []},  # flat: only the operator's forced entries
            "paper_gate": {"dry_run_db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
                           **paper_gate},
            "metrics": {"enabled": True, "listen_port": metrics_port},
            "alerts": {"enabled": True, "retry_base_secs": 0.5,
                       "telegram": {"min_severity": "info"},
                       "slack": {"enabled": True, "min_severity": "warning"}},
            "human_confirm": {"enabled": True, "above_usd": 20.0,
                              "timeout_secs": GO_TIMEOUT_SECS},
            "reconciliation": {"enabled": True, "interval_secs": 5},
        },
    }, name=name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    directory = tmp_path_factory.mktemp("control_tower")
    write_dry_run_db(directory / "dry-run.sqlite", profits(10, 5))  # 15 closed trades
    telegram, stop_telegram = start_fake_bot_api(TOKEN)
    slack, stop_slack = start_fake_slack_webhook()
    env = {**ENV, "CENTAUR_SLACK_WEBHOOK_URL": slack.url}
    settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS, anchor=ANCHOR)
    try:
        with running_venue(settings) as venue:
            refused = run_freqtrade(["trade", "-c", str(tower_config(
                directory, venue, telegram.url, free_port(), free_port(), {},
                "refused.json"))], env=env, timeout=300)
            api_port, metrics_port = free_port(), free_port()
            config = tower_config(directory, venue, telegram.url, api_port, metrics_port,
                                  {"override_reason": OVERRIDE}, "tower.json")
            process = TradeProcess(config, directory / "freqtrade.log", env=env)
            client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, PASSWORD, timeout=60)
            try:
                wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API",
                           process)
                for pair in (BTC, ETH):  # entries need the analysis (else DATA_GAP)
                    wait_until(lambda p=pair: client.pair_candles(p, "5m", limit=5).get("data"),
                               240, f"the first analysis of {pair}", process, 2)
                wait_until(lambda: tower(client).get("reconciliation", {}).get("last_run"),
                           60, "a first reconciliation", process, 2)
                wait_until(lambda: telegram.polls > 0, 60, "Telegram polling", process)
                with running_prometheus(directory / "prometheus",
                                        [f"127.0.0.1:{metrics_port}"]) as prometheus:
                    wait_until(prometheus.targets_up, 60, "the scrape target to be up", process)
                    yield {"client": client, "process": process, "venue": venue,
                           "telegram": telegram, "slack": slack, "prometheus": prometheus,
                           "refused": refused, "config": config, "directory": directory}
            finally:
                process.stop()
    finally:
        stop_slack()
        stop_telegram()


def tower(client: FtRestClient) -> dict:
    return client._get("centaur/status")["strategy_status"].get("tower", {})


def halt_codes(client: FtRestClient) -> list[str]:
    return client._get("centaur/status")["strategy_status"].get("halt_codes", [])


def open_pairs(client: FtRestClient) -> list[str]:
    return [t["pair"] for t in as_list(client.status())]


def promql(stack, expr: str) -> dict:
    return stack["prometheus"].values(expr)


def test_a_live_start_without_a_good_paper_record_is_refused_then_overridden(stack):
    refused = stack["refused"]
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2, output[-3000:]
    assert "PAPER_GATE_REFUSED" in output and "15 closed trades < 60 needed" in output
    gate = tower(stack["client"])["paper_gate"]
    assert gate["verdict"] == "overridden" and gate["override"]["why"] == OVERRIDE
    assert tower(stack["client"])["size_ramp"]["ratio"] == 0.25  # live size starts at 25 %


def test_prometheus_scrapes_the_bot(stack):
    assert promql(stack, "sum(up)")[()] == 1.0
    assert promql(stack, "sum(centaur_equity_usd)")[()] > 0
    assert promql(stack, 'sum(centaur_trading_state{state="ACTIVE"})')[()] == 1.0


def test_go_pressed_in_telegram_opens_the_entry_and_it_carries_its_trail(stack):
    client, telegram, process = stack["client"], stack["telegram"], stack["process"]
    assert "[HUMAN_GO_PENDING]" in str(client.forceenter(BTC, "long"))
    prompt = prompt_for(telegram, BTC, "long")
    telegram.press_button(CHAT_ID, 1, prompt, buttons(prompt)["GO"])
    wait_until(lambda: [a for a in telegram.callback_answers if a["text"] == "GO accepted"],
               30, "the GO to be accepted", process, 0.5)
    client.forceenter(BTC, "long")
    (trade,) = wait_until(lambda: [t for t in as_list(client.status()) if t["pair"] == BTC],
                          60, "the trade after the GO", process)
    found = wait_until(lambda: client.list_custom_data(trade["trade_id"], "centaur_entry"), 30,
                       "the decision trail", process)
    trail = found[0]["custom_data"][0]["value"]
    assert "human_go" in " ".join(trail["gates_passed"])
    assert trail["order"]["notional_usd"] > 20.0
    # the venue holds what the bot holds: reconciliation stays clean
    wait_until(lambda: tower(client)["reconciliation"].get("last_run") and not
               tower(client)["reconciliation"].get("drifts"), 30, "a clean reconciliation",
               process, 2)
    assert "RECONCILIATION_DRIFT" not in halt_codes(client)


def test_no_answer_in_time_is_no_trade(stack):
    client, telegram, process = stack["client"], stack["telegram"], stack["process"]
    room_in_candle(GO_TIMEOUT_SECS + 25)
    assert "[HUMAN_GO_PENDING]" in str(client.forceenter(ETH, "short"))
    prompt_for(telegram, ETH, "short")
    (pending,) = [r for r in client._get("centaur/go")["pending"]
                  if (r["pair"], r["side"]) == (ETH, "short")]
    timed_out_without_trade(client, process, ETH, "short", pending["id"], GO_TIMEOUT_SECS)


def test_a_drift_at_the_venue_halts_entries_with_a_critical_alert_on_both_channels(stack):
    client, process, venue = stack["client"], stack["process"], stack["venue"]
    telegram, slack = stack["telegram"], stack["slack"]
    requests.post(f"{venue.url}/_venue/positions", json={"symbol": "ETHUSDT", "amount": -0.5},
                  timeout=10).raise_for_status()
    wait_until(lambda: "RECONCILIATION_DRIFT" in halt_codes(client), 60,
               "the drift to halt entries", process, 2)
    alert = "[CRITICAL] [RECONCILIATION_DRIFT]"
    assert telegram.wait_for(lambda m: alert in m.get("text", ""), 30), "no Telegram alert"
    assert slack.wait_for(lambda text: alert in text, 30), "no Slack alert"
    wait_until(lambda: promql(stack, 'sum(centaur_halt_active{reason="RECONCILIATION_DRIFT"})'
                              ).get(()) == 1.0, 30, "the halt in Prometheus", process, 2)
    assert "TRADING_STATE_HALTED" in str(client.forceenter(ETH, "long"))

    requests.post(f"{venue.url}/_venue/positions", json={"symbol": "ETHUSDT", "amount": 0.0},
                  timeout=10).raise_for_status()
    wait_until(lambda: "RECONCILIATION_DRIFT" not in halt_codes(client), 60,
               "the halt to lift once the venue agrees", process, 2)


def test_the_weekly_report_renders_from_the_bots_database(stack, tmp_path):
    out = tmp_path / "weekly"
    done = subprocess.run(
        [sys.executable, "-m", "control_tower.weekly_report", "-c", str(stack["config"]),
         "--datadir", str(BINANCE_DATA), "--out", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    overrides = report["overrides"]
    assert {"human_go", "overrides"} <= {o["source"] for o in overrides}, overrides
    assert any(OVERRIDE in o["message"] for o in overrides if o["source"] == "overrides")
    assert any("telegram user 1" in o["message"] for o in overrides if o["source"] == "human_go")
    assert "RECONCILIATION_DRIFT" in {h["code"] for h in report["halts"]}, report["halts"]
    assert out.with_suffix(".html").read_text().count("<img") >= 2
    pages = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(out.with_suffix(".pdf")), str(pages)],
                   check=True, timeout=120)
    assert sorted(tmp_path.glob("page*.png"))
