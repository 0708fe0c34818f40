"""Live prefetch: sizing and confirmation only read; pending defers, late is a timeout."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from centaur.decision import Decision, ReasonCode
from llm_layer.prefetch import PrefetchDesk
from centaur.settings.llm import FailurePolicy


KEY = ("BTC/USDT:USDT", "long", datetime(2026, 2, 6, 12, 5, tzinfo=UTC))
PROCEED = Decision(True, ReasonCode.LLM_PROCEED, "fine")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def desk_and_clock():
    clock, timeouts = Clock(), []
    desk = PrefetchDesk(2.0, FailurePolicy.SKIP, 2, lambda k, d: timeouts.append((k, d)), clock)
    yield desk, clock, timeouts
    desk.close()


def test_a_signal_never_requested_reads_as_none(desk_and_clock):
    desk, _, _ = desk_and_clock
    assert desk.read(KEY) is None


def test_pending_defers_then_the_answer_is_read(desk_and_clock):
    desk, clock, timeouts = desk_and_clock
    release = threading.Event()
    assert desk.request(KEY, lambda: (release.wait(10), PROCEED)[1])
    assert not desk.request(KEY, lambda: PROCEED), "a second request for the same candidate"
    pending = desk.read(KEY)
    assert pending.reason is ReasonCode.LLM_PENDING and not pending.allowed
    release.set()
    assert desk.wait_idle(10)
    clock.now += 1.0
    assert desk.read(KEY) == PROCEED
    assert timeouts == []


@pytest.mark.parametrize("policy", list(FailurePolicy))
def test_no_answer_within_the_timeout_is_frozen_as_the_policy(policy):
    clock, timeouts = Clock(), []
    desk = PrefetchDesk(2.0, policy, 1, lambda k, d: timeouts.append((k, d)), clock)
    release = threading.Event()
    desk.request(KEY, lambda: (release.wait(10), PROCEED)[1])
    clock.now += 2.5
    late = desk.read(KEY)
    assert late.reason is ReasonCode.LLM_TIMEOUT
    assert late.allowed is (policy is FailurePolicy.PROCEED)
    release.set()
    assert desk.wait_idle(10)
    assert desk.read(KEY) == late, "a late answer replaced the frozen timeout"
    assert timeouts == [(KEY, late)]
    desk.close()


def test_old_candidates_are_forgotten(desk_and_clock):
    desk, _, _ = desk_and_clock
    desk.request(KEY, lambda: PROCEED)
    assert desk.wait_idle(10)
    assert desk.read(KEY) == PROCEED
    desk.forget_before(datetime(2026, 2, 6, 13, 0, tzinfo=UTC))
    assert desk.read(KEY) is None
