"""Asking the model one question, by mode: from the record, or from the endpoint and recorded.

- ``live`` / ``record``: a valid recorded answer to the same (model, request) is reused (the
  record is the cache); otherwise one call is reserved against the daily budget, made, and
  recorded whatever happens (answer, invalid answer or failure).
- ``replay`` / ``invert``: only the record; the best recorded outcome of the key (its latest
  valid answer, else its latest failure) is replayed, so a replay reproduces the recording
  run's decisions exactly. A key never recorded is ``LLM_REPLAY_MISS``.

Errors come back as values (an ``Answer`` with a failure code), never as exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from centaur.decision import ReasonCode
from centaur.settings.llm import LlmMode, LlmSettings
from llm_layer.client import Completion, LlmCallError, LlmClient
from llm_layer.prompt import LlmRequest
from llm_layer.schema import InvalidOutput
from llm_layer.store import CallRecord, DecisionStore

T = TypeVar("T")
_RECORD_ONLY = (LlmMode.REPLAY, LlmMode.INVERT)


@dataclass(frozen=True)
class Parser(Generic[T]):
    """How one kind of answer is validated: ``parse(text) -> (value, as_json, reason code)``."""

    kind: str
    parse: Callable[[str | None], tuple[T, dict[str, Any], ReasonCode]]


@dataclass(frozen=True)
class Answer(Generic[T]):
    key: str
    value: T | None  # None: a failure, see ``code``
    code: ReasonCode
    detail: str
    origin: str  # "call" | "cache" | "replay" | "policy"
    latency_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


class Consultant:
    def __init__(self, settings: LlmSettings, store: DecisionStore,
                 client: LlmClient | None, clock: Callable[[], datetime]):
        self.settings = settings
        self.store = store
        self._client = client
        self._clock = clock

    @property
    def model(self) -> str:
        return self.settings.model

    def ask(self, request: LlmRequest, parser: Parser[T]) -> Answer[T]:
        key = request.key(self.model)
        if self.settings.mode in _RECORD_ONLY:
            return self._replayed(key, parser)
        cached = self.store.recorded(key, valid_only=True)
        if cached is not None:
            return self._from_record(cached, parser, "cache")
        return self._called(key, request, parser)

    def _replayed(self, key: str, parser: Parser[T]) -> Answer[T]:
        recorded = self.store.recorded(key, valid_only=False)
        if recorded is None:
            return Answer(key, None, ReasonCode.LLM_REPLAY_MISS,
                          "no recorded answer for this request", "replay")
        return self._from_record(recorded, parser, "replay")

    def _from_record(self, record: CallRecord, parser: Parser[T], origin: str) -> Answer[T]:
        if not record.valid:
            return Answer(record.key, None, ReasonCode(record.reason_code), record.detail,
                          origin, record.latency_ms)
        try:
            value, _, code = parser.parse(record.answer)
        except InvalidOutput as err:  # recorded under an older schema
            return Answer(record.key, None, ReasonCode.LLM_INVALID_OUTPUT, str(err), origin,
                          record.latency_ms)
        return Answer(record.key, value, code, "", origin, record.latency_ms)

    def _called(self, key: str, request: LlmRequest, parser: Parser[T]) -> Answer[T]:
        if self._client is None:
            return Answer(key, None, ReasonCode.LLM_CONNECTION_ERROR, "no client configured",
                          "policy")
        spent = self.store.reserve_call(self._clock(), self.settings.budget)
        if spent is not None:
            return Answer(key, None, ReasonCode.LLM_BUDGET_EXHAUSTED, spent, "policy")
        try:
            completion = self._client.complete(request)
        except LlmCallError as err:
            self._record(key, request, parser, None, None, err.code, err.detail,
                         err.latency_ms, err.raw_body)
            return Answer(key, None, err.code, err.detail, "call", err.latency_ms)
        self.store.add_tokens(self._clock(), completion.prompt_tokens
                              + completion.completion_tokens)
        return self._validated(key, request, parser, completion)

    def _validated(self, key: str, request: LlmRequest, parser: Parser[T],
                   completion: Completion) -> Answer[T]:
        try:
            value, as_json, code = parser.parse(completion.text)
        except InvalidOutput as err:
            detail = f"{err} (finish_reason={completion.finish_reason})"
            self._record(key, request, parser, completion, None,
                         ReasonCode.LLM_INVALID_OUTPUT, detail, completion.latency_ms,
                         completion.raw_body)
            return Answer(key, None, ReasonCode.LLM_INVALID_OUTPUT, detail, "call",
                          completion.latency_ms)
        self._record(key, request, parser, completion, as_json, code, "",
                     completion.latency_ms, completion.raw_body)
        return Answer(key, value, code, "", "call", completion.latency_ms)

    def _record(self, key: str, request: LlmRequest, parser: Parser[T],
                completion: Completion | None, parsed: dict[str, Any] | None, code: ReasonCode,
                detail: str, latency_ms: float | None, raw_body: str | None) -> None:
        self.store.record_call(CallRecord(
            key=key, kind=parser.kind, model=self.model, request=request.canonical(),
            raw_response=raw_body, answer=completion.text if completion else None,
            parsed=parsed, reason_code=str(code), detail=detail, latency_ms=latency_ms,
            prompt_tokens=completion.prompt_tokens if completion else 0,
            completion_tokens=completion.completion_tokens if completion else 0,
            served_by=completion.served_by if completion else ""))
