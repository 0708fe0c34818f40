"""The suite's Telegram additions: a Bot API base URL and extra commands.

Freqtrade builds its Telegram application from the token alone. The suite's replacement of
``Telegram._init_telegram_app`` honours ``centaur.telegram.base_url`` (a local Bot API server
in tests) and adds ``COMMANDS``, each wrapped in freqtrade's own ``authorized_only`` check, so
the suite's commands answer only the configured chat (and authorised users), like freqtrade's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from centaur.decision import ReasonCode
from centaur.settings import settings_from
from centaur_plugins import operator
from centaur_plugins.catalogue import TELEGRAM_COMMANDS
from centaur_plugins.status import format_status, suite_status
from control_tower.human_go import Operator
from control_tower.human_go_book import UnknownRequest
from control_tower.human_go_part import find_human_go
from control_tower.human_go_telegram import CALLBACK_PATTERN, attach_telegram, parse_callback

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class TelegramCommand:
    names: tuple[str, ...]
    handler: Handler
    description: str


async def _centaur(telegram: Any, update: Any, context: Any) -> None:
    bot = getattr(getattr(telegram, "_rpc", None), "_freqtrade", None)
    await telegram._send_msg(format_status(suite_status(bot)))


def _operator_name(update: Any) -> str:
    user = getattr(update, "effective_user", None)
    return f"telegram user {getattr(user, 'id', '?')}"


async def _run(telegram: Any, command: Callable[[], Any]) -> None:
    try:
        result = command()
    except operator.OperatorError as err:
        await telegram._send_msg(f"Centaur: {err}")
        return
    await telegram._send_msg("Centaur: " + json.dumps(result, default=str))


async def _killswitch(telegram: Any, update: Any, context: Any) -> None:
    await _run(telegram, lambda: operator.kill_switch(telegram._rpc, _operator_name(update)))


async def _resume(telegram: Any, update: Any, context: Any) -> None:
    include_timed = bool(context.args) and context.args[0].lower() == "all"
    await _run(telegram, lambda: operator.resume(telegram._rpc, _operator_name(update),
                                                 include_timed))


async def _state_reset(telegram: Any, update: Any, context: Any) -> None:
    await _run(telegram, lambda: operator.state_reset(telegram._rpc, _operator_name(update)))


async def _interventions(telegram: Any, update: Any, context: Any) -> None:
    await _run(telegram, lambda: operator.interventions(telegram._rpc))


async def _revoke(telegram: Any, update: Any, context: Any) -> None:
    if not context.args:
        await telegram._send_msg("Centaur: usage /revoke <intervention id>")
        return
    await _run(telegram, lambda: operator.revoke(telegram._rpc, context.args[0],
                                                 _operator_name(update)))


_HANDLERS: dict[str, Handler] = {
    "centaur": _centaur,
    "killswitch": _killswitch,
    "resume": _resume,
    "state_reset": _state_reset,
    "interventions": _interventions,
    "revoke": _revoke,
}

COMMANDS: tuple[TelegramCommand, ...] = tuple(
    TelegramCommand((name,), _HANDLERS[name], description)
    for name, description in TELEGRAM_COMMANDS.items()
)


def build_application(telegram: Any, authorized_only: Callable[[Handler], Handler]) -> Application:
    config = telegram._config
    builder = Application.builder().token(config["telegram"]["token"])
    base_url = settings_from(config).telegram.base_url
    if base_url:
        builder = builder.base_url(f"{base_url}/bot").base_file_url(f"{base_url}/file/bot")
    app = builder.build()
    for command in COMMANDS:
        callback = functools.partial(authorized_only(command.handler), telegram)
        app.add_handler(CommandHandler(list(command.names), callback))
    app.add_handler(CallbackQueryHandler(_go_button(telegram, authorized_only),
                                         pattern=CALLBACK_PATTERN))
    attach_telegram(telegram)  # the human-GO prompts are sent through this bot
    return app


# --- human GO buttons (control_tower.human_go_part) ------------------------------------------
# A press goes through freqtrade's ``authorized_only`` (it reads a callback query's message
# chat and the pressing user); a press it rejects is answered, logged and recorded as refused.


def _go_operator(update: Any, authorised: bool) -> Operator:
    who = _operator_name(update)
    if not authorised:
        who += f" in chat {getattr(getattr(update, 'effective_chat', None), 'id', '?')}"
    return Operator(who, "telegram", authorised)


async def _answer_go(telegram: Any, update: Any, authorised: bool) -> None:
    query = update.callback_query
    parsed = parse_callback(query.data)
    bot = getattr(getattr(telegram, "_rpc", None), "_freqtrade", None)
    part = find_human_go(getattr(bot, "strategy", None))
    if parsed is None or part is None:
        await query.answer("Centaur: human GO is not running")
        return
    request_id, go = parsed
    answer = functools.partial(part.answer, request_id, go, _go_operator(update, authorised),
                               datetime.now(UTC))
    try:
        record = await asyncio.get_running_loop().run_in_executor(None, answer)
    except UnknownRequest:
        await query.answer(f"Centaur: no GO request {request_id}")
        return
    await query.answer(f"{record.answer.upper()} " + (
        "accepted" if record.accepted else f"refused: {record.detail}"))


def _go_button(telegram: Any, authorized_only: Callable[[Handler], Handler]):
    async def authorised(self: Any, update: Any, context: Any) -> bool:
        try:
            await _answer_go(self, update, authorised=True)
        except Exception:  # noqa: BLE001 - not a refusal: the press was authorised
            logger.exception("GO button: the answer failed")
        return True

    checked = authorized_only(authorised)

    async def on_press(update: Any, context: Any) -> None:
        if await checked(telegram, update, context) is not True:
            logger.warning("[%s] GO button pressed outside the authorised chat (chat %s, %s)",
                           ReasonCode.HUMAN_GO_REFUSED,
                           getattr(update.effective_chat, "id", "?"), _operator_name(update))
            await _answer_go(telegram, update, authorised=False)

    return on_press
