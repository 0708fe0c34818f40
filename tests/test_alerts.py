"""Tiered alerts: the router's rules with recording channels and an injected clock, the outbox
across failures and a restart, the producers (HIGH_SLIPPAGE, the LLM veto of a high-conviction
signal), and the real channel classes against the local Slack webhook stand-in and the local
Telegram Bot API server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.tower import AlertsSettings
from centaur.state import StateStore
from control_tower.alert_channels import (
    DeliveryError,
    SlackWebhookChannel,
    TelegramChannel,
    build_channels,
)
from control_tower.alerts import AlertRouter, AlertsPart, alerts_part
from control_tower.alerts_outbox import Outbox
from control_tower.alerts_policy import ChannelRoute, rank
from control_tower.alerts_slippage import FillsLogReader, high_slippage, venue_slippage
from llm_layer.veto_gate import LlmVetoGate
from sor_exchange.fills_log import Fill, FillsLog
from tests.fakes.slack_webhook import start_fake_slack_webhook
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.processes import free_port

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "123456:ALERTS-TEST-TOKEN"
CHAT_ID = 515151
BTC_PAIR = "BTC/USDT:USDT"


class RecordingChannel:
    """A channel that keeps what it was given; told to fail, it fails as a channel does."""

    def __init__(self, name: str):
        self.name = name
        self.texts: list[str] = []
        self.failures: list[DeliveryError] = []

    def fail_next(self, count: int, retry_after_secs: float | None = None) -> None:
        self.failures += [DeliveryError("HTTP 500: down", retry_after_secs)] * count

    def send(self, text: str) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.texts.append(text)


def _event(severity=Severity.WARNING, code=ReasonCode.DRIFT_BLOCK, pair="BTC/USDT:USDT",
           at=T0, **data) -> OperatorEvent:
    return OperatorEvent(at, severity, code, f"{code} happened", pair, data)


def _code(text: str) -> str:
    """``[CODE]`` of an alert's text."""
    return text.split()[2].rstrip(":")


def _settings(**overrides) -> AlertsSettings:
    return AlertsSettings(enabled=True, **overrides)


def _router(store: StateStore | None = None, telegram_max=20, slack_max=20, **settings):
    routes = [ChannelRoute("telegram", Severity.INFO, telegram_max),
              ChannelRoute("slack", Severity.WARNING, slack_max)]
    return AlertRouter(_settings(**settings), routes, Outbox(store or StateStore()), "bot-a")


@pytest.fixture
def channels():
    return {"telegram": RecordingChannel("telegram"), "slack": RecordingChannel("slack")}


# --- the router's rules ------------------------------------------------------------------------


def test_alerts_go_to_the_channels_their_severity_reaches(channels):
    router = _router()
    router.accept(_event(Severity.INFO, ReasonCode.SIGNAL_RETIRED), T0)
    router.accept(_event(Severity.WARNING, ReasonCode.RECONCILIATION_DRIFT), T0)
    router.accept(_event(Severity.CRITICAL, ReasonCode.KILL_SWITCH, pair=None), T0)
    assert router.drain(channels, T0) == []
    assert [_code(t) for t in channels["telegram"].texts] == [
        "[KILL_SWITCH]", "[SIGNAL_RETIRED]", "[RECONCILIATION_DRIFT]"]  # CRITICAL first
    assert [_code(t) for t in channels["slack"].texts] == [
        "[KILL_SWITCH]", "[RECONCILIATION_DRIFT]"]
    assert channels["slack"].texts[0] == (
        "🔴 [CRITICAL] [KILL_SWITCH]: KILL_SWITCH happened (bot-a, 2026-03-02 09:00:00 UTC)")
    assert router.outbox.pending() == []


def test_the_same_alert_repeated_within_the_dedup_window_is_one_alert(channels):
    router = _router(dedup_secs=300)
    critical = _event(Severity.CRITICAL, ReasonCode.DAILY_DRAWDOWN, pair=None)
    assert router.accept(critical, T0)
    assert router.accept(critical, T0 + timedelta(seconds=299)) == []  # CRITICAL too
    assert router.accept(_event(pair="ETH/USDT:USDT"), T0)  # another pair: its own alert
    assert router.accept(_event(pair="BTC/USDT:USDT"), T0 + timedelta(seconds=10))
    assert router.accept(_event(pair="BTC/USDT:USDT"), T0 + timedelta(seconds=20)) == []
    assert router.accept(critical, T0 + timedelta(seconds=300))  # the window is over
    router.drain(channels, T0 + timedelta(seconds=300))
    assert len(channels["slack"].texts) == 4 and router.duplicates == 2


