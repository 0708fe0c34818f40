"""Telegram GO / NO buttons for human-GO requests, sent through freqtrade's own Telegram bot.

The suite's ``_init_telegram_app`` replacement (``centaur_plugins.telegram``) attaches
freqtrade's Telegram handler here when it builds the application. A prompt is scheduled on that
handler's event loop - the bot loop never waits for Telegram - to the configured chat (and
topic) with two inline buttons whose callback data is ``centaur_go:<request id>:go|no``; the
answers come back through the handler ``centaur_plugins.telegram`` adds. Once a request is
settled (answer, timeout) its message is edited to show the outcome, without buttons.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from control_tower.human_go import GoRequest, GoStatus

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "centaur_go"
CALLBACK_PATTERN = rf"^{CALLBACK_PREFIX}:"
_ANSWERS = {"go": True, "no": False}

_attached: list[Any] = []  # freqtrade's Telegram handler of this process, once built


def attach_telegram(telegram: Any) -> None:
    _attached[:] = [telegram]


def attached_telegram() -> Any | None:
    return _attached[0] if _attached else None


def callback_data(request_id: str, go: bool) -> str:
    return f"{CALLBACK_PREFIX}:{request_id}:{'go' if go else 'no'}"


def parse_callback(data: str | None) -> tuple[str, bool] | None:
    """``(request id, go)`` from a button's callback data; None for anything else."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != CALLBACK_PREFIX or parts[2] not in _ANSWERS:
        return None
    return parts[1], _ANSWERS[parts[2]]


def prompt_text(request: GoRequest) -> str:
    voters = ", ".join(request.voters) or "-"
    return (f"Centaur: GO needed for {request.pair} {request.side}\n"
            f"notional {request.notional_usd:.2f} USD (limit {request.above_usd:.2f} USD)\n"
            f"tag {request.tag or '-'}, voters {voters}, confidence {request.confidence:.2f}\n"
            f"answer by {request.expires_at:%Y-%m-%d %H:%M:%S} UTC - no answer, no trade "
            f"(request {request.id})")


_OUTCOME = {GoStatus.GRANTED: "GO", GoStatus.USED: "GO (used)", GoStatus.DENIED: "NO",
            GoStatus.LAPSED: "GO (lapsed)"}


def settled_text(request: GoRequest) -> str:
    head = prompt_text(request).split("\n")[0].replace("GO needed for", "GO request:")
    if request.status == GoStatus.TIMEOUT:
        outcome = "TIMEOUT: no answer in time, no trade"
    else:
        outcome = (f"{_OUTCOME.get(request.status, request.status)} by {request.answered_by}"
                   f" at {request.answered_at:%H:%M:%S} UTC")
    return f"{head}, {request.notional_usd:.2f} USD\n{outcome} (request {request.id})"


OnSent = Callable[[str, int | None, int | None], None]


class TelegramGoPrompt:
    """Schedules the prompt and its edit on freqtrade's Telegram loop (fire and forget)."""

    def __init__(self, telegram_config: dict[str, Any],
                 find: Callable[[], Any | None] = attached_telegram):
        self._config = telegram_config
        self._find = find

    def ask(self, request: GoRequest, on_sent: OnSent) -> bool:
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup  # trading only

        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton("GO", callback_data=callback_data(request.id, True)),
            InlineKeyboardButton("NO", callback_data=callback_data(request.id, False))]])
        future = self._schedule(lambda bot: bot.send_message(
            self._config["chat_id"], prompt_text(request), reply_markup=markup,
            message_thread_id=self._config.get("topic_id")))
        if future is None:
            return False
        future.add_done_callback(lambda done: self._sent(done, request.id, on_sent))
        return True

    def settle(self, request: GoRequest) -> None:
        self._schedule(lambda bot: bot.edit_message_text(
            settled_text(request), chat_id=request.prompt_chat_id,
            message_id=request.prompt_message_id))

    def _schedule(self, call: Callable[[Any], Any]):
        telegram = self._find()
        app = getattr(telegram, "_app", None)
        loop = getattr(telegram, "_loop", None)
        if app is None or loop is None or not loop.is_running():
            return None
        return asyncio.run_coroutine_threadsafe(call(app.bot), loop)

    @staticmethod
    def _sent(done, request_id: str, on_sent: OnSent) -> None:
        try:
            message = done.result()
        except Exception as err:  # noqa: BLE001 - retried at the next loop
            logger.warning("GO request %s: Telegram prompt not sent (%s); retried", request_id,
                           err)
            on_sent(request_id, None, None)
            return
        on_sent(request_id, message.chat_id, message.message_id)
