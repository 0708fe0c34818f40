"""Start-up checks for suite configs (those with a ``centaur`` block), run before trading starts.

``check_config_files`` runs while freqtrade loads the configuration (the environment merge), before
freqtrade validates and on error dumps it: a secret written into a config file stops there.
``check_suite_config`` runs from the exchange resolver hook, which every freqtrade mode goes
through before it trades or backtests: a bad ``centaur`` key or a missing secret for an enabled
feature stops freqtrade with the key and the fix.
"""

from __future__ import annotations

import logging
from typing import Any

from centaur.secrets import check_no_secrets_in_files, check_required_secrets
from centaur.settings import CONFIG_KEY, settings_from

logger = logging.getLogger(__name__)


def check_config_files(config: dict[str, Any]) -> None:
    """At configuration load, before freqtrade validates (and on error dumps) the config."""
    if CONFIG_KEY in config:
        check_no_secrets_in_files(config)


def check_suite_config(config: dict[str, Any],
                       exchange_config: dict[str, Any] | None = None) -> None:
    """``exchange_config``: the exchange block with its credentials - freqtrade's bot removes
    them from ``config["exchange"]`` and hands them to the exchange class separately."""
    if CONFIG_KEY not in config:
        return
    settings_from(config)  # config files were checked for secrets when they were loaded
    check_required_secrets(config if exchange_config is None
                           else {**config, "exchange": exchange_config})
    disable_stale_backtest_cache(config)


def disable_stale_backtest_cache(config: dict[str, Any]) -> None:
    """Freqtrade's backtest cache (``--cache day`` by default) keys a result on the strategy
    file's source, which for suite strategies is the two-line resolver file: a change in the
    suite's packages would silently replay an old result. Suite configs always run fresh."""
    if config.get("backtest_cache", "none") != "none":
        logger.info("Backtest cache '%s' disabled for the suite: results are keyed on the "
                    "resolver file, not the suite's code", config["backtest_cache"])
        config["backtest_cache"] = "none"
