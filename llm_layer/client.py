"""One chat-completions call through the ``openai`` package: hard timeout, no retries.

Any OpenAI-compatible endpoint works (OpenAI, hosted providers, Ollama, vLLM, llama.cpp).
Every way a call can fail is translated here, at the boundary, into an ``LlmCallError``
carrying a ``ReasonCode`` (table below) and the raw body when there is one. An answer that
arrives after ``timeout_secs`` in total (a slow trickle can outlast httpx's per-read timeout)
is a timeout too: nothing slower than the limit is ever used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

import openai
from openai.types.chat import ChatCompletion

from centaur.decision import ReasonCode
from centaur.settings.llm import LlmSettings
from llm_layer.prompt import LlmRequest

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
NO_KEY = "no-key"  # local servers ignore the key; the openai client insists on one

# openai exception -> reason code; order matters (APITimeoutError is an APIConnectionError).
ERROR_CODES: tuple[tuple[type[BaseException], ReasonCode], ...] = (
    (openai.APITimeoutError, ReasonCode.LLM_TIMEOUT),
    (openai.APIConnectionError, ReasonCode.LLM_CONNECTION_ERROR),
    (openai.APIStatusError, ReasonCode.LLM_HTTP_ERROR),
    (openai.APIResponseValidationError, ReasonCode.LLM_INVALID_OUTPUT),
    (ValueError, ReasonCode.LLM_INVALID_OUTPUT),  # a body that is not JSON
)


class MissingApiKey(ValueError):
    """A remote endpoint without its key in the environment (a configuration error)."""


@dataclass(frozen=True)
class Completion:
    text: str | None
    raw_body: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    served_by: str  # the model name the server reports
    finish_reason: str | None


class LlmCallError(Exception):
    def __init__(self, code: ReasonCode, detail: str, latency_ms: float,
                 raw_body: str | None = None):
        super().__init__(f"[{code}] {detail}")
        self.code = code
        self.detail = detail
        self.latency_ms = latency_ms
        self.raw_body = raw_body


def check_key_variable(settings: LlmSettings) -> None:
    """``api_key_env`` must name a variable; a pasted key is refused without being echoed."""
    name = settings.api_key_env
    if not (name.replace("_", "").isalnum() and name.isascii() and not name[0].isdigit()):
        raise MissingApiKey(
            "centaur.llm.api_key_env must be the NAME of an environment variable (letters, "
            "digits, _); the value configured is not one (it may be a key: remove it from the "
            "config file and rotate it). Fix: set api_key_env to e.g. CENTAUR_LLM_API_KEY and "
            "export the key in that variable")


def resolve_api_key(settings: LlmSettings, environ: Mapping[str, str] = os.environ) -> str:
    """The key from the environment; a loopback endpoint may go without one."""
    check_key_variable(settings)
    key = environ.get(settings.api_key_env, "")
    if key:
        return key
    if urlparse(settings.base_url).hostname in LOOPBACK_HOSTS:
        return NO_KEY
    raise MissingApiKey(
        f"centaur.llm.base_url {settings.base_url} needs an API key, but the environment "
        f"variable {settings.api_key_env} is not set. Fix: export {settings.api_key_env}=... "
        "(or put it in .env); never write the key into a config file")


class LlmClient:
    """``complete(request)`` -> ``Completion`` or ``LlmCallError``; one attempt, bounded."""

    def __init__(self, base_url: str, model: str, api_key: str, timeout_secs: float,
                 clock: Callable[[], float] = time.perf_counter):
        self.model = model
        self.timeout_secs = timeout_secs
        self._clock = clock
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key,
                                     timeout=timeout_secs, max_retries=0)

    @classmethod
    def from_settings(cls, settings: LlmSettings, timeout_secs: float | None = None,
                      environ: Mapping[str, str] = os.environ) -> LlmClient:
        return cls(settings.base_url, settings.model, resolve_api_key(settings, environ),
                   timeout_secs or settings.timeout_secs)

    def complete(self, request: LlmRequest) -> Completion:
        started, body = self._clock(), None
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=self.model, messages=list(request.messages),
                response_format=request.response_format, max_tokens=request.max_tokens,
                temperature=request.temperature, seed=request.seed)
            body = raw.http_response.text
            parsed = raw.parse()
        except Exception as err:  # noqa: BLE001 - translated by the table, others re-raised
            translated = _translated(err, self._elapsed_ms(started), body)
            if translated is None:
                raise
            raise translated from err
        latency_ms = self._elapsed_ms(started)
        if latency_ms > self.timeout_secs * 1000:
            raise LlmCallError(ReasonCode.LLM_TIMEOUT, f"answer took {latency_ms:.0f} ms, "
                               f"over the {self.timeout_secs:g} s limit", latency_ms, body)
        return _completion(parsed, body, latency_ms)

    def close(self) -> None:
        self._client.close()

    def _elapsed_ms(self, started: float) -> float:
        return (self._clock() - started) * 1000.0


def _translated(err: Exception, latency_ms: float, body: str | None) -> LlmCallError | None:
    for kind, code in ERROR_CODES:
        if isinstance(err, kind):
            body = body or getattr(getattr(err, "response", None), "text", None)
            status = getattr(err, "status_code", None)
            detail = f"HTTP {status}: {err}" if status else f"{type(err).__name__}: {err}"
            return LlmCallError(code, detail[:300], latency_ms, body)
    return None


def _completion(parsed: object, body: str, latency_ms: float) -> Completion:
    if not isinstance(parsed, ChatCompletion) or not parsed.choices:
        raise LlmCallError(ReasonCode.LLM_INVALID_OUTPUT,
                           "the response is not a chat completion with choices", latency_ms, body)
    choice = parsed.choices[0]
    usage = parsed.usage
    return Completion(
        text=choice.message.content, raw_body=body,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        latency_ms=latency_ms, served_by=parsed.model or "", finish_reason=choice.finish_reason)
