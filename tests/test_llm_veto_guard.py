"""No exception escapes the veto: freqtrade would let the entry through on one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings import settings_from
from centaur.state import StateStore
from llm_layer.veto_gate import LlmVetoGate


class BrokenRuntime:
    """Stands in for the LLM runtime: the read path fails the way a bug would."""

    def __init__(self, policy: str):
        self.settings = settings_from({"centaur": {"llm": {"failure_policy": policy}}}).llm
        self.trading = True

    @property
    def desk(self):
        raise KeyError("the record vanished")


class Handle:
    def __init__(self, runtime):
        self._runtime = runtime

    def get(self):
        return self._runtime


@pytest.mark.parametrize("policy", ["skip", "proceed"])
def test_an_internal_error_becomes_the_failure_policy(policy):
    gate = LlmVetoGate(Handle(BrokenRuntime(policy)), EventSink(StateStore()), "5m", None,
                       True, book_skew=lambda pair: None)
    candle = datetime(2026, 2, 6, 12, tzinfo=UTC)
    proposal = EntryProposal("BTC/USDT:USDT", "long", "bb_rsi", ("bb_rsi",), 0.5, None, candle,
                             candle + timedelta(minutes=5))
    decision = gate.at_confirm(proposal, EntryRequest(candle + timedelta(minutes=5), 1.0))
    assert decision.reason is ReasonCode.LLM_INTERNAL_ERROR
    assert decision.allowed is (policy == "proceed")
    assert "KeyError" in decision.detail
