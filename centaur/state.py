"""The suite's own persistent state, beside freqtrade's database: atomic, namespaced JSON values.

Trading state, breaker counters, leverage state, tracker statistics, interventions and operator
events survive restarts here. Every write is one SQLite transaction in WAL mode with
``synchronous=FULL``, so a SIGKILL leaves either the old or the new value, never half of one.

Where it lives (``state_path``): next to a SQLite ``db_url`` (``x.sqlite`` -> ``x.centaur.sqlite``),
else under ``user_data/centaur_state``. Backtests and hyperopt use an in-memory store per run,
so a backtest never touches a live bot's state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from freqtrade.enums import RunMode


MEMORY = ":memory:"
_TRADE_MODES = {RunMode.LIVE, RunMode.DRY_RUN, "live", "dry_run"}


def state_path(config: dict[str, Any]) -> str:
    """The store for this freqtrade process: a file for trade modes, memory otherwise."""
    if config.get("runmode") not in _TRADE_MODES:
        return MEMORY
    db_url = str(config.get("db_url", ""))
    if db_url.startswith("sqlite:///") and not db_url.endswith(":memory:"):
        db_file = Path(db_url.removeprefix("sqlite:///"))
        return str(db_file.with_name(f"{db_file.stem}.centaur.sqlite"))
    folder = Path(config.get("user_data_dir", "user_data")) / "centaur_state"
    return str(folder / f"{config.get('bot_name', 'freqtrade')}.sqlite")


class StateStore:
    """Namespaced key -> JSON value. Thread-safe; one transaction per write."""

    def __init__(self, path: str = MEMORY):
        self.path = path
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != MEMORY:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS state (namespace TEXT NOT NULL, key TEXT NOT NULL, "
            "value TEXT NOT NULL, PRIMARY KEY (namespace, key))"
        )

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE namespace=? AND key=?",
                                   (namespace, key)).fetchone()
        return json.loads(row[0]) if row else default

    def items(self, namespace: str) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM state WHERE namespace=? ORDER BY key",
                                    (namespace,)).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def put(self, namespace: str, key: str, value: Any) -> None:
        self.put_many(namespace, {key: value})

    def put_many(self, namespace: str, values: dict[str, Any]) -> None:
        """Write several keys in one transaction: all of them or none."""
        encoded = [(namespace, key, json.dumps(value, default=str)) for key, value in values.items()]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT(namespace, key) DO UPDATE SET value=excluded.value", encoded)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def clear(self, namespace: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM state WHERE namespace=?", (namespace,))

    def delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM state WHERE namespace=? AND key=?", (namespace, key))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Hyperopt pickles the strategy (and this store) into its worker processes: a file store
    # reconnects there; an in-memory store travels with its contents.
    def __getstate__(self) -> dict[str, Any]:
        snapshot = None
        if self.path == MEMORY:
            with self._lock:
                snapshot = self._db.execute("SELECT namespace, key, value FROM state").fetchall()
        return {"path": self.path, "snapshot": snapshot}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])
        if state["snapshot"]:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?)",
                                     state["snapshot"])


_stores: dict[str, StateStore] = {}
_stores_lock = threading.Lock()


def open_state(config: dict[str, Any]) -> StateStore:
    """The process's store for ``config`` (one per file; a fresh one per in-memory request)."""
    path = state_path(config)
    if path == MEMORY:
        return StateStore(MEMORY)
    with _stores_lock:
        if path not in _stores:
            _stores[path] = StateStore(path)
        return _stores[path]
