"""The one SQLite transaction helper: ``with transaction(db, lock):`` runs the block in
``BEGIN IMMEDIATE`` ... ``COMMIT`` (all of it or none: any exception rolls back and is
re-raised), holding the store's lock. Connections are opened in autocommit mode
(``isolation_level=None``), so this is the only place a transaction starts or ends."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.RLock | None = None
                ) -> Iterator[sqlite3.Connection]:
    with lock if lock is not None else nullcontext():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
