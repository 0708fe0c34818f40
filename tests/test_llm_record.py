"""The record is the audit log, the cache and the replay source; budgets persist per UTC day."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from centaur.decision import ReasonCode
from llm_layer.client import LlmClient
from llm_layer.consultant import Consultant
from llm_layer.market_state import MarketState
from llm_layer.news import Headline, HeadlineIndex, NewsSource
from llm_layer.prompt import TradeProposal
from llm_layer.store import DecisionStore
from llm_layer.veto import VetoEngine
from centaur.settings.llm import LlmSettings
from tests.fakes.openai_server import start_fake_openai


NOW = datetime(2022, 1, 10, 8, 0, tzinfo=UTC)
HEADLINES = [Headline(NOW + timedelta(minutes=7), "Exchange hack drains hot wallet", "CT"),
             Headline(NOW - timedelta(hours=3), "Bitcoin ETF decision delayed", "CryptoNews")]


def proposals() -> list[TradeProposal]:
    return [TradeProposal(pair, side, price, NOW + timedelta(minutes=5 * i), (("tag", 0.6),))
            for i, (pair, side, price) in enumerate([
                ("BTC/USDT:USDT", "long", 41_000.0), ("ETH/USDT:USDT", "short", 3_100.0),
                ("BTC/USDT:USDT", "short", 41_200.0), ("SOL/USDT:USDT", "long", 140.0)])]


MARKETS = [MarketState.from_row({"llm_vol_ratio": ratio}) for ratio in (0.9, 2.0, 1.0, 0.5)]


@pytest.fixture(scope="module")
def fake():
    server, stop = start_fake_openai()
    yield server
    stop()


def engine(path, mode: str, base_url: str | None, clock=lambda: NOW, **overrides) -> VetoEngine:
    settings = LlmSettings.model_validate({"mode": mode, "run_label": mode,
                                           "base_url": base_url or "http://127.0.0.1:9/v1",
                                           **overrides})
    store = DecisionStore(path, clock)
    client = LlmClient.from_settings(settings, environ={}) if mode == "record" else None
    news = NewsSource(lambda: HeadlineIndex(HEADLINES))
    return VetoEngine(Consultant(settings, store, client, clock), news)


def decide_all(veto: VetoEngine):
    return [veto.decide(p, m) for p, m in zip(proposals(), MARKETS)]


@pytest.mark.slow
def test_replay_reproduces_the_recording_without_calls(tmp_path, fake):
    path = tmp_path / "record.sqlite"
    recorded = decide_all(engine(path, "record", fake.url))
    calls = len(fake.requests)
    replays = [decide_all(engine(path, "replay", None)) for _ in range(2)]
    assert replays[0] == recorded and replays[1] == recorded
    assert len(fake.requests) == calls, "replay called the endpoint"
    assert {d.reason for d in recorded} == {ReasonCode.LLM_SKIP, ReasonCode.LLM_PROCEED,
                                            ReasonCode.LLM_REDUCE}


@pytest.mark.slow
def test_record_mode_answers_a_repeated_request_from_the_cache(tmp_path, fake):
    path = tmp_path / "record.sqlite"
    first = decide_all(engine(path, "record", fake.url))
    calls = len(fake.requests)
    again = engine(path, "record", fake.url)
    assert decide_all(again) == first
    assert len(fake.requests) == calls
    origins = {row["origin"] for row in again.consultant.store.decisions("record")}
    assert origins == {"call", "cache"}


@pytest.mark.parametrize("policy", ["skip", "proceed"])
def test_a_replay_miss_follows_the_policy_and_is_counted(tmp_path, policy):
    veto = engine(tmp_path / "empty.sqlite", "replay", None, failure_policy=policy)
    decisions = decide_all(veto)
    assert {d.reason for d in decisions} == {ReasonCode.LLM_REPLAY_MISS}
    assert all(d.allowed is (policy == "proceed") for d in decisions)
    rows = veto.consultant.store.decisions("replay")
    assert [r["reason_code"] for r in rows] == ["LLM_REPLAY_MISS"] * len(decisions)


@pytest.mark.slow
def test_invert_flips_the_gate_of_opinions_only(tmp_path, fake):
    path = tmp_path / "record.sqlite"
    recorded = decide_all(engine(path, "record", fake.url))
    inverted = decide_all(engine(path, "invert", None))
    assert [d.allowed for d in inverted] == [not d.allowed for d in recorded]
    assert all(d.scale == 1.0 for d in inverted)
    missing = engine(tmp_path / "none.sqlite", "invert", None).decide(proposals()[0], MARKETS[0])
    assert missing.reason is ReasonCode.LLM_REPLAY_MISS and not missing.allowed


@pytest.mark.slow
def test_the_key_is_the_hash_of_model_and_request(tmp_path, fake):
    veto = engine(tmp_path / "record.sqlite", "record", fake.url)
    request = veto.request_for(proposals()[0], MARKETS[0])
    expected = hashlib.sha256(f"{veto.settings.model}\n{request.canonical()}".encode()).hexdigest()
    assert request.key(veto.settings.model) == expected
    assert request.key("another-model") != expected
    veto.decide(proposals()[0], MARKETS[0])
    call, = veto.consultant.store.calls()
    assert call["key"] == expected and call["request"] == request.canonical()
    assert call["model"] == veto.settings.model


@pytest.mark.slow
def test_budget_persists_across_restarts_and_resets_the_next_utc_day(tmp_path, fake):
    path = tmp_path / "record.sqlite"
    clock = {"now": NOW}
    budget = {"max_calls_per_day": 2}
    first = engine(path, "record", fake.url, lambda: clock["now"], budget=budget)
    spent = [first.decide(p, m) for p, m in zip(proposals()[:2], MARKETS)]
    assert ReasonCode.LLM_BUDGET_EXHAUSTED not in {d.reason for d in spent}
    restarted = engine(path, "record", fake.url, lambda: clock["now"], budget=budget)
    calls = len(fake.requests)
    assert restarted.decide(proposals()[2], MARKETS[2]).reason is \
        ReasonCode.LLM_BUDGET_EXHAUSTED
    assert len(fake.requests) == calls
    clock["now"] = NOW + timedelta(days=1)
    assert restarted.decide(proposals()[2], MARKETS[2]).reason is not \
        ReasonCode.LLM_BUDGET_EXHAUSTED
    assert restarted.consultant.store.usage(NOW).calls == 2
    assert restarted.consultant.store.usage(clock["now"]).calls == 1
