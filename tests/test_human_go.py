"""Human GO above a size: the gate's rule with an injected clock, on a real state store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from centaur.decision import ReasonCode
from centaur.events import EventSink, Severity
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings import settings_from
from centaur.settings.tower import HumanConfirmSettings
from centaur.state import StateStore
from control_tower.human_go import GoStatus, Operator
from control_tower.human_go_book import (
    ANSWERS,
    REFUSED_KEPT_PER_REQUEST,
    GoBook,
    UnknownRequest,
    human_go_log,
)
from control_tower.human_go_part import HumanGoGate, HumanGoPart, human_go_part
from control_tower.human_go_telegram import (
    callback_data,
    parse_callback,
    prompt_text,
    settled_text,
)

T0 = datetime(2025, 6, 10, 12, 0, 30, tzinfo=UTC)
CANDLE = datetime(2025, 6, 10, 11, 55, tzinfo=UTC)
STEP = timedelta(minutes=5)
SETTINGS = HumanConfirmSettings(enabled=True, above_usd=1000.0, timeout_secs=60)
OPERATOR = Operator("telegram user 1", "telegram")


@dataclass
class RecordingPrompt:
    """The Telegram edge, recorded: what was asked and settled (sent at once)."""

    asked: list[str] = field(default_factory=list)
    settled: list[tuple[str, GoStatus]] = field(default_factory=list)

    def ask(self, request, on_sent) -> bool:
        self.asked.append(request.id)
        on_sent(request.id, 42, len(self.asked))
        return True

    def settle(self, request) -> None:
        self.settled.append((request.id, request.status))


def proposal(pair="BTC/USDT:USDT", side="long", candle=CANDLE) -> EntryProposal:
    return EntryProposal(pair, side, "ens", ("ema_adx", "funding"), 0.8, None, candle,
                         candle + STEP, 100.0)


def entry(now: datetime, notional_usd: float = 2000.0, rate: float = 100.0) -> EntryRequest:
    return EntryRequest(now, rate, amount=notional_usd / rate)


@pytest.fixture
def store():
    return StateStore()


@pytest.fixture
def prompt():
    return RecordingPrompt()


@pytest.fixture
def gate(store, prompt):
    return HumanGoGate(SETTINGS, GoBook(store, EventSink(store), prompt))


def only_request(gate):
    requests = gate.book.recent()
    assert len(requests) == 1
    return requests[0]


def test_below_the_limit_is_allowed_without_a_request(gate):
    decision = gate.at_confirm(proposal(), entry(T0, notional_usd=999.0))
    assert decision.allowed and decision.reason == ReasonCode.OK
    assert gate.book.recent() == []


def test_above_the_limit_waits_then_a_go_lets_one_entry_through(gate, prompt, store):
    first = gate.at_confirm(proposal(), entry(T0))
    assert not first.allowed and first.reason == ReasonCode.HUMAN_GO_PENDING
    request = only_request(gate)
    assert (request.pair, request.side, request.notional_usd) == ("BTC/USDT:USDT", "long", 2000)
    assert request.expires_at == T0 + timedelta(seconds=60)
    assert (request.tag, request.voters, request.confidence) == ("ens", ("ema_adx", "funding"),
                                                                 0.8)
    assert prompt.asked == [request.id] and request.prompt_message_id == 1  # kept for edits
    events = EventSink(store).recent()
    assert events[-1]["code"] == ReasonCode.HUMAN_GO_PENDING
    assert events[-1]["severity"] == Severity.WARNING

    again = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=5)))
    assert again.reason == ReasonCode.HUMAN_GO_PENDING and len(gate.book.recent()) == 1

    record = gate.book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=20))
    assert record.accepted and record.by == "telegram user 1"
    assert prompt.settled == [(request.id, GoStatus.GRANTED)]

    granted = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=25)))
    assert granted.allowed and granted.reason == ReasonCode.HUMAN_GO_GRANTED
    assert gate.book.get(request.id).status == GoStatus.USED

    after = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=30)))
    assert after.reason == ReasonCode.HUMAN_GO_PENDING  # the GO was used: a new request
    assert len(gate.book.recent()) == 2


def test_no_denies_for_the_rest_of_the_candle_then_asks_again(gate):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    gate.book.answer(request.id, False, OPERATOR, T0 + timedelta(seconds=10))
    denied = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=15)))
    assert not denied.allowed and denied.reason == ReasonCode.HUMAN_GO_DENIED
    later = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=100)))
    assert later.reason == ReasonCode.HUMAN_GO_DENIED  # same candle
    next_candle = gate.at_confirm(proposal(candle=CANDLE + STEP),
                                  entry(T0 + timedelta(seconds=300)))
    assert next_candle.reason == ReasonCode.HUMAN_GO_PENDING
    assert len(gate.book.recent()) == 2


def test_no_answer_times_out_and_there_is_no_trade(gate, prompt, store):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    gate.book.sweep(T0 + timedelta(seconds=59))
    assert gate.book.get(request.id).status == GoStatus.PENDING
    gate.book.sweep(T0 + timedelta(seconds=60))
    assert gate.book.get(request.id).status == GoStatus.TIMEOUT
    assert prompt.settled == [(request.id, GoStatus.TIMEOUT)]
    assert EventSink(store).recent()[-1]["code"] == ReasonCode.HUMAN_GO_TIMEOUT
    decision = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=65)))
    assert not decision.allowed and decision.reason == ReasonCode.HUMAN_GO_TIMEOUT
    log = human_go_log(store)
    assert [(r["answer"], r["reason"]) for r in log] == [("timeout", "HUMAN_GO_TIMEOUT")]


def test_a_confirm_past_the_expiry_times_out_without_a_sweep(gate):
    gate.at_confirm(proposal(), entry(T0))
    decision = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=61)))
    assert decision.reason == ReasonCode.HUMAN_GO_TIMEOUT


def test_an_answer_after_the_expiry_is_refused(gate, store):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    record = gate.book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=61))
    assert not record.accepted and record.reason == ReasonCode.HUMAN_GO_REFUSED
    assert gate.book.get(request.id).status == GoStatus.TIMEOUT
    decision = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=62)))
    assert decision.reason == ReasonCode.HUMAN_GO_TIMEOUT
    assert [r["answer"] for r in human_go_log(store)] == ["timeout", "go"]  # by time


def test_a_second_answer_is_refused(gate):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    gate.book.answer(request.id, False, OPERATOR, T0 + timedelta(seconds=5))
    second = gate.book.answer(request.id, True, Operator("REST user x", "rest"),
                              T0 + timedelta(seconds=6))
    assert not second.accepted and "already denied" in second.detail
    assert gate.book.get(request.id).status == GoStatus.DENIED


def test_an_unauthorised_answer_is_refused_and_logged(gate, store):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    intruder = Operator("telegram user 9 in chat 999", "telegram", authorised=False)
    record = gate.book.answer(request.id, True, intruder, T0 + timedelta(seconds=5))
    assert not record.accepted and record.reason == ReasonCode.HUMAN_GO_REFUSED
    assert gate.book.get(request.id).status == GoStatus.PENDING
    assert gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=6))).reason == \
        ReasonCode.HUMAN_GO_PENDING
    (logged,) = human_go_log(store)
    assert logged["by"] == "telegram user 9 in chat 999" and logged["accepted"] is False
    assert EventSink(store).recent()[-1]["code"] == ReasonCode.HUMAN_GO_REFUSED


def test_an_unknown_request_id_raises(gate):
    with pytest.raises(UnknownRequest):
        gate.book.answer("nope", True, OPERATOR, T0)


def test_a_pending_request_covers_the_next_candle_of_the_same_pair_and_side(gate):
    gate.at_confirm(proposal(), entry(T0))
    next_candle = gate.at_confirm(proposal(candle=CANDLE + STEP), entry(T0 + timedelta(seconds=40)))
    assert next_candle.reason == ReasonCode.HUMAN_GO_PENDING
    assert len(gate.book.recent()) == 1
    other_side = gate.at_confirm(proposal(side="short"), entry(T0 + timedelta(seconds=41)))
    other_pair = gate.at_confirm(proposal(pair="ETH/USDT:USDT"), entry(T0 + timedelta(seconds=41)))
    assert other_side.reason == other_pair.reason == ReasonCode.HUMAN_GO_PENDING
    assert len(gate.book.recent()) == 3


def test_a_go_covers_a_notional_up_to_the_tolerance_and_lapses_unused(gate):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    gate.book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=10))
    bigger = gate.at_confirm(proposal(), entry(T0 + timedelta(seconds=11), notional_usd=2300.0))
    assert bigger.reason == ReasonCode.HUMAN_GO_PENDING  # past +10 %: asked again
    assert gate.book.get(request.id).status == GoStatus.LAPSED

    gate.at_confirm(proposal(pair="ETH/USDT:USDT"), entry(T0))
    eth = next(r for r in gate.book.recent() if r.pair == "ETH/USDT:USDT")
    gate.book.answer(eth.id, True, OPERATOR, T0 + timedelta(seconds=10))
    gate.book.sweep(T0 + timedelta(seconds=70))  # GO given at +10 s, valid for 60 s
    assert gate.book.get(eth.id).status == GoStatus.LAPSED


def test_requests_and_answers_survive_a_reopened_store(tmp_path):
    path = str(tmp_path / "state.sqlite")
    first_store = StateStore(path)
    gate = HumanGoGate(SETTINGS, GoBook(first_store))
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    gate.book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=5))
    first_store.close()

    store = StateStore(path)
    reopened = HumanGoGate(SETTINGS, GoBook(store))
    assert reopened.book.get(request.id) == gate.book.get(request.id)
    assert reopened.at_confirm(proposal(), entry(T0 + timedelta(seconds=10))).allowed
    assert [r["answer"] for r in human_go_log(store)] == ["go"]


def test_the_log_is_filtered_by_time(gate, store):
    gate.at_confirm(proposal(), entry(T0))
    gate.book.answer(only_request(gate).id, True, OPERATOR, T0 + timedelta(seconds=5))
    assert len(human_go_log(store, since=T0, until=T0 + timedelta(seconds=6))) == 1
    assert human_go_log(store, since=T0 + timedelta(seconds=6)) == []


def test_a_prompt_not_sent_is_asked_again_at_the_next_sweep(store):
    class Offline(RecordingPrompt):
        def ask(self, request, on_sent) -> bool:
            self.asked.append(request.id)
            return len(self.asked) > 1

    prompt = Offline()
    gate = HumanGoGate(SETTINGS, GoBook(store, None, prompt))
    gate.at_confirm(proposal(), entry(T0))
    gate.book.sweep(T0 + timedelta(seconds=5))
    gate.book.sweep(T0 + timedelta(seconds=10))
    assert len(prompt.asked) == 2


def test_telegram_texts_and_callback_data():
    book = GoBook(StateStore())
    book.confirm("BTC/USDT:USDT", "long", CANDLE, 2000.0, 1000.0, 60,
                 {"tag": "ens", "voters": ("a",), "confidence": 0.5}, T0)
    (request,) = book.recent()
    assert parse_callback(callback_data(request.id, True)) == (request.id, True)
    assert parse_callback(callback_data(request.id, False)) == (request.id, False)
    assert len(callback_data(request.id, False).encode()) <= 64  # Telegram's limit
    assert parse_callback("force_exit__1") is None and parse_callback("centaur_go:x:maybe") is None
    assert "2000.00 USD" in prompt_text(request) and request.id in prompt_text(request)
    book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=1))
    assert "GO by telegram user 1" in settled_text(book.get(request.id))


@dataclass
class Host:
    config: dict[str, Any]
    trading: bool
    centaur: Any = None
    centaur_state: StateStore = field(default_factory=StateStore)
    events: Any = None

    def __post_init__(self):
        self.centaur = settings_from(self.config)
        self.events = EventSink(self.centaur_state)


def test_the_part_is_built_only_when_enabled_and_trading():
    on = {"centaur": {"human_confirm": {"enabled": True, "above_usd": 100}}}
    assert human_go_part(Host({}, trading=True)) is None
    assert human_go_part(Host(on, trading=False)) is None
    part = human_go_part(Host(on, trading=True))
    assert isinstance(part, HumanGoPart) and part.entry_gates() == [part.gate]
    part.gate.at_confirm(proposal(), entry(T0, notional_usd=150.0))
    status = part.status(T0 + timedelta(seconds=1))
    assert [r["pair"] for r in status["pending"]] == ["BTC/USDT:USDT"]
    assert status["above_usd"] == 100
    part.on_loop(T0 + timedelta(seconds=301))
    assert part.status(T0 + timedelta(seconds=301))["pending"] == []


class CountingStore(StateStore):
    """The real store, counting whole-namespace reads of the answer log."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.answer_reads = 0

    def items(self, namespace: str) -> dict[str, Any]:
        self.answer_reads += namespace == ANSWERS
        return super().items(namespace)


