"""The veto against a real HTTP server speaking chat-completions to the real ``openai`` client.

Every failure (timeout, 5xx, body not JSON, answer not JSON, schema violation, budget spent,
nothing listening) gives the configured policy with its own reason code, after exactly one
request (no retries), and is recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from centaur.decision import ReasonCode
from llm_layer.client import LlmClient
from llm_layer.consultant import Consultant
from llm_layer.market_state import MarketState
from llm_layer.news import NewsSource, HeadlineIndex
from llm_layer.prompt import TradeProposal
from llm_layer.store import DecisionStore
from llm_layer.veto import VetoEngine
from centaur.settings.llm import LlmSettings
from tests.fakes.openai_server import Fault, start_fake_openai
from tests.support.processes import free_port


NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)
PROPOSAL = TradeProposal("BTC/USDT:USDT", "long", 70_000.0, NOW, (("trend_pullback", 0.7),))
MARKET = MarketState.from_row({"llm_ret_1h": 0.002, "llm_vol_ratio": 1.0})
TIMEOUT_SECS = 0.3


@pytest.fixture(scope="module")
def fake():
    server, stop = start_fake_openai()
    yield server
    stop()


def engine(tmp_path, base_url: str, policy: str = "skip", **overrides) -> VetoEngine:
    settings = LlmSettings.model_validate({"mode": "record", "base_url": base_url,
                                           "failure_policy": policy,
                                           "timeout_secs": TIMEOUT_SECS, **overrides})
    store = DecisionStore(tmp_path / "record.sqlite", lambda: NOW)
    client = LlmClient.from_settings(settings, environ={})
    return VetoEngine(Consultant(settings, store, client, lambda: NOW),
                      NewsSource(lambda: HeadlineIndex([])))


@pytest.mark.slow
def test_an_answer_becomes_a_recorded_decision(tmp_path, fake):
    veto = engine(tmp_path, fake.url)
    before = len(fake.requests)
    decision = veto.decide(PROPOSAL, MARKET)
    assert decision.allowed and decision.reason is ReasonCode.LLM_PROCEED and decision.scale == 1.0
    assert len(fake.requests) == before + 1
    request = fake.requests[-1]
    assert request["response_format"]["json_schema"]["strict"] is True
    call, = veto.consultant.store.calls()
    assert call["reason_code"] == "LLM_PROCEED" and call["valid"] == 1
    assert json.loads(call["parsed"])["decision"] == "proceed"
    assert call["raw_response"].startswith('{"id"') and call["latency_ms"] > 0
    decision_row, = veto.consultant.store.decisions("default")
    assert decision_row["reason_code"] == "LLM_PROCEED" and decision_row["origin"] == "call"


FAULTS = [
    (Fault.slow(TIMEOUT_SECS * 4), ReasonCode.LLM_TIMEOUT),
    (Fault.http(500), ReasonCode.LLM_HTTP_ERROR),
    (Fault.http(503), ReasonCode.LLM_HTTP_ERROR),
    (Fault.malformed_body(), ReasonCode.LLM_INVALID_OUTPUT),
    (Fault.says("the trade looks fine, proceed"), ReasonCode.LLM_INVALID_OUTPUT),
    (Fault.says('{"rationale": "x", "decision": "buy", "confidence": 0.5}'),
     ReasonCode.LLM_INVALID_OUTPUT),
    (Fault.says('{"rationale": "x", "decision": "skip", "confidence": 1.5}'),
     ReasonCode.LLM_INVALID_OUTPUT),
    (Fault.says('{"rationale": "x", "decision": "skip", "confidence": 0.5, "size": 3}'),
     ReasonCode.LLM_INVALID_OUTPUT),
    # strict JSON: Python's parser would keep the last of two keys, and accept NaN
    (Fault.says('{"rationale": "x", "decision": "skip", "decision": "proceed", '
                '"confidence": 0.5}'), ReasonCode.LLM_INVALID_OUTPUT),
    (Fault.says('{"rationale": "x", "decision": "proceed", "confidence": NaN}'),
     ReasonCode.LLM_INVALID_OUTPUT),
    (Fault.says('{"rationale": "' + "x" * 161 + '", "decision": "skip", "confidence": 0.5}'),
     ReasonCode.LLM_INVALID_OUTPUT),
]


@pytest.mark.parametrize("policy", ["skip", "proceed"])
@pytest.mark.parametrize(("fault", "code"), FAULTS, ids=lambda f: getattr(f, "name", None))
@pytest.mark.slow
def test_each_failure_gives_the_policy_with_its_code_after_one_request(tmp_path, fake, fault,
                                                                       code, policy):
    veto = engine(tmp_path, fake.url, policy)
    before = len(fake.requests)
    fake.push(fault)
    decision = veto.decide(PROPOSAL, MARKET)
    assert decision.reason is code
    assert decision.allowed is (policy == "proceed")
    assert decision.scale == 1.0
    assert len(fake.requests) == before + 1, "a failed call was retried"
    call, = veto.consultant.store.calls()
    assert call["reason_code"] == str(code) and call["valid"] == 0


@pytest.mark.parametrize("policy", ["skip", "proceed"])
def test_nothing_listening_is_a_connection_error(tmp_path, policy):
    veto = engine(tmp_path, f"http://127.0.0.1:{free_port()}/v1", policy)
    decision = veto.decide(PROPOSAL, MARKET)
    assert decision.reason is ReasonCode.LLM_CONNECTION_ERROR
    assert decision.allowed is (policy == "proceed")


@pytest.mark.parametrize("policy", ["skip", "proceed"])
@pytest.mark.slow
def test_a_spent_budget_makes_no_call(tmp_path, fake, policy):
    veto = engine(tmp_path, fake.url, policy, budget={"max_calls_per_day": 1})
    first = veto.decide(PROPOSAL, MARKET)
    before = len(fake.requests)
    other = TradeProposal("ETH/USDT:USDT", "short", 2_000.0, NOW, (("trend_pullback", 0.7),))
    second = veto.decide(other, MARKET)
    assert first.reason is ReasonCode.LLM_PROCEED
    assert second.reason is ReasonCode.LLM_BUDGET_EXHAUSTED
    assert second.allowed is (policy == "proceed")
    assert len(fake.requests) == before, "a call was made over budget"


@pytest.mark.slow
def test_token_budget_stops_the_next_call(tmp_path, fake):
    veto = engine(tmp_path, fake.url, budget={"max_tokens_per_day": 10})
    assert veto.decide(PROPOSAL, MARKET).reason is ReasonCode.LLM_PROCEED
    assert veto.consultant.store.usage(NOW).tokens > 10
    other = TradeProposal("ETH/USDT:USDT", "short", 2_000.0, NOW, (("trend_pullback", 0.7),))
    assert veto.decide(other, MARKET).reason is ReasonCode.LLM_BUDGET_EXHAUSTED


@pytest.mark.slow
def test_reduce_scales_the_stake_by_confidence(tmp_path, fake):
    veto = engine(tmp_path, fake.url, veto={"reduce_floor_ratio": 0.25})
    fake.push(Fault.says('{"rationale": "choppy", "decision": "reduce", "confidence": 0.8}'))
    decision = veto.decide(PROPOSAL, MARKET)
    assert decision.allowed and decision.reason is ReasonCode.LLM_REDUCE
    assert decision.scale == pytest.approx(1 - 0.8 * 0.75)
