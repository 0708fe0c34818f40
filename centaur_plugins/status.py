"""The suite's status as the operator sees it (Telegram /centaur and GET /api/v1/centaur/status)."""

from __future__ import annotations

from typing import Any

from centaur_plugins import registry


def suite_status(bot: Any | None) -> dict[str, Any]:
    """Plugins registered in this process and, with a running bot, what it actually uses."""
    status: dict[str, Any] = {"plugins": registry.registered()}
    if bot is None:
        return status
    status["exchange_class"] = type(bot.exchange).__name__
    status["protections"] = list(bot.protections.name_list)
    strategy = bot.strategy
    status["strategy"] = type(strategy).__name__
    report = getattr(strategy, "centaur_status", None)
    if callable(report):
        status["strategy_status"] = report()
    return status


def format_status(status: dict[str, Any]) -> str:
    lines = ["*Centaur*"]
    for kind, names in sorted(status.get("plugins", {}).items()):
        lines.append(f"`{kind}`: {', '.join(names)}")
    for key in ("strategy", "exchange_class"):
        if key in status:
            lines.append(f"`{key}`: {status[key]}")
    if "protections" in status:
        lines.append(f"`protections`: {', '.join(status['protections']) or 'none'}")
    for key, value in sorted(status.get("strategy_status", {}).items()):
        lines.append(f"`{key}`: {value}")
    return "\n".join(lines)
