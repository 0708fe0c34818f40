"""Start-up checks for suite configs (those with a ``centaur`` block), run before trading starts.

Called from the exchange resolver hook, which every freqtrade mode goes through before it
trades or backtests: a bad ``centaur`` key, a secret in a config file, or a missing secret
for an enabled feature stops freqtrade with the key and the fix.
"""

from __future__ import annotations

from typing import Any

from centaur.secrets import check_no_secrets_in_files, check_required_secrets
from centaur.settings import CONFIG_KEY, settings_from


def check_suite_config(config: dict[str, Any]) -> None:
    if CONFIG_KEY not in config:
        return
    settings_from(config)
    check_no_secrets_in_files(config)
    check_required_secrets(config)
