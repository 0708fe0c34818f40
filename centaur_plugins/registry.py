"""What the suite registered into freqtrade in this process, announced once in the log."""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from centaur_plugins.bootstrap import OFF_SWITCH_ENV

logger = logging.getLogger("centaur_plugins")

_registered: dict[str, list[str]] = {}
_announced = False


def record(kind: str, names: list[str]) -> None:
    _registered.setdefault(kind, [])
    _registered[kind].extend(n for n in names if n not in _registered[kind])


def registered() -> dict[str, list[str]]:
    """The patches applied so far in this process (they apply as freqtrade imports modules)."""
    return {kind: list(names) for kind, names in _registered.items()}


def announce() -> None:
    """Log, once per process, which suite plugins are registered and how to switch them off."""
    global _announced
    if _announced:
        return
    _announced = True
    from centaur_plugins.catalogue import catalogue

    entries = {**catalogue(), **{k: v for k, v in _registered.items() if k == "dotenv"}}
    parts = [f"{kind}: {', '.join(names)}" for kind, names in entries.items()]
    logger.info(
        "Centaur plugins registered (%s=off disables them) - %s",
        OFF_SWITCH_ENV,
        "; ".join(parts),
    )


def load_object(location: str) -> Any:
    """Import ``package.module:Name`` lazily (plugins are imported only when used)."""
    module_name, _, attr = location.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def plugins_summary() -> dict[str, Any]:
    return {"enabled_by_env": os.environ.get(OFF_SWITCH_ENV, "on"), "registered": registered()}
