"""The suite's Telegram additions: a Bot API base URL and extra commands.

Freqtrade builds its Telegram application from the token alone. The suite's replacement of
``Telegram._init_telegram_app`` honours ``centaur.telegram.base_url`` (a local Bot API server
in tests) and adds ``COMMANDS``, each wrapped in freqtrade's own ``authorized_only`` check, so
the suite's commands answer only the configured chat (and authorised users), like freqtrade's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CommandHandler

from centaur.plugins.catalogue import TELEGRAM_COMMANDS
from centaur.plugins.status import format_status, suite_status
from centaur.settings import settings_from


Handler = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class TelegramCommand:
    names: tuple[str, ...]
    handler: Handler
    description: str


async def _centaur(telegram: Any, update: Any, context: Any) -> None:
    bot = getattr(getattr(telegram, "_rpc", None), "_freqtrade", None)
    await telegram._send_msg(format_status(suite_status(bot)))


_HANDLERS: dict[str, Handler] = {
    "centaur": _centaur,
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