def _said(severity, code, message, pair=None, at=T0) -> OperatorEvent:
    return OperatorEvent(at, severity, code, message, pair)


def test_a_warning_turning_critical_is_alerted_even_within_the_dedup_window(channels):
    router = _router(dedup_secs=300)
    failed = ReasonCode.RECONCILIATION_FAILED
    assert router.accept(_said(Severity.WARNING, failed, "could not ask bybit"), T0)
    assert router.accept(_said(Severity.WARNING, failed, "could not ask bybit"),
                         T0 + timedelta(seconds=60)) == []  # the same alert again
    assert router.accept(_said(Severity.CRITICAL, failed, "failed 3 runs: entries halted"),
                         T0 + timedelta(seconds=120))
    # a higher severity than the last sent is never a duplicate, even with the same text
    halted = _said(Severity.CRITICAL, ReasonCode.DAILY_DRAWDOWN, "drawdown 3 R")
    router.accept(halted, T0)
    router.accept(_said(Severity.WARNING, ReasonCode.DAILY_DRAWDOWN, "drawdown 2 R"), T0)
    assert router.accept(halted, T0 + timedelta(seconds=1))
    router.drain(channels, T0 + timedelta(seconds=120))
    codes = [_code(t) for t in channels["slack"].texts]
    assert codes.count("[RECONCILIATION_FAILED]") == 2 and codes.count("[DAILY_DRAWDOWN]") == 3
    assert any("[CRITICAL] [RECONCILIATION_FAILED]: failed 3 runs: entries halted" in t
               for t in channels["slack"].texts)


def test_a_different_message_for_the_same_code_and_pair_is_another_alert(channels):
    router = _router(dedup_secs=300)
    for venue in ("binance", "bybit"):
        assert router.accept(_said(Severity.WARNING, ReasonCode.HIGH_SLIPPAGE,
                                   f"{venue}: order o1 filled 40.0 bps worse", BTC_PAIR), T0)
    assert router.duplicates == 0


def test_a_condition_coming_back_after_its_clear_is_alerted_again(channels):
    router = _router(dedup_secs=300)
    drift = _said(Severity.CRITICAL, ReasonCode.RECONCILIATION_DRIFT, "BTC holding disagrees")
    kill = _said(Severity.CRITICAL, ReasonCode.KILL_SWITCH, "operator kill switch (telegram)")
    assert router.accept(drift, T0) and router.accept(kill, T0)
    router.accept(_said(Severity.WARNING, ReasonCode.RECONCILIATION_OK,
                        "reconciliation clean; the RECONCILIATION_DRIFT halt is cleared"),
                  T0 + timedelta(seconds=60))
    assert router.accept(drift, T0 + timedelta(seconds=120))  # drifted again
    assert router.accept(kill, T0 + timedelta(seconds=120)) == []  # not cleared yet
    router.accept(_said(Severity.WARNING, ReasonCode.OPERATOR_RESUME,
                        "telegram resumed trading; cleared KILL_SWITCH"),
                  T0 + timedelta(seconds=130))
    assert router.accept(kill, T0 + timedelta(seconds=140))  # killed again after the resume
    assert router.duplicates == 1


def test_a_storm_is_rate_limited_per_channel_and_summarised_when_the_window_reopens(channels):
    router = _router(telegram_max=50, slack_max=3)
    for i in range(8):
        router.accept(_event(code=ReasonCode.HIGH_SLIPPAGE, pair=f"P{i}/USDT"),
                      T0 + timedelta(seconds=i))
    router.drain(channels, T0 + timedelta(seconds=10))
    assert len(channels["slack"].texts) == 3 and len(channels["telegram"].texts) == 8
    router.drain(channels, T0 + timedelta(seconds=59))  # the window is still open
    assert len(channels["slack"].texts) == 3
    router.drain(channels, T0 + timedelta(seconds=60))
    summary = channels["slack"].texts[-1]
    assert "[ALERTS_SUPPRESSED]" in summary and "5 alert(s)" in summary
    assert "HIGH_SLIPPAGE x5" in summary and len(channels["telegram"].texts) == 8
    assert router.status(T0)["channels"]["slack"]["rate_limited"] == 5


