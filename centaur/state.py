"""The suite's own persistent state, beside freqtrade's database: atomic, checked JSON values.

Trading state, breaker counters, leverage state, tracker statistics, interventions and operator
events survive restarts here. Every write is one SQLite transaction in WAL mode with
``synchronous=FULL``, so a SIGKILL leaves either the old or the new value, never half of one.
Each row keeps a SHA-256 checksum of its value and the previous good value beside it; the
file carries a schema version and is migrated forward on open (``MIGRATIONS``).

The store never decides that a lost file is harmless: it reports how it found the file
(``StoreHealth``: ok, new, empty, corrupt - an unreadable file is moved aside, never
overwritten) and raises ``StateCorrupt`` on a value whose checksum or JSON is bad. The risk
layer turns those into a halt (``STATE_LOST`` / ``STATE_CORRUPT``). ``backup()`` writes a
consistent copy to ``<file>.bak`` once the state has been checked at start-up.

Where it lives (``state_path``): the database ``centaur.state_url`` names, else next to a
SQLite ``db_url`` (``x.sqlite`` -> ``x.centaur.sqlite``), else in freqtrade's own PostgreSQL
database when ``db_url`` is one (tables ``centaur_state*`` beside freqtrade's, served by
``centaur.state_sql`` with the same guarantees), else under ``user_data/centaur_state``.
Backtests and hyperopt use an in-memory store per run, so a backtest never touches a live
bot's state.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from centaur.modes import is_trading
from centaur.settings import settings_from
from centaur.sqlite_tx import transaction

MEMORY = ":memory:"
SQLITE_URL = "sqlite:///"


def is_postgresql_url(url: str) -> bool:
    """A SQLAlchemy URL of PostgreSQL, with or without a driver (``postgresql+pg8000://``)."""
    return urlsplit(url).scheme.partition("+")[0] == "postgresql"


def state_path(config: dict[str, Any]) -> str:
    """The store for this freqtrade process: memory outside trade modes; else a SQLite file
    or a PostgreSQL URL (``is_url``)."""
    if not is_trading(config):
        return MEMORY
    explicit = settings_from(config).state_url
    if explicit:
        return explicit.removeprefix(SQLITE_URL) if explicit.startswith(SQLITE_URL) else explicit
    db_url = str(config.get("db_url", ""))
    if is_postgresql_url(db_url):
        return db_url
    if db_url.startswith(SQLITE_URL) and not db_url.endswith(":memory:"):
        db_file = Path(db_url.removeprefix(SQLITE_URL))
        return str(db_file.with_name(f"{db_file.stem}.centaur.sqlite"))
    folder = Path(config.get("user_data_dir", "user_data")) / "centaur_state"
    return str(folder / f"{config.get('bot_name', 'freqtrade')}.sqlite")


class StoreHealth(StrEnum):
    """How the file (or the tables, ``centaur.state_sql``) was found when opened."""

    OK = "ok"  # an existing store of a known schema
    NEW = "new"  # no file: created now
    EMPTY = "empty"  # a zero-length file (truncated): started anew
    CORRUPT = "corrupt"  # not a database / bad schema: moved aside, started anew


class StateCorrupt(Exception):
    """A stored value failed its checksum or is not JSON; the message names the file (or the
    database and table)."""


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def encode_rows(namespace: str, values: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(namespace, key, JSON text, its checksum) per value; raises before anything is written
    when a value cannot be stored (NaN, infinity)."""
    rows = []
    for key, value in values.items():
        text = json.dumps(value, default=str, allow_nan=False)
        rows.append((namespace, key, text, _checksum(text)))
    return rows


SCHEMA_VERSION = 2


def _migrate_to_2(db: sqlite3.Connection) -> None:
    """v1 (value only) -> v2: a checksum and the previous good value per row."""
    for column in ("checksum", "previous_value", "previous_checksum"):
        db.execute(f"ALTER TABLE state ADD COLUMN {column} TEXT")
    for namespace, key, value in db.execute("SELECT namespace, key, value FROM state").fetchall():
        db.execute("UPDATE state SET checksum=? WHERE namespace=? AND key=?",
                   (_checksum(value), namespace, key))


# schema version reached -> the step that reaches it from the version before.
MIGRATIONS = {2: _migrate_to_2}

_CREATE = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (namespace TEXT NOT NULL, key TEXT NOT NULL, "
    "value TEXT NOT NULL, checksum TEXT, previous_value TEXT, previous_checksum TEXT, "
    "PRIMARY KEY (namespace, key))",
)


class StateStore:
    """Namespaced key -> JSON value. Thread-safe; one transaction per write."""

    def __init__(self, path: str = MEMORY):
        self.path = path
        self.health = StoreHealth.NEW
        self.moved_aside: str | None = None
        self._lock = threading.Lock()
        if path != MEMORY:
            self.health = self._inspect(Path(path))
        self._db = self._connect()

    def _inspect(self, file: Path) -> StoreHealth:
        file.parent.mkdir(parents=True, exist_ok=True)
        if not file.exists():
            return StoreHealth.NEW
        if file.stat().st_size == 0:
            return StoreHealth.EMPTY
        try:
            with closing(sqlite3.connect(file)) as probe:
                version = _schema_version(probe)
                if version > SCHEMA_VERSION:
                    raise sqlite3.DatabaseError(f"schema version {version} is newer than this "
                                                f"suite's {SCHEMA_VERSION}")
                probe.execute("SELECT namespace, key, value FROM state LIMIT 1").fetchall()
            return StoreHealth.OK
        except sqlite3.DatabaseError as err:
            aside = file.with_name(f"{file.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{file}{suffix}")
                if part.exists():
                    part.rename(f"{aside}{suffix}")
            self.moved_aside = f"{aside} ({err})"
            return StoreHealth.CORRUPT

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != MEMORY:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        version = _schema_version(db)
        with transaction(db):
            for statement in _CREATE if version == 0 else _CREATE[:1]:
                db.execute(statement)
            for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                if version:
                    MIGRATIONS[target](db)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                       (SCHEMA_VERSION,))
        return db

    def _restore_fix(self) -> str:
        return (f"Fix: stop the bot, then restore {self.path}.bak over it or move it aside "
                "(the bot then starts HALTED, STATE_LOST, until /state_reset)")

    def _decode(self, namespace: str, key: str, value: str, checksum: str | None) -> Any:
        fix = self._restore_fix()
        if checksum != _checksum(value):
            raise StateCorrupt(f"{self.path}: {namespace}/{key} fails its checksum. {fix}")
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise StateCorrupt(f"{self.path}: {namespace}/{key} is not JSON ({err}). {fix}"
                               ) from err

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value, checksum FROM state WHERE namespace=? AND key=?",
                                   (namespace, key)).fetchone()
        return self._decode(namespace, key, *row) if row else default

    def items(self, namespace: str) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value, checksum FROM state WHERE namespace=? "
                                    "ORDER BY key", (namespace,)).fetchall()
        return {key: self._decode(namespace, key, value, checksum)
                for key, value, checksum in rows}

    def is_empty(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM state").fetchone()[0] == 0

    def put(self, namespace: str, key: str, value: Any) -> None:
        self.put_many(namespace, {key: value})

    def put_many(self, namespace: str, values: dict[str, Any]) -> None:
        """Write several keys in one transaction: all of them or none; the old values stay
        beside the new ones as the previous good copy."""
        encoded = encode_rows(namespace, values)
        with transaction(self._db, self._lock):
            self._db.executemany(
                "INSERT INTO state (namespace, key, value, checksum) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(namespace, key) DO UPDATE SET previous_value=state.value, "
                "previous_checksum=state.checksum, value=excluded.value, "
                "checksum=excluded.checksum", encoded)

    def clear(self, namespace: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM state WHERE namespace=?", (namespace,))

    def delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM state WHERE namespace=? AND key=?", (namespace, key))

    def backup(self) -> str | None:
        """A consistent copy at ``<file>.bak`` (the last state checked good); None in memory."""
        if self.path == MEMORY:
            return None
        target = f"{self.path}.bak"
        with self._lock, closing(sqlite3.connect(target)) as copy:
            self._db.backup(copy)
        return target

    def backup_path(self) -> str | None:
        """The backup ``backup()`` wrote, if there is one."""
        target = f"{self.path}.bak"
        return target if self.path != MEMORY and Path(target).is_file() else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Hyperopt pickles the strategy (and this store) into its worker processes: a file store
    # reconnects there; an in-memory store travels with its contents.
    def __getstate__(self) -> dict[str, Any]:
        snapshot = None
        if self.path == MEMORY:
            with self._lock:
                snapshot = self._db.execute("SELECT namespace, key, value, checksum FROM state"
                                            ).fetchall()
        return {"path": self.path, "snapshot": snapshot}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])
        if state["snapshot"]:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO state (namespace, key, value, "
                                     "checksum) VALUES (?, ?, ?, ?)", state["snapshot"])


def _schema_version(db: sqlite3.Connection) -> int:
    """0: an empty database; 1: the first layout (no meta table); else the stored version."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 1
    return 1 if "state" in tables else 0


_stores: dict[str, StateStore] = {}
_stores_lock = threading.Lock()


def is_url(path: str) -> bool:
    """A database URL (``centaur.state_sql``), not a SQLite file or ``MEMORY``."""
    return "://" in path


def open_state(config: dict[str, Any]) -> StateStore:
    """The process's store for ``config`` (one per file or URL; a fresh one per in-memory
    request)."""
    path = state_path(config)
    if path == MEMORY:
        return StateStore(MEMORY)
    with _stores_lock:
        if path not in _stores:
            _stores[path] = _open_url(path) if is_url(path) else StateStore(path)
        return _stores[path]


def _open_url(url: str) -> StateStore:
    from centaur.state_sql import SqlStateStore  # a StateStore subclass: imported here

    return SqlStateStore(url)
