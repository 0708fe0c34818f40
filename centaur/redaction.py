"""One redaction layer: no secret is printed, logged, raised or exported.

Secrets are known two ways, and both are redacted everywhere:
- by key: any key of a config tree (or of a ccxt config inside it) whose name is a credential
  (``password``, ``secret``, ``jwt_secret_key``, ``ws_token``, ``apiKey`` ...), at any depth;
- by value: the values found under those keys when a config is loaded, and the secret-named
  variables of the environment and of ``.env`` - so a secret inside a URL, an exception or a
  dumped structure is masked even where its key is not visible.

Where it acts: every log record of the process (``logging.Formatter.format`` is wrapped once,
so freqtrade's, uvicorn's and the suite's handlers all pass through it), the suite's error
messages (``redact_text``), and the files freqtrade writes from the config (its
``sanitize_config``, wrapped by the plugin hooks, which the backtest export's config copy and
``show-config`` use). This module imports nothing of the suite or of freqtrade.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
REDACTED = "REDACTED"
MIN_SECRET_CHARS = 4  # shorter values ("", "0", "yes") would mask ordinary text

# Normalised (lower case, no "_" or "-") names of keys whose values are secrets.
SECRET_KEY_NAMES = frozenset({
    "key", "apikey", "secret", "secretkey", "apisecret", "password", "passphrase", "uid",
    "privatekey", "token", "jwtsecretkey", "wstoken", "walletaddress", "accountid",
    "webhookurl", "twofa", "login", "chatid",
})
# Environment variable names that hold secrets (FREQTRADE__TELEGRAM__TOKEN, CENTAUR_X_API_KEY).
_SECRET_ENV = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|PASSPHRASE|PRIVATE|CHAT_ID|UID|WEBHOOK)")


def is_secret_key(name: str) -> bool:
    return re.sub(r"[_\-]", "", str(name)).lower() in SECRET_KEY_NAMES


def is_secret_env_name(name: str) -> bool:
    return bool(_SECRET_ENV.search(name.upper()))


class Redactor:
    """The process's known secret values, and the masking of text and trees with them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[Any]) -> None:
        fresh = {str(v) for v in values
                 if isinstance(v, str | int) and not isinstance(v, bool)
                 and len(str(v)) >= MIN_SECRET_CHARS}
        with self._lock:
            known = set(self._values) | fresh
            if len(known) == len(self._values):
                return
            self._values = tuple(sorted(known, key=len, reverse=True))  # longest first
            self._pattern = re.compile("|".join(re.escape(v) for v in self._values))

    def add_config(self, config: Mapping[str, Any]) -> None:
        self.add(secret_values(config))

    def add_environment(self, environ: Mapping[str, str]) -> None:
        self.add(value for name, value in environ.items() if is_secret_env_name(name))

    def text(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def tree(self, value: Any) -> Any:
        """A copy with secret keys set to ``REDACTED`` and known values masked in strings."""
        if isinstance(value, Mapping):
            return {k: (REDACTED if is_secret_key(k) and v not in (None, "") else self.tree(v))
                    for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.tree(v) for v in value)
        return self.text(value) if isinstance(value, str) else value

    @property
    def known(self) -> int:
        return len(self._values)


def secret_values(tree: Any) -> list[Any]:
    """Every non-empty value under a secret key, at any depth."""
    found: list[Any] = []
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if is_secret_key(key) and isinstance(value, str | int) and value != "":
                found.append(value)
            else:
                found += secret_values(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            found += secret_values(value)
    return found


REDACTOR = Redactor()


def redact_text(text: str) -> str:
    return REDACTOR.text(text)


def redact_tree(value: Any) -> Any:
    return REDACTOR.tree(value)


_original_format = logging.Formatter.format


def _redacting_format(self: logging.Formatter, record: logging.LogRecord) -> str:
    return REDACTOR.text(_original_format(self, record))


def install_logging() -> None:
    """Mask known secrets in every formatted log line of the process (idempotent)."""
    logging.Formatter.format = _redacting_format  # type: ignore[method-assign]
