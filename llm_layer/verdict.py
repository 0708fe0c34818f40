"""From the model's opinion (or its absence) to the veto's ``Decision``: pure rules.

- ``proceed`` allows at full size; ``reduce`` allows with stake multiplier
  ``1 - confidence * (1 - reduce_floor_ratio)``; ``skip`` denies. The risk layer applies the
  multiplier before its own caps and keeps the last word.
- A failure (timeout, connection, HTTP error, invalid answer, budget, replay miss) decides by
  the configured policy: ``skip`` denies (fail closed), ``proceed`` allows at full size. The
  failure's own reason code is kept either way.
- ``invert`` (the counterfactual placebo) flips the gate of model opinions only: proceed and
  reduce become skip, skip becomes proceed at full size; failures are not inverted.
"""

from __future__ import annotations

from centaur.decision import Decision, ReasonCode
from centaur.settings.llm import FailurePolicy
from llm_layer.schema import VetoChoice, VetoOpinion

FAILURE_CODES = frozenset({
    ReasonCode.LLM_TIMEOUT, ReasonCode.LLM_CONNECTION_ERROR, ReasonCode.LLM_HTTP_ERROR,
    ReasonCode.LLM_INVALID_OUTPUT, ReasonCode.LLM_BUDGET_EXHAUSTED, ReasonCode.LLM_REPLAY_MISS,
    ReasonCode.LLM_INTERNAL_ERROR,
})
OPINION_CODES = {VetoChoice.PROCEED: ReasonCode.LLM_PROCEED,
                 VetoChoice.REDUCE: ReasonCode.LLM_REDUCE, VetoChoice.SKIP: ReasonCode.LLM_SKIP}


def reduce_scale(confidence: float, reduce_floor_ratio: float) -> float:
    return 1.0 - confidence * (1.0 - reduce_floor_ratio)


def opinion_decision(opinion: VetoOpinion, reduce_floor_ratio: float) -> Decision:
    detail = f"{opinion.decision} ({opinion.confidence:.2f}): {opinion.rationale}"
    if opinion.decision is VetoChoice.SKIP:
        return Decision(allowed=False, reason=ReasonCode.LLM_SKIP, detail=detail)
    scale = reduce_scale(opinion.confidence, reduce_floor_ratio) \
        if opinion.decision is VetoChoice.REDUCE else 1.0
    return Decision(allowed=True, reason=OPINION_CODES[opinion.decision], detail=detail,
                    scale=scale)


def failure_decision(code: ReasonCode, policy: FailurePolicy, detail: str) -> Decision:
    if code not in FAILURE_CODES:
        raise ValueError(f"{code} is not an LLM failure code")
    return Decision(allowed=policy is FailurePolicy.PROCEED, reason=code,
                    detail=f"{detail} -> {policy} (failure policy)")


def inverted(decision: Decision) -> Decision:
    """The placebo's decision: the opposite gate for opinions; failures unchanged."""
    if decision.reason in FAILURE_CODES:
        return decision
    if decision.allowed:
        return Decision(allowed=False, reason=ReasonCode.LLM_SKIP,
                        detail=f"inverted {decision.reason}: {decision.detail}")
    return Decision(allowed=True, reason=ReasonCode.LLM_PROCEED,
                    detail=f"inverted {decision.reason}: {decision.detail}")
