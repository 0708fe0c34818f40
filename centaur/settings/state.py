"""``centaur.state_url``: where a trading bot keeps the suite's state store when it is set.

Unset (the default), the store follows freqtrade's ``db_url`` (``centaur.state.state_path``).
Set, it is a SQLAlchemy URL: ``postgresql[+driver]://user:password@host:port/database`` (the
tables ``centaur_state*`` in that database, ``centaur.state_sql``) or ``sqlite:///<file>`` (the
SQLite store in that file). Its password joins the process's redacted secrets when parsed.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from centaur.redaction import REDACTOR

# The URL's dialect (the scheme before any "+driver") -> the store that serves it.
STATE_URL_DIALECTS = {"postgresql": "PostgreSQL tables", "sqlite": "a SQLite file"}
EXAMPLE = "postgresql+pg8000://user:password@host:5432/database or sqlite:///path/state.sqlite"


def _checked_state_url(url: str) -> str:
    parts = urlsplit(url)
    REDACTOR.add([parts.password])  # before any error can echo the URL
    dialect = parts.scheme.partition("+")[0]
    if dialect not in STATE_URL_DIALECTS:
        raise ValueError(f"unknown URL scheme {parts.scheme!r} (known: "
                         f"{', '.join(STATE_URL_DIALECTS)}); use {EXAMPLE}")
    if dialect == "sqlite" and (not url.startswith("sqlite:///") or url.endswith(
            (":memory:", "sqlite:///"))):
        raise ValueError(f"a sqlite state_url names a file; use {EXAMPLE}")
    return url


StateUrl = Annotated[str, AfterValidator(_checked_state_url)]
