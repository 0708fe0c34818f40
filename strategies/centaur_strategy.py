"""The base every suite strategy shares: start-up checks that the suite is wired as configured."""

from __future__ import annotations

import logging
from typing import Any

from freqtrade.strategy import IStrategy

from centaur.plugins.hooks import suite_exchange_class
from centaur.settings import CentaurConfigError, settings_from


logger = logging.getLogger(__name__)


class CentaurStrategy(IStrategy):
    """Fails closed at start-up when the config asks for suite plugins freqtrade did not load.

    If the plugin hooks are switched off (``CENTAUR_PLUGINS=off``) or broken, freqtrade would
    quietly fall back to its stock exchange class; a suite protection would already fail to
    load with freqtrade's own error. This check turns the silent case into an error.
    """

    def bot_start(self, **kwargs) -> None:
        settings_from(self.config)  # bad `centaur` keys fail here at the latest
        expected = suite_exchange_class(self.config)
        exchange = getattr(self.dp, "_exchange", None) if self.dp else None
        if expected is not None and exchange is not None and not isinstance(exchange, expected):
            raise CentaurConfigError(
                f"centaur.exchange opts in to {expected.__name__}, but freqtrade is using "
                f"{type(exchange).__name__}: the suite's plugin hooks are not active. Fix: "
                "unset CENTAUR_PLUGINS=off, or reinstall the suite (`make setup`)."
            )

    def centaur_status(self) -> dict[str, Any]:
        """Suite-specific status lines for Telegram /centaur and the REST status route."""
        return {}
