"""No exception escapes the veto: freqtrade would let the entry through on one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centaur.decision import ReasonCode
from centaur.settings import settings_from
from strategies.llm_veto import LlmVetoMixin


class BrokenVeto:
    """Stands in for the strategy: the read path fails the way a bug would."""

    def __init__(self, policy: str):
        self.centaur = settings_from({"centaur": {"llm": {"failure_policy": policy}}})

    def _read_decision(self, pair, side, current_time):
        raise KeyError("the record vanished")


@pytest.mark.parametrize("policy", ["skip", "proceed"])
def test_an_internal_error_becomes_the_failure_policy(policy):
    decision = LlmVetoMixin._veto_verdict(BrokenVeto(policy), "BTC/USDT:USDT", "long",
                                          datetime(2026, 2, 6, 12, tzinfo=UTC))
    assert decision.reason is ReasonCode.LLM_INTERNAL_ERROR
    assert decision.allowed is (policy == "proceed")
    assert "KeyError" in decision.detail
