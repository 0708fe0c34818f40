"""Secrets: from the environment or a ``.env`` file, never from config files, never logged.

Freqtrade already maps ``FREQTRADE__SECTION__KEY`` environment variables onto its config
(``FREQTRADE__EXCHANGE__SECRET``, ``FREQTRADE__TELEGRAM__TOKEN``, ...). The suite adds:
- a ``.env`` file in the working directory is loaded into the environment before freqtrade
  reads it (existing variables win; an empty value means "not set", as in ``.env.example``);
- every secret-named variable's value is handed to the redaction layer (``centaur.redaction``);
- a start-up check refuses any secret value written into a config file - freqtrade's own
  credential keys and the credentials of ``exchange.ccxt_config`` / ``ccxt_async_config`` /
  ``ccxt_sync_config`` - naming the key, the file and the environment variable to use, never
  the value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from centaur.redaction import REDACTOR
from centaur.settings import CentaurConfigError
from centaur.settings.exchange import CREDENTIAL_KEYS

logger = logging.getLogger(__name__)

DOTENV_PATH_ENV = "CENTAUR_DOTENV"

# Config paths whose values are secrets (freqtrade's own keys, plus the suite's).
SECRET_PATHS: tuple[tuple[str, ...], ...] = (
    ("exchange", "key"), ("exchange", "api_key"), ("exchange", "apiKey"),
    ("exchange", "secret"), ("exchange", "password"), ("exchange", "uid"),
    ("exchange", "private_key"), ("exchange", "privateKey"),
    ("telegram", "token"),
    ("api_server", "password"), ("api_server", "jwt_secret_key"), ("api_server", "ws_token"),
)
# ccxt constructor blocks freqtrade passes to ccxt as they are: credentials must not hide there.
CCXT_BLOCKS = ("ccxt_config", "ccxt_async_config", "ccxt_sync_config")


def load_dotenv_file(environ: dict[str, str] | None = None) -> list[str]:
    """Load ``.env`` (or ``$CENTAUR_DOTENV``) into the environment; return the names loaded."""
    from dotenv import dotenv_values

    target = os.environ if environ is None else environ
    path = Path(target.get(DOTENV_PATH_ENV, ".env"))
    if not path.is_file():
        return []
    loaded = []
    values = dotenv_values(path)
    for name, value in values.items():
        if value and name not in target:  # empty: not set (freqtrade would make a block of it)
            target[name] = value
            loaded.append(name)
    REDACTOR.add_environment(values)  # the environment itself was added at interpreter start
    return loaded


def env_var_for(path: tuple[str, ...]) -> str:
    return "FREQTRADE__" + "__".join(part.upper() for part in path)


def secrets_in_files(config_files: Iterable[str | Path]) -> list[str]:
    """``key in file`` for every non-empty secret written into a config file."""
    from freqtrade.configuration.load_config import load_config_file

    found = []
    for file in config_files:
        if str(file) == "-":
            continue
        content = load_config_file(str(file))
        found += [f"{'.'.join(path)} in {file}" for path in SECRET_PATHS
                  if _lookup(content, path)]
        exchange = content.get("exchange") if isinstance(content.get("exchange"), dict) else {}
        found += [f"exchange.{block}.{key} in {file}" for block in CCXT_BLOCKS
                  for key in sorted(CREDENTIAL_KEYS & set(exchange.get(block) or {}))
                  if exchange[block][key]]
    return found


def check_no_secrets_in_files(config: dict[str, Any]) -> None:
    found = secrets_in_files(config.get("config_files", []))
    if found:
        fixes = ", ".join(sorted({env_var_for(_env_path(f.split(" in ")[0])) for f in found}))
        raise CentaurConfigError(
            f"Secret value(s) written into a config file: {'; '.join(found)}. Fix: empty them "
            f"in the file and set them in the environment or .env instead ({fixes})."
        )


def check_required_secrets(config: dict[str, Any]) -> None:
    """Enabled features whose secret is missing fail now, not at the first request."""
    missing = []
    api = config.get("api_server", {})
    if api.get("enabled"):
        if not api.get("password"):
            missing.append(("api_server", "password"))
        if len(str(api.get("jwt_secret_key") or "")) < 32:
            missing.append(("api_server", "jwt_secret_key"))
    telegram = config.get("telegram", {})
    if telegram.get("enabled") and not telegram.get("token"):
        missing.append(("telegram", "token"))
    if telegram.get("enabled") and not telegram.get("chat_id"):
        missing.append(("telegram", "chat_id"))
    if not config.get("dry_run", True):
        exchange = config.get("exchange", {})
        if not (exchange.get("key") or exchange.get("api_key")):
            missing.append(("exchange", "key"))
        if not exchange.get("secret"):
            missing.append(("exchange", "secret"))
    if missing:
        raise CentaurConfigError(
            "Missing secret(s): " + ", ".join(
                f"{'.'.join(p)} (set {env_var_for(p)} in the environment or .env"
                + (", at least 32 characters)" if p[-1] == "jwt_secret_key" else ")")
                for p in missing)
        )


def _env_path(dotted: str) -> tuple[str, ...]:
    """The freqtrade variable for a key; a ccxt credential maps to freqtrade's own key."""
    path = tuple(dotted.split("."))
    if len(path) == 3 and path[1] in CCXT_BLOCKS:
        ours = {"apiKey": "key", "privateKey": "private_key", "walletAddress": "wallet_address"}
        return ("exchange", ours.get(path[2], path[2].lower()))
    return path


def _lookup(content: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = content
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
