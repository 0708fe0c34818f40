"""Which exchange class a config asks for: the suite's (opt-in per config) or freqtrade's."""

from __future__ import annotations

import importlib
from typing import Any

from centaur.settings import CentaurConfigError, settings_from
from sor_exchange import EXCHANGE_CLASSES


def suite_exchange_class(config: dict[str, Any]) -> type | None:
    """The suite's exchange class for this config, or None to use freqtrade's stock class."""
    from freqtrade.exchange.common import MAP_EXCHANGE_CHILDCLASS

    if not settings_from(config).exchange.suite_class_requested:
        return None
    ccxt_id = config["exchange"]["name"]
    class_name = MAP_EXCHANGE_CHILDCLASS.get(ccxt_id, ccxt_id).title()
    location = EXCHANGE_CLASSES.get(class_name)
    if location is None:
        raise CentaurConfigError(
            f"centaur.exchange opts in to the suite exchange class, but the suite has none for "
            f"exchange '{ccxt_id}' (supported: {', '.join(sorted(EXCHANGE_CLASSES))}). Fix: "
            "disable centaur.exchange.offline_markets and centaur.exchange.router for it."
        )
    module_name, _, attr = location.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def check_exchange_class(config: dict[str, Any], exchange: Any) -> None:
    """Fail closed when the config asks for the suite's exchange class and freqtrade is not
    using it: with the plugin hooks off (``CENTAUR_PLUGINS=off``) or broken, freqtrade would
    quietly use its stock class."""
    expected = suite_exchange_class(config)
    if expected is not None and exchange is not None and not isinstance(exchange, expected):
        raise CentaurConfigError(
            f"centaur.exchange opts in to {expected.__name__}, but freqtrade is using "
            f"{type(exchange).__name__}: the suite's plugin hooks are not active. Fix: "
            "unset CENTAUR_PLUGINS=off, or reinstall the suite (`make setup`).")