def test_critical_alerts_pass_a_full_rate_limit(channels):
    router = _router(slack_max=2)
    for i in range(3):
        router.accept(_event(pair=f"P{i}/USDT"), T0)
    router.accept(_event(Severity.CRITICAL, ReasonCode.RECONCILIATION_DRIFT, pair=None), T0)
    router.drain(channels, T0)
    codes = [_code(t) for t in channels["slack"].texts]
    assert codes == ["[RECONCILIATION_DRIFT]", "[DRIFT_BLOCK]", "[DRIFT_BLOCK]"]


def test_an_undelivered_alert_stays_in_the_outbox_and_is_retried_with_backoff(channels):
    router = _router(retry_base_secs=5, retry_max_secs=60)
    slack = channels["slack"]
    slack.fail_next(2)
    router.accept(_event(code=ReasonCode.EXCHANGE_ERROR_RATE), T0)
    failed = router.drain(channels, T0)
    assert [(e.channel, e.attempts) for e in failed] == [("slack", 1)]
    assert failed[0].next_attempt_at == T0 + timedelta(seconds=5)
    router.accept(_event(code=ReasonCode.RECONCILIATION_DRIFT), T0 + timedelta(seconds=1))
    assert router.drain(channels, T0 + timedelta(seconds=4)) == []  # the channel is on hold
    assert slack.texts == [] and len(channels["telegram"].texts) == 2
    failed = router.drain(channels, T0 + timedelta(seconds=5))
    assert failed[0].attempts == 2 and failed[0].next_attempt_at == T0 + timedelta(seconds=15)
    assert router.drain(channels, T0 + timedelta(seconds=15)) == []
    assert [_code(t) for t in slack.texts] == ["[EXCHANGE_ERROR_RATE]",
                                                    "[RECONCILIATION_DRIFT]"]  # order kept
    assert router.outbox.pending() == []


def test_a_channel_asking_to_wait_longer_than_the_backoff_is_obeyed(channels):
    router = _router(retry_base_secs=5)
    channels["telegram"].fail_next(1, retry_after_secs=42)
    router.accept(_event(), T0)
    (failed,) = router.drain(channels, T0)
    assert failed.next_attempt_at == T0 + timedelta(seconds=42)


def test_undelivered_alerts_survive_a_restart(tmp_path, channels):
    path = str(tmp_path / "bot.centaur.sqlite")
    store = StateStore(path)
    router = _router(store)
    channels["slack"].fail_next(1)
    channels["telegram"].fail_next(1)
    router.accept(_event(Severity.CRITICAL, ReasonCode.KILL_SWITCH, pair=None), T0)
    assert len(router.drain(channels, T0)) == 2
    store.close()

    reopened = StateStore(path)
    restarted = _router(reopened)
    pending = restarted.outbox.pending()
    assert {(e.channel, e.code, e.attempts) for e in pending} == {
        ("slack", "KILL_SWITCH", 1), ("telegram", "KILL_SWITCH", 1)}
    assert restarted.drain(channels, T0 + timedelta(minutes=1)) == []
    assert len(channels["slack"].texts) == len(channels["telegram"].texts) == 1
    assert restarted.outbox.pending() == []
    reopened.close()


def test_ranking_never_alerts_on_undelivered_and_lifts_high_conviction_vetoes():
    assert rank(_event(code=ReasonCode.ALERT_UNDELIVERED), 0.7) is None
    high = rank(_event(Severity.INFO, ReasonCode.LLM_SKIP, signal_confidence=0.85), 0.7)
    assert (high.severity, high.code) == (Severity.WARNING, ReasonCode.VETO_HIGH_CONVICTION)
    low = rank(_event(Severity.INFO, ReasonCode.LLM_SKIP, signal_confidence=0.5), 0.7)
    assert (low.severity, low.code) == (Severity.INFO, ReasonCode.LLM_SKIP)


# --- the part on the event sink ----------------------------------------------------------------


def _part(channels, store=None, fills=None, **settings) -> tuple[AlertsPart, EventSink]:
    store = store or StateStore()
    events = EventSink(store)
    part = AlertsPart(_router(store, **settings), list(channels.values()), events, lambda: T0,
                      fills, "binance")
    events.subscribe(part.on_event)
    return part, events


