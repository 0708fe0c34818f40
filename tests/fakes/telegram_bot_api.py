"""A Telegram Bot API server on 127.0.0.1 for python-telegram-bot (getMe, getUpdates, ...).

Only the methods freqtrade's Telegram module and the suite's commands use. Operators' messages
are injected with ``send_command``, inline-button presses with ``press_button``; the bot's
answers are recorded in ``sent`` (a message with inline buttons also with its ``message_id`` and
``reply_markup``), ``edits`` and ``callback_answers``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


BOT_USER = {"id": 777000, "is_bot": True, "first_name": "Centaur", "username": "centaur_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


@dataclass
class FakeBotApi:
    token: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)  # sendDocument
    edits: list[dict[str, Any]] = field(default_factory=list)  # editMessageText
    callback_answers: list[dict[str, Any]] = field(default_factory=list)  # answerCallbackQuery
    polls: int = 0
    confirmed_offset: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _loop: asyncio.AbstractEventLoop | None = None
    _changed: asyncio.Condition | None = None
    url: str = ""

    # --- operator side ---------------------------------------------------------------------

    def send_command(self, chat_id: int, user_id: int, text: str) -> int:
        update_id = next(self._ids)
        command = text.split()[0]
        update = {"update_id": update_id, "message": {
            "message_id": update_id, "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "operator"},
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        }}
        asyncio.run_coroutine_threadsafe(self._add(update), self._loop).result(5)
        return update_id

    def press_button(self, chat_id: int, user_id: int, message: dict[str, Any], data: str
                     ) -> int:
        """An inline button of ``message`` (a ``sent`` record) pressed by ``user_id`` in
        ``chat_id``: a ``callback_query`` update."""
        update_id = next(self._ids)
        update = {"update_id": update_id, "callback_query": {
            "id": f"cq{update_id}", "chat_instance": f"ci{chat_id}", "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "operator"},
            "message": {"message_id": message["message_id"], "date": int(time.time()),
                        "text": message["text"], "chat": {"id": chat_id, "type": "private"},
                        "from": BOT_USER},
        }}
        asyncio.run_coroutine_threadsafe(self._add(update), self._loop).result(5)
        return update_id

    def wait_for(self, predicate, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = [m for m in list(self.sent) if predicate(m)]
            if matches:
                return matches
            time.sleep(0.2)
        return []

    # --- Bot API ---------------------------------------------------------------------------

    async def _add(self, update: dict[str, Any]) -> None:
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        params = await _params(request)
        method = request.match_info["method"]
        result = await getattr(self, f"_m_{method}", self._m_default)(params)
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, params):
        return BOT_USER

    async def _m_deleteWebhook(self, params):
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.updates.clear()
        return True

    async def _m_getUpdates(self, params):
        self.polls += 1
        offset = int(params.get("offset") or 0)
        self.confirmed_offset = max(self.confirmed_offset, offset)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if not pending and timeout:
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(timeout, 2.0))
                except TimeoutError:
                    pass
                pending = [u for u in self.updates if u["update_id"] >= offset]
        return pending

    async def _m_sendMessage(self, params):
        message_id = next(self._ids)
        record = {"chat_id": int(params["chat_id"]), "text": params.get("text", "")}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # buttons: press_button
            record.update(message_id=message_id, reply_markup=markup)
        self.sent.append(record)
        return {"message_id": message_id, "date": int(time.time()), "text": params.get("text", ""),
                "chat": {"id": int(params["chat_id"]), "type": "private"}, "from": BOT_USER}

    async def _m_answerCallbackQuery(self, params):
        self.callback_answers.append({"callback_query_id": params["callback_query_id"],
                                      "text": params.get("text", "")})
        return True

    async def _m_editMessageText(self, params):
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        self.edits.append({"chat_id": chat_id, "message_id": message_id,
                           "text": params.get("text", ""),
                           "reply_markup": params.get("reply_markup")})
        return {"message_id": message_id, "date": int(time.time()),
                "edit_date": int(time.time()), "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER}

    async def _m_sendDocument(self, params):
        """multipart/form-data: ``chat_id``, ``caption`` and the file in ``document``."""
        message_id = next(self._ids)
        upload = params["document"]
        content = upload.file.read()
        self.documents.append({"chat_id": int(params["chat_id"]),
                               "caption": params.get("caption", ""),
                               "filename": upload.filename, "content": content})
        return {"message_id": message_id, "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"}, "from": BOT_USER,
                "caption": params.get("caption", ""),
                "document": {"file_id": f"doc-{message_id}", "file_unique_id": f"u{message_id}",
                             "file_name": upload.filename, "mime_type": upload.content_type,
                             "file_size": len(content)}}

    async def _m_default(self, params):
        return True


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    out = {}
    for key, value in form.items():
        try:
            out[key] = json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value
        except ValueError:
            out[key] = value
    return out


def start_fake_bot_api(token: str) -> tuple[FakeBotApi, callable]:
    api = FakeBotApi(token=token)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    async def start():
        api._loop = loop
        api._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", api.handle)
        app.router.add_get("/bot{token}/{method}", api.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        api.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        ready.set()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="fake-bot-api")
    thread.start()
    ready.wait(10)

    def stop():
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return api, stop
