"""A Slack incoming webhook on 127.0.0.1: POST JSON ``{"text": ...}``, answer 200 ``ok``.

As Slack answers (https://api.slack.com/messaging/webhooks#handling_errors): 400
``invalid_payload`` for a body that is not JSON, 400 ``no_text`` without a text, 404
``no_service`` for another path, 429 with ``Retry-After`` when rate-limited. ``fail_next``
makes the next N posts fail (500 or 429) for retry tests; accepted payloads are in
``payloads``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeSlackWebhook:
    def __init__(self) -> None:
        self.path = f"/services/T{secrets.token_hex(4).upper()}/B{secrets.token_hex(4).upper()}/" \
                    f"{secrets.token_hex(12)}"
        self.payloads: list[dict[str, Any]] = []
        self.posts = 0
        self._failures: list[tuple[int, float | None]] = []
        self._lock = threading.Lock()
        self.url = ""

    def fail_next(self, count: int, status: int = 500, retry_after_secs: float | None = None
                  ) -> None:
        with self._lock:
            self._failures += [(status, retry_after_secs)] * count

    def texts(self) -> list[str]:
        with self._lock:
            return [p["text"] for p in self.payloads]

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [t for t in self.texts() if predicate(t)]
            if found:
                return found
            time.sleep(0.2)
        return []

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.posts += 1
            if path != self.path:
                return 404, {}, "no_service"
            if self._failures:
                status, retry_after = self._failures.pop(0)
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                return status, headers, "rate_limited" if status == 429 else "internal_error"
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, {}, "invalid_payload"
            if not isinstance(payload, dict) or not payload.get("text"):
                return 400, {}, "no_text"
            self.payloads.append(payload)
            return 200, {}, "ok"


def start_fake_slack_webhook() -> tuple[FakeSlackWebhook, Callable[[], None]]:
    """The stand-in, listening; ``url`` is its full webhook URL. Returns it and its stop."""
    hook = FakeSlackWebhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, text = hook.answer(self.path, body)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}{hook.path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="fake-slack")
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(10)

    return hook, stop
