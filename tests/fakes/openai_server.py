"""An OpenAI chat-completions server on 127.0.0.1 for the real ``openai`` client, with faults.

``POST /v1/chat/completions`` answers with a real chat-completion body. What the "model"
says comes from ``responder(request) -> content`` (a deterministic stand-in); faults queued
with ``push`` apply to the next requests in order: a delay longer than the client's timeout,
an HTTP status (5xx), a body that is not JSON, or a given message content (malformed JSON or
a schema violation). Every request is kept in ``requests`` (tests count calls: no retries).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


Responder = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Fault:
    delay_secs: float = 0.0
    status: int | None = None  # an HTTP error status instead of an answer
    raw_body: str | None = None  # sent as application/json, whatever it is
    content: str | None = None  # the message content instead of the responder's

    @classmethod
    def slow(cls, secs: float) -> Fault:
        return cls(delay_secs=secs)

    @classmethod
    def http(cls, status: int) -> Fault:
        return cls(status=status)

    @classmethod
    def malformed_body(cls) -> Fault:
        return cls(raw_body='{"id": "chatcmpl-broken", "choices": [{"message": ')

    @classmethod
    def says(cls, content: str) -> Fault:
        return cls(content=content)


def user_document(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of the request's user message."""
    user = next(m for m in request["messages"] if m["role"] == "user")
    return json.loads(user["content"])


def rule_veto(request: dict[str, Any]) -> str:
    """A deterministic stand-in model: skip on alarming headlines, reduce when volatile."""
    case = user_document(request)
    titles = " ".join(h["title"].lower() for h in case.get("headlines", []))
    if any(word in titles for word in ("hack", "exploit", "sues", "lawsuit", "ban")):
        answer = {"rationale": "alarming headline", "decision": "skip", "confidence": 0.9}
    elif case.get("market", {}).get("volatility_regime") == "elevated":
        answer = {"rationale": "elevated volatility", "decision": "reduce", "confidence": 0.6}
    else:
        answer = {"rationale": "nothing against it", "decision": "proceed", "confidence": 0.7}
    return json.dumps(answer)


@dataclass
class FakeOpenAI:
    responder: Responder = rule_veto
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""  # base URL for the client, ending in /v1
    _faults: deque = field(default_factory=deque)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    async def chat_completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        fault = self._next_fault() or Fault()
        if fault.delay_secs:
            await asyncio.sleep(fault.delay_secs)
        if fault.status is not None:
            error = {"message": "injected failure", "type": "server_error", "code": None}
            return web.json_response({"error": error}, status=fault.status)
        if fault.raw_body is not None:
            return web.Response(text=fault.raw_body, content_type="application/json")
        content = fault.content if fault.content is not None else self.responder(body)
        return web.json_response(self._completion(body, content))

    def _completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
        completion_tokens = len(content.split())
        return {
            "id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


def start_fake_openai(responder: Responder = rule_veto) -> tuple[FakeOpenAI, Callable[[], None]]:
    fake = FakeOpenAI(responder=responder)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", fake.chat_completions)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="fake-openai")
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the fake OpenAI server did not start")

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return fake, stop