def test_presses_from_other_chats_keep_a_bounded_log_and_few_warnings():
    store = CountingStore()
    gate = HumanGoGate(SETTINGS, GoBook(store, EventSink(store)))
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    for i in range(100):  # a stranger hammers the button, one press every 0.5 s
        intruder = Operator(f"telegram user {i} in chat 999", "telegram", authorised=False)
        record = gate.book.answer(request.id, True, intruder, T0 + timedelta(seconds=i / 2))
        assert not record.accepted
    refused = [r for r in human_go_log(store) if not r["accepted"]]
    assert len(refused) == REFUSED_KEPT_PER_REQUEST
    assert refused[-1]["by"] == "telegram user 99 in chat 999"  # the latest are kept
    warnings = [e for e in EventSink(store).recent(500)
                if e["code"] == ReasonCode.HUMAN_GO_REFUSED]
    assert len(warnings) == 1  # 50 s of presses: one WARNING per minute per request
    gate.book.answer(request.id, True, Operator("x in chat 999", "telegram", False),
                     T0 + timedelta(seconds=59))
    assert gate.book.get(request.id).status == GoStatus.PENDING  # never granted by a stranger
    # the operator's own GO is logged and announced whatever the strangers did
    gate.book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=59, milliseconds=1))
    assert gate.book.get(request.id).status == GoStatus.GRANTED
    assert EventSink(store).recent()[-1]["code"] == ReasonCode.HUMAN_GO_GRANTED
    reads = store.answer_reads
    part = HumanGoPart(SETTINGS, gate.book)
    for _ in range(20):  # status (REST, Prometheus scrapes) does not read the whole log
        answers = part.status(T0 + timedelta(seconds=60))["recent_answers"]
    assert store.answer_reads == reads
    assert len(answers) == 10 and answers[-1]["answer"] == "go" and answers[-1]["accepted"]
    assert answers == human_go_log(store)[-10:]


def test_a_refused_press_a_minute_later_is_announced_again(gate, store):
    gate.at_confirm(proposal(), entry(T0))
    request = only_request(gate)
    intruder = Operator("telegram user 9 in chat 999", "telegram", authorised=False)
    for seconds in (1, 2, 61):
        gate.book.answer(request.id, True, intruder, T0 + timedelta(seconds=seconds))
    codes = [e["code"] for e in EventSink(store).recent(50)]
    assert codes.count(ReasonCode.HUMAN_GO_REFUSED) == 2
    # a late press by the operator is not muted by the stranger's
    gate.book.answer(request.id, True, OPERATOR, T0 + timedelta(seconds=62))
    assert [e["code"] for e in EventSink(store).recent(50)].count(
        ReasonCode.HUMAN_GO_REFUSED) == 3
