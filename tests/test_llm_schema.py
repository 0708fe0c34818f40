"""The veto's output schema and the pure rules from opinion to decision (property tests)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centaur.decision import ReasonCode
from llm_layer.schema import (
    RATIONALE_MAX_CHARS,
    InvalidOutput,
    VetoChoice,
    VetoOpinion,
    opinion_wire_schema,
    parse_opinion,
)
from llm_layer.verdict import (
    FAILURE_CODES,
    failure_decision,
    inverted,
    opinion_decision,
    reduce_scale,
)
from centaur.settings.llm import FailurePolicy


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10),
                                                                        children, max_size=3),
    max_leaves=8)
candidate_answers = st.fixed_dictionaries(
    {}, optional={"rationale": st.text(max_size=200) | json_values,
                  "decision": st.sampled_from(["proceed", "reduce", "skip", "buy", "PROCEED"])
                  | json_values,
                  "confidence": st.floats(-1, 2, allow_nan=False) | json_values,
                  "extra": json_values})


@given(candidate_answers)
def test_any_answer_is_a_valid_opinion_or_invalid_output(answer):
    text = json.dumps(answer)
    try:
        opinion = parse_opinion(text)
    except InvalidOutput:
        return
    assert set(answer) == {"rationale", "decision", "confidence"}
    assert opinion.decision in set(VetoChoice)
    assert 0.0 <= opinion.confidence <= 1.0
    assert len(opinion.rationale) <= RATIONALE_MAX_CHARS


@given(st.text(max_size=100))
def test_text_that_is_not_a_json_object_is_invalid(text):
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        return
    with pytest.raises(InvalidOutput):
        parse_opinion(text)


@pytest.mark.parametrize("text", [
    '{"rationale": "x", "decision": "skip", "confidence": true}',
    '{"rationale": "x", "decision": "skip", "confidence": "0.5"}',
    '{"rationale": 5, "decision": "skip", "confidence": 0.5}',
    '[{"rationale": "x", "decision": "skip", "confidence": 0.5}]',
    '{"rationale": "x", "decision": "skip", "decision": "proceed", "confidence": 0.5}',
    '{"rationale": "x", "rationale": "y", "decision": "skip", "confidence": 0.5}',
    '{"rationale": "x", "decision": "skip", "confidence": Infinity}',
    "",
])
def test_no_guessing_on_near_misses(text):
    with pytest.raises(InvalidOutput):
        parse_opinion(text)


def test_the_wire_schema_puts_the_capped_rationale_first():
    schema = opinion_wire_schema()["json_schema"]["schema"]
    assert list(schema["properties"]) == ["rationale", "decision", "confidence"]
    assert schema["properties"]["rationale"]["maxLength"] == RATIONALE_MAX_CHARS
    assert schema["additionalProperties"] is False


opinions = st.builds(VetoOpinion, rationale=st.text(max_size=RATIONALE_MAX_CHARS),
                     decision=st.sampled_from(list(VetoChoice)),
                     confidence=st.floats(0, 1, allow_nan=False))


@given(opinions, st.floats(0.01, 1.0))
def test_only_reduce_shrinks_and_never_below_the_floor(opinion, floor):
    decision = opinion_decision(opinion, floor)
    assert decision.allowed is (opinion.decision is not VetoChoice.SKIP)
    if opinion.decision is VetoChoice.REDUCE:
        assert floor - 1e-12 <= decision.scale <= 1.0
        assert decision.scale == pytest.approx(reduce_scale(opinion.confidence, floor))
    else:
        assert decision.scale == 1.0


@given(opinions)
def test_the_placebo_is_the_opposite_gate(opinion):
    decision = opinion_decision(opinion, 0.25)
    flipped = inverted(decision)
    assert flipped.allowed is not decision.allowed
    assert flipped.scale == 1.0


@pytest.mark.parametrize("code", sorted(FAILURE_CODES))
@pytest.mark.parametrize("policy", list(FailurePolicy))
def test_failures_follow_the_policy_and_are_never_inverted(code, policy):
    decision = failure_decision(code, policy, "detail")
    assert decision.allowed is (policy is FailurePolicy.PROCEED)
    assert decision.reason is code and decision.scale == 1.0
    assert inverted(decision) == decision


def test_an_opinion_code_is_not_a_failure():
    with pytest.raises(ValueError, match="not an LLM failure"):
        failure_decision(ReasonCode.LLM_PROCEED, FailurePolicy.SKIP, "x")
