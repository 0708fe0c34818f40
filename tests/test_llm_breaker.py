"""The circuit breaker: degradation triggers, a bounded palette, expiring interventions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centaur.decision import ReasonCode
from centaur.events import EventSink, Severity
from centaur.interventions import InterventionBook, InterventionKind
from llm_layer.client import LlmClient
from llm_layer.consultant import Consultant
from llm_layer.palette import Tool, ToolCall, validate_calls
from llm_layer.store import DecisionStore
from centaur.settings.llm import BreakerSettings, LlmSettings
from centaur.state import StateStore
from llm_layer.circuit_breaker import (
    CircuitBreaker,
    TradeOutcome,
    current_drawdown,
    list_active,
    performance_report,
    revoke,
    trailing_losses,
    triggers,
)
from tests.fakes.openai_server import start_fake_openai


NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
BREAKER = BreakerSettings(enabled=True)


def outcomes(profits: list[float], start: datetime = NOW - timedelta(days=2)) -> list[TradeOutcome]:
    return [TradeOutcome(PAIRS[i % 2], i % 3 == 0, start + timedelta(hours=i), p / 500, p)
            for i, p in enumerate(profits)]


# --- triggers (pure) ----------------------------------------------------------------------------

@pytest.mark.parametrize(("profits", "expected"), [
    ([10.0] * 8 + [-5.0] * 12, ["consecutive"]),  # 8/20 = 40 % is not below 40 %
    ([10.0] * 7 + [-5.0] * 13, ["win rate", "consecutive"]),
    ([10.0, -5.0] * 10, []),
    ([-5.0] * 5, ["consecutive"]),  # fewer than min_trades: no win-rate trigger
    ([10.0] * 10 + [-5.0] * 4, []),
    ([100.0] * 10 + [-1_700.0], ["drawdown"]),
])
def test_triggers(profits, expected):
    report = performance_report(outcomes(profits), 10_000.0, NOW, BREAKER)
    found = triggers(report, BREAKER)
    assert [next(k for k in ("win rate", "drawdown", "consecutive") if k in f) for f in found] \
        == expected


@given(st.lists(st.floats(-500, 500, allow_nan=False), max_size=60), st.floats(100, 1e6))
def test_drawdown_and_streak_bounds(profits, balance):
    items = outcomes(profits)
    drawdown = current_drawdown(items, balance)
    assert drawdown >= 0.0
    assert drawdown <= 1.0 or balance + sum(profits) < 0
    streak = trailing_losses(items)
    assert 0 <= streak <= len(profits)
    assert all(o.profit_usd < 0 for o in items[len(items) - streak:])


# --- the palette's bounds ------------------------------------------------------------------

@given(st.sampled_from(["adjust_conviction", "adjust_position_size", "adjust_leverage"]),
       st.floats(-5, 20, allow_nan=False))
def test_values_are_accepted_exactly_within_their_bounds(tool, value):
    accepted, rejected = validate_calls([ToolCall(tool=tool, pair=PAIRS[0], value=value)],
                                        PAIRS, BREAKER)
    low, high = {"adjust_conviction": BREAKER.conviction_range,
                 "adjust_position_size": BREAKER.size_multiplier_range,
                 "adjust_leverage": (1.0, BREAKER.leverage_ceiling)}[tool]
    assert bool(accepted) is (low <= value <= high)
    assert len(accepted) + len(rejected) == 1
    if accepted:
        assert accepted[0].hours == BREAKER.default_duration_hours


@given(st.floats(-10, 400, allow_nan=False))
def test_disable_asset_hours_are_bounded(hours):
    accepted, _ = validate_calls([ToolCall(tool="disable_asset", pair=PAIRS[1], hours=hours)],
                                 PAIRS, BREAKER)
    assert bool(accepted) is (1.0 <= hours <= 168.0)


@pytest.mark.parametrize(("call", "reason"), [
    (ToolCall(tool="close_all_positions"), "unknown tool"),
    (ToolCall(tool="disable_asset", pair="LUNA/USDT:USDT", hours=5), "whitelisted pair"),
    (ToolCall(tool="disable_asset", pair=PAIRS[0]), "needs hours"),
    (ToolCall(tool="disable_shorts", pair=None), "whitelisted pair"),
    (ToolCall(tool="send_alert", severity="panic"), "severity"),
    (ToolCall(tool="adjust_conviction", pair=PAIRS[0]), "outside"),
    (ToolCall(tool="adjust_leverage", value=float("inf")), "outside"),
])
def test_out_of_palette_calls_are_rejected_with_the_reason(call, reason):
    accepted, rejected = validate_calls([call], PAIRS, BREAKER)
    assert accepted == [] and reason in rejected[0].reason


def test_calls_over_the_limit_are_rejected():
    calls = [ToolCall(tool="no_action")] * (BREAKER.max_calls_per_answer + 2)
    accepted, rejected = validate_calls(calls, PAIRS, BREAKER)
    assert len(accepted) == BREAKER.max_calls_per_answer and len(rejected) == 2


# --- end to end against the chat-completions server -----------------------------------------------

ANSWER = {"rationale": "losing streak on BTC longs", "calls": [
    {"tool": "disable_asset", "pair": PAIRS[0], "value": None, "hours": 12, "severity": None},
    {"tool": "adjust_position_size", "pair": PAIRS[1], "value": 0.5, "hours": None,
     "severity": None},
    {"tool": "adjust_leverage", "pair": None, "value": 30, "hours": 24, "severity": None},
    {"tool": "liquidate_everything", "pair": None, "value": None, "hours": None,
     "severity": None},
]}


@pytest.fixture(scope="module")
def fake():
    server, stop = start_fake_openai(lambda request: json.dumps(ANSWER))
    yield server
    stop()


def breaker(tmp_path, mode: str, base_url: str, state: StateStore, texts: list[str]):
    settings = LlmSettings.model_validate({"mode": mode, "base_url": base_url, "run_label": mode,
                                           "breaker": {"enabled": True}})
    store = DecisionStore(tmp_path / "record.sqlite", lambda: NOW)
    client = LlmClient.from_settings(settings, environ={}) if mode == "record" else None
    events = EventSink(state, notify=texts.append)
    book = InterventionBook(state)
    return CircuitBreaker(Consultant(settings, store, client, lambda: NOW), book, events, state,
                          PAIRS), book, events, store


LOSING = [10.0] * 3 + [-5.0] * 6


@pytest.mark.slow
def test_degradation_leads_to_bounded_expiring_interventions(tmp_path, fake):
    state, texts = StateStore(), []
    shell, book, events, store = breaker(tmp_path, "record", fake.url, state, texts)
    before = len(fake.requests)
    accepted = shell.step(NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0)
    assert len(fake.requests) == before + 1
    assert [a.tool for a in accepted] == [Tool.DISABLE_ASSET, Tool.ADJUST_POSITION_SIZE]
    active = list_active(book, NOW)
    assert {(i.kind, i.pair, i.value) for i in active} == {
        (InterventionKind.DISABLE_ASSET, PAIRS[0], None),
        (InterventionKind.POSITION_SIZE, PAIRS[1], 0.5)}
    assert book.asset_disabled_until(PAIRS[0], NOW) == NOW + timedelta(hours=12)
    assert book.size_multiplier(PAIRS[1], NOW + timedelta(hours=23)) == 0.5
    assert book.size_multiplier(PAIRS[1], NOW + timedelta(hours=24)) == 1.0, "never expired"
    codes = [e["code"] for e in events.recent(20)]
    assert codes.count("BREAKER_TRIGGERED") == 1
    assert codes.count("BREAKER_ACTION_ACCEPTED") == 2
    assert codes.count("BREAKER_ACTION_REJECTED") == 2
    assert any("[BREAKER_ACTION_ACCEPTED]" in t and "disable_asset" in t for t in texts)
    rows = store.decisions("record", kind="breaker")
    assert sorted(r["reason_code"] for r in rows) == ["BREAKER_ACTION_ACCEPTED"] * 2 + [
        "BREAKER_ACTION_REJECTED"] * 2


@pytest.mark.slow
def test_the_cooldown_bounds_consultations_and_healthy_trading_never_asks(tmp_path, fake):
    state, texts = StateStore(), []
    shell, *_ = breaker(tmp_path, "record", fake.url, state, texts)
    shell.step(NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0)
    before = len(fake.requests)
    worse = LOSING + [-5.0]
    shell.step(NOW + timedelta(hours=1), len(worse), lambda: outcomes(worse), 10_000.0)
    assert len(fake.requests) == before, "consulted again inside the cooldown"
    healthy_state = StateStore()
    healthy, *_ = breaker(tmp_path, "record", fake.url, healthy_state, [])
    fine = [10.0, -5.0] * 10
    healthy.step(NOW, len(fine), lambda: outcomes(fine), 10_000.0)
    assert len(fake.requests) == before


@pytest.mark.slow
def test_the_operator_revokes_and_expiries_are_announced(tmp_path, fake):
    state, texts = StateStore(), []
    shell, book, events, _ = breaker(tmp_path, "record", fake.url, state, texts)
    shell.step(NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0)
    size = next(i for i in book.active(NOW) if i.kind is InterventionKind.POSITION_SIZE)
    revoked = revoke(book, events, size.id, NOW + timedelta(hours=1), by="operator")
    assert revoked.revoked_at == NOW + timedelta(hours=1)
    assert book.size_multiplier(PAIRS[1], NOW + timedelta(hours=2)) == 1.0
    shell.step(NOW + timedelta(hours=13), len(LOSING), lambda: outcomes(LOSING), 10_000.0)
    recent = events.recent(20)
    assert [e["code"] for e in recent].count("INTERVENTION_REVOKED") == 1
    expired = [e for e in recent if e["code"] == "INTERVENTION_EXPIRED"]
    assert len(expired) == 1 and expired[0]["pair"] == PAIRS[0], "revoked ones are not re-announced"
    assert expired[0]["severity"] == Severity.INFO


@pytest.mark.slow
def test_breaker_answers_replay_without_calls(tmp_path, fake):
    recorded = breaker(tmp_path, "record", fake.url, StateStore(), [])[0].step(
        NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0)
    before = len(fake.requests)
    replayed = breaker(tmp_path, "replay", fake.url, StateStore(), [])[0].step(
        NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0)
    assert replayed == recorded and len(fake.requests) == before


@pytest.mark.slow
def test_an_unusable_answer_changes_nothing(tmp_path):
    server, stop = start_fake_openai(lambda request: '{"calls": "disable everything"}')
    try:
        state = StateStore()
        shell, book, events, store = breaker(tmp_path, "record", server.url, state, [])
        assert shell.step(NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0) == []
    finally:
        stop()
    assert book.all() == []
    row, = store.decisions("record", kind="breaker")
    assert row["reason_code"] == str(ReasonCode.LLM_INVALID_OUTPUT)


@pytest.mark.slow
def test_the_risk_layers_leverage_ceiling_bounds_adjust_leverage(tmp_path):
    answer = {"rationale": "cut leverage", "calls": [
        {"tool": "adjust_leverage", "pair": None, "value": 8, "hours": 6, "severity": None}]}
    server, stop = start_fake_openai(lambda request: json.dumps(answer))
    try:
        settings = LlmSettings.model_validate({"mode": "record", "base_url": server.url,
                                               "breaker": {"enabled": True}})
        state = StateStore()
        consultant = Consultant(settings, DecisionStore(tmp_path / "r.sqlite", lambda: NOW),
                                LlmClient.from_settings(settings, environ={}), lambda: NOW)
        shell = CircuitBreaker(consultant, InterventionBook(state), EventSink(state), state,
                               PAIRS, leverage_ceiling=5.0)
        accepted = shell.step(NOW, len(LOSING), lambda: outcomes(LOSING), 10_000.0)
        system = server.requests[-1]["messages"][0]["content"]
    finally:
        stop()
    assert accepted == [] and "adjust_leverage(value 1.0-5.0" in system