def test_a_failing_channel_logs_alert_undelivered_once_and_never_alerts_about_itself(channels):
    part, events = _part(channels)
    channels["slack"].fail_next(3)
    events.emit(_event(Severity.CRITICAL, ReasonCode.RECONCILIATION_DRIFT, pair=None))
    for minute in range(3):
        part.drain(T0 + timedelta(minutes=minute))
    undelivered = [e for e in events.recent() if e["code"] == ReasonCode.ALERT_UNDELIVERED]
    assert len(undelivered) == 1 and "slack" in undelivered[0]["message"]
    assert [e.code for e in part.router.outbox.pending()] == ["RECONCILIATION_DRIFT"]
    assert len(channels["telegram"].texts) == 1  # no alert about the undelivered one
    part.drain(T0 + timedelta(hours=1))
    assert len(channels["slack"].texts) == 1 and part.router.outbox.pending() == []


class SlowChannel(RecordingChannel):
    """Its first send hangs until released (a channel slower than the stop's wait)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.calls = 0
        self.sending, self.release = threading.Event(), threading.Event()

    def send(self, text: str) -> None:
        self.calls += 1
        if self.calls == 1:
            self.sending.set()
            self.release.wait(10)
        super().send(text)


def test_stop_with_the_worker_still_sending_leaves_the_alert_to_it_never_sent_twice():
    slow = SlowChannel("slack")
    part, events = _part({"slack": slow})
    part.start()
    events.emit(_event(Severity.CRITICAL, ReasonCode.KILL_SWITCH, pair=None))
    assert slow.sending.wait(5)
    part.join_secs = 0.01
    part.stop()  # the worker is still in its send: no last drain in this thread
    assert slow.calls == 1 and part.status(T0)["worker_alive"]
    slow.release.set()
    part.join_secs = 10
    part.stop()  # the worker ends; the last drain finds nothing left
    assert slow.calls == 1 and len(slow.texts) == 1 and part.router.outbox.pending("slack") == []


class RacingSink(EventSink):
    """Another thread emits while the part subscribes: one event just before its listener is
    in, one just after."""

    def subscribe(self, listener) -> None:
        self.emit(_event(Severity.CRITICAL, ReasonCode.STATE_LOST, pair=None,
                         at=datetime.now(UTC)))
        super().subscribe(listener)
        self.emit(_event(Severity.CRITICAL, ReasonCode.KILL_SWITCH, pair=None,
                         at=datetime.now(UTC)))


def test_events_emitted_while_the_part_starts_are_alerted_once_each(slack, monkeypatch):
    monkeypatch.setenv("CENTAUR_SLACK_WEBHOOK_URL", slack.url)
    config = {"centaur": {"alerts": {"enabled": True, "dedup_secs": 0,
                                     "slack": {"enabled": True}}}}
    host = Host(config, StateStore(), [])
    host.events = RacingSink(host.centaur_state)
    part = alerts_part(host)
    part.stop()
    assert sorted(_code(t) for t in slack.texts()) == ["[KILL_SWITCH]", "[STATE_LOST]"]


class DeskRuntime:
    """Stands in for the live LLM runtime: the prefetched opinion is a skip."""

    def __init__(self, decision: Decision):
        self.settings = settings_from({}).llm
        self.trading = True
        self.desk = SimpleNamespace(read=lambda key: decision)


def test_an_llm_veto_of_a_high_conviction_signal_is_a_warning_with_its_reason(channels):
    part, events = _part(channels)
    skip = Decision(False, ReasonCode.LLM_SKIP, "skip (0.90): funding extreme, crowded long")
    gate = LlmVetoGate(SimpleNamespace(get=lambda: DeskRuntime(skip)), events, "5m", None,
                       True, book_skew=lambda pair: None)
    for pair, confidence in (("BTC/USDT:USDT", 0.9), ("ETH/USDT:USDT", 0.4)):
        proposal = EntryProposal(pair, "long", "trend", ("trend",), confidence, None, T0,
                                 T0 + timedelta(minutes=5))
        assert not gate.at_confirm(proposal, EntryRequest(T0, 1.0)).allowed
    part.drain(T0)
    (slack,) = channels["slack"].texts
    assert "[WARNING] [VETO_HIGH_CONVICTION] BTC/USDT:USDT" in slack
    assert "signal confidence 0.90" in slack and "crowded long" in slack
    assert "[INFO] [LLM_SKIP] ETH/USDT:USDT" in channels["telegram"].texts[-1]


def test_a_fill_that_slipped_beyond_the_threshold_on_a_venue_alerts(tmp_path, channels):
    url = f"sqlite:///{tmp_path / 'bot.sor-fills.sqlite'}"
    log = FillsLog(url)
    for venue, price in (("binance", 100.05), ("bybit", 100.60), ("bybit", 100.20)):
        log.record(Fill("sor-abc", "CentaurEnsemble", "BTC/USDT:USDT", "buy", venue, "c1", None,
                        price, 1.0, 0.0, True, 100.0, True), T0)
    part, _ = _part(channels, fills=FillsLogReader({}, url), slippage_alert_bps=25)
    order = SimpleNamespace(order_id="sor-abc", price=100.0, safe_price=100.3, safe_filled=3.0,
                            side="buy", ft_order_side="buy")
    part.on_fill(SimpleNamespace(pair="BTC/USDT:USDT"), order, T0)
    part.drain(T0)
    (alert,) = channels["slack"].texts
    assert "[HIGH_SLIPPAGE] BTC/USDT:USDT: bybit: order sor-abc filled 40.0 bps" in alert
    log.close()


def test_an_order_the_router_did_not_place_is_measured_against_its_asked_price(channels):
    part, _ = _part(channels, fills=FillsLogReader({}, "sqlite:////nonexistent/fills.sqlite"),
                    slippage_alert_bps=25)
    sell = SimpleNamespace(order_id="x1", price=100.0, safe_price=99.5, safe_filled=1.0,
                           side="sell", ft_order_side="sell")
    part.on_fill(SimpleNamespace(pair="ETH/USDT:USDT"), sell, T0)
    part.drain(T0)
    assert "binance: order x1 filled 50.0 bps" in channels["slack"].texts[0]


def test_venue_slippage_is_volume_weighted():
    fills = [{"venue": "a", "price": 100.0, "amount": 3.0, "slippage_bps": 10.0},
             {"venue": "a", "price": 100.0, "amount": 1.0, "slippage_bps": 50.0},
             {"venue": "b", "price": 100.0, "amount": 1.0, "slippage_bps": -5.0}]
    assert [(v.venue, v.slippage_bps) for v in venue_slippage(fills)] == [("a", 20.0),
                                                                          ("b", -5.0)]
    assert [v.venue for v in high_slippage(fills, 19.9)] == ["a"]


# --- settings, channels and the factory ----------------------------------------------------------


def test_alert_settings_reject_an_unknown_severity_and_unknown_keys():
    with pytest.raises(CentaurConfigError, match="min_severity"):
        settings_from({"centaur": {"alerts": {"slack": {"min_severity": "urgent"}}}})
    with pytest.raises(CentaurConfigError, match="webhook_url"):
        settings_from({"centaur": {"alerts": {"slack": {"webhook_url": "https://x"}}}})


def test_slack_on_without_its_environment_variable_fails_naming_it():
    settings = settings_from({"centaur": {"alerts": {"enabled": True, "slack": {
        "enabled": True, "webhook_url_env": "OPS_HOOK_URL"}}}})
    with pytest.raises(CentaurConfigError, match="OPS_HOOK_URL is not set"):
        build_channels({}, settings, environ={})
    assert build_channels({"telegram": {"enabled": False, "token": TOKEN}}, settings,
                          environ={"OPS_HOOK_URL": "http://127.0.0.1:1/hook"})[0].name == "slack"


@pytest.fixture
def slack():
    hook, stop = start_fake_slack_webhook()
    yield hook
    stop()


@pytest.fixture
def bot_api():
    api, stop = start_fake_bot_api(TOKEN)
    yield api
    stop()


def test_the_webhook_channel_speaks_the_slack_protocol(slack):
    channel = SlackWebhookChannel(slack.url, timeout_secs=2)
    channel.send("🔴 [CRITICAL] [KILL_SWITCH]: test")
    assert slack.payloads == [{"text": "🔴 [CRITICAL] [KILL_SWITCH]: test"}]
    slack.fail_next(1, status=429, retry_after_secs=7)
    with pytest.raises(DeliveryError) as limited:
        channel.send("again")
    assert limited.value.retry_after_secs == 7
    slack.fail_next(1, status=500)
    with pytest.raises(DeliveryError, match="HTTP 500") as failed:
        channel.send("again")
    assert slack.path not in str(failed.value) and failed.value.retry_after_secs is None
    assert len(slack.payloads) == 1


def test_an_unreachable_webhook_is_a_delivery_error_without_its_secret_url():
    url = f"http://127.0.0.1:{free_port()}/services/T1/B1/unreachable-secret"
    with pytest.raises(DeliveryError) as failed:
        SlackWebhookChannel(url, timeout_secs=1).send("x")
    assert "unreachable-secret" not in str(failed.value)


def test_the_telegram_channel_sends_to_the_configured_chat(bot_api):
    TelegramChannel(TOKEN, str(CHAT_ID), bot_api.url, timeout_secs=2).send("🟠 alert")
    assert bot_api.sent == [{"chat_id": CHAT_ID, "text": "🟠 alert"}]
    with pytest.raises(DeliveryError, match="401") as failed:
        TelegramChannel("999:WRONG-TOKEN", str(CHAT_ID), bot_api.url, timeout_secs=2).send("x")
    assert "WRONG-TOKEN" not in str(failed.value)


class Host:
    """What the alerts part uses of the strategy."""

    def __init__(self, config, store, notified):
        self.config = config
        self.centaur = settings_from(config)
        self.centaur_state = store
        self.events = EventSink(store, notify=notified.append)
        self.trading = True


def test_the_factory_delivers_on_both_channels_once_and_replaces_the_text_forwarding(
        slack, bot_api, monkeypatch):
    monkeypatch.setenv("CENTAUR_SLACK_WEBHOOK_URL", slack.url)
    config = {"bot_name": "bot-a", "exchange": {"name": "binance"},
              "telegram": {"enabled": True, "token": TOKEN, "chat_id": str(CHAT_ID)},
              "centaur": {"telegram": {"base_url": bot_api.url},
                          "alerts": {"enabled": True, "slack": {"enabled": True}}}}
    notified: list[str] = []
    host = Host(config, StateStore(), notified)
    host.events.emit(_event(Severity.CRITICAL, ReasonCode.STATE_LOST, pair=None,
                            at=datetime.now(UTC)))  # at start-up, before the part exists
    notified.clear()
    part = alerts_part(host)
    host.events.emit(_event(Severity.CRITICAL, ReasonCode.KILL_SWITCH, pair=None))
    host.events.emit(_event(Severity.INFO, ReasonCode.SIGNAL_RETIRED))
    part.stop()  # joins the worker, then a last drain: everything due is out
    assert [_code(m["text"]) for m in bot_api.sent] == ["[STATE_LOST]", "[KILL_SWITCH]",
                                                         "[SIGNAL_RETIRED]"]
    assert [_code(t) for t in slack.texts()] == ["[STATE_LOST]", "[KILL_SWITCH]"]
    assert notified == [] and part.router.outbox.pending() == []


def test_the_factory_leaves_the_part_off_unless_enabled_and_trading():
    host = Host({"centaur": {"alerts": {"enabled": False}}}, StateStore(), [])
    assert alerts_part(host) is None
    host = Host({"centaur": {"alerts": {"enabled": True}}}, StateStore(), [])
    host.trading = False
    assert alerts_part(host) is None
    host.trading = True
    with pytest.raises(CentaurConfigError, match="no alert channel"):
        alerts_part(host)


def test_one_sink_per_store_numbers_events_on_after_a_restart(tmp_path):
    """The router and the strategy share the store's sink; a reopened store goes on numbering
    after its last key (the oldest are deleted beyond KEEP_EVENTS, never overwritten)."""
    import pickle

    from centaur.events import KEEP_EVENTS, EventSink, event_sink
    from centaur.state import StateStore

    store = StateStore(str(tmp_path / "s.sqlite"))
    assert event_sink(store) is event_sink(store)
    sink = event_sink(store)
    for i in range(KEEP_EVENTS + 5):
        sink.emit(OperatorEvent(T0, Severity.INFO, ReasonCode.OK, f"e{i}"))
    reopened = EventSink(store)
    reopened.emit(OperatorEvent(T0, Severity.INFO, ReasonCode.OK, "after restart"))
    assert [e["message"] for e in reopened.recent(2)] == [f"e{KEEP_EVENTS + 4}", "after restart"]
    assert pickle.loads(pickle.dumps(EventSink(StateStore()))).recent() == []
