"""The suite's Telegram additions: a Bot API base URL and extra commands.

Freqtrade builds its Telegram application from the token alone. The suite's replacement of
``Telegram._init_telegram_app`` honours ``centaur.telegram.base_url`` (a local Bot API server
in tests) and adds ``COMMANDS``, each wrapped in freqtrade's own ``authorized_only`` check, so
the suite's commands answer only the configured chat (and authorised users), like freqtrade's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CommandHandler

from centaur.settings import settings_from
from centaur_plugins import operator
from centaur_plugins.catalogue import TELEGRAM_COMMANDS
from centaur_plugins.status import format_status, suite_status

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
    return app
