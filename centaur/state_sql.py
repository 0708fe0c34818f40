"""The state store in PostgreSQL, with the SQLite store's guarantees (``centaur.state``).

Used when ``centaur.state_url`` names a PostgreSQL database, or when freqtrade's ``db_url`` is
one: the suite's state then lives in that database beside freqtrade's tables, in its own
tables - ``centaur_state`` (per row: the JSON value, its SHA-256 checksum and the previous good
value and checksum), ``centaur_state_meta`` (schema version, time of the last backup) and
``centaur_state_backup``. Every write is one transaction; a value whose checksum or JSON is bad
raises ``StateCorrupt`` naming the database, the table and namespace/key.

Health when opened: NEW when the tables did not exist (created now), OK when they did; tables
of a newer schema or another layout are moved aside into a schema ``centaur_state_corrupt_<UTC
time>`` (never dropped) and reported CORRUPT, as the SQLite store moves a bad file aside.
``backup()`` copies the rows into ``centaur_state_backup`` in one transaction (the last state
checked good); to restore it, with the bot stopped: ``BEGIN; DELETE FROM centaur_state; INSERT
INTO centaur_state SELECT * FROM centaur_state_backup; COMMIT;``.

The URL's password is never shown (``path`` renders it as ``***``) and joins the process's
redacted secrets. Pickled (hyperopt's workers), a store reconnects to the same URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import DBAPIError

from centaur.redaction import REDACTOR
from centaur.state import StateStore, StoreHealth, encode_rows

METADATA = MetaData()


def _rows_table(name: str) -> Table:
    return Table(name, METADATA,
                 Column("namespace", Text, primary_key=True),
                 Column("key", Text, primary_key=True),
                 Column("value", Text, nullable=False),
                 Column("checksum", Text), Column("previous_value", Text),
                 Column("previous_checksum", Text))


STATE = _rows_table("centaur_state")
BACKUP = _rows_table("centaur_state_backup")
META = Table("centaur_state_meta", METADATA, Column("key", Text, primary_key=True),
             Column("value", Text, nullable=False))

SCHEMA_VERSION = 1
# schema version reached -> the step that reaches it from the version before (none yet).
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}
# One process at a time creates, migrates or moves aside the tables (an advisory lock's id).
_SETUP_LOCK_ID = 0x63656E7461757201


class SqlStateStore(StateStore):
    """Namespaced key -> JSON value in PostgreSQL tables; one transaction per write."""

    def __init__(self, url: str):  # the base's file and lock are not used: no super()
        self._url = url
        parsed = make_url(url)
        REDACTOR.add([parsed.password])
        shown = parsed.render_as_string(hide_password=True)
        self.path = f"{shown} table {STATE.name}"
        self._backup_location = f"{shown} table {BACKUP.name}"
        self.moved_aside: str | None = None
        self._engine = create_engine(url, pool_pre_ping=True)
        with self._engine.begin() as db:
            self.health = self._prepare(db)

    def _prepare(self, db: Connection) -> StoreHealth:
        db.execute(select(func.pg_advisory_xact_lock(_SETUP_LOCK_ID)))
        found = inspect(db).has_table(STATE.name)
        problem = _problem(db) if found else None
        if problem is not None:
            self.moved_aside = _move_aside(db, problem)
        version = _schema_version(db) if found and problem is None else 0
        METADATA.create_all(db)
        for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
            if version:
                MIGRATIONS[target](db)
        _set_meta(db, "schema_version", str(SCHEMA_VERSION))
        if problem is not None:
            return StoreHealth.CORRUPT
        return StoreHealth.OK if found else StoreHealth.NEW

    def _restore_fix(self) -> str:
        return (f"Fix: stop the bot, then copy the rows of {BACKUP.name} back into "
                f"{STATE.name}, or delete the bad row (the bot then starts HALTED, STATE_LOST, "
                "until /state_reset)")

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        query = select(STATE.c.value, STATE.c.checksum).where(
            STATE.c.namespace == namespace, STATE.c.key == key)
        with self._engine.connect() as db:
            row = db.execute(query).first()
        return self._decode(namespace, key, *row) if row else default

    def items(self, namespace: str) -> dict[str, Any]:
        query = select(STATE.c.key, STATE.c.value, STATE.c.checksum).where(
            STATE.c.namespace == namespace).order_by(STATE.c.key)
        with self._engine.connect() as db:
            rows = db.execute(query).all()
        return {key: self._decode(namespace, key, value, checksum)
                for key, value, checksum in rows}

    def is_empty(self) -> bool:
        with self._engine.connect() as db:
            return db.execute(select(func.count()).select_from(STATE)).scalar_one() == 0

    def put_many(self, namespace: str, values: dict[str, Any]) -> None:
        rows = [dict(zip(("namespace", "key", "value", "checksum"), row, strict=True))
                for row in encode_rows(namespace, values)]
        if not rows:
            return
        statement = upsert(STATE)
        statement = statement.on_conflict_do_update(
            index_elements=[STATE.c.namespace, STATE.c.key],
            set_={"previous_value": STATE.c.value, "previous_checksum": STATE.c.checksum,
                  "value": statement.excluded.value, "checksum": statement.excluded.checksum})
        with self._engine.begin() as db:
            db.execute(statement, rows)

    def clear(self, namespace: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(STATE).where(STATE.c.namespace == namespace))

    def delete(self, namespace: str, key: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(STATE).where(STATE.c.namespace == namespace, STATE.c.key == key))

    def backup(self) -> str | None:
        """The rows copied into ``centaur_state_backup`` (the last state checked good)."""
        with self._engine.begin() as db:
            db.execute(delete(BACKUP))
            db.execute(insert(BACKUP).from_select(list(STATE.c.keys()), select(STATE)))
            _set_meta(db, "backup_at", datetime.now(UTC).isoformat())
        return self._backup_location

    def backup_path(self) -> str | None:
        with self._engine.connect() as db:
            taken = db.execute(select(META.c.value).where(META.c.key == "backup_at")).first()
        return self._backup_location if taken else None

    def close(self) -> None:
        self._engine.dispose()

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self._url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])


def _set_meta(db: Connection, key: str, value: str) -> None:
    statement = upsert(META).values(key=key, value=value)
    db.execute(statement.on_conflict_do_update(index_elements=[META.c.key],
                                               set_={"value": statement.excluded.value}))


def _schema_version(db: Connection) -> int:
    """0: no meta table (new tables, or ones of unknown origin); else the stored version."""
    if not inspect(db).has_table(META.name):
        return 0
    row = db.execute(select(META.c.value).where(META.c.key == "schema_version")).first()
    return int(row[0]) if row else 1


def _problem(db: Connection) -> str | None:
    """Why the existing tables cannot be used as they are, or None."""
    version = _schema_version(db)
    if version > SCHEMA_VERSION:
        return f"schema version {version} is newer than this suite's {SCHEMA_VERSION}"
    try:
        with db.begin_nested():  # a failed probe must not abort the set-up transaction
            db.execute(select(*STATE.c).limit(1)).all()
    except DBAPIError as err:
        return f"{STATE.name} is not the state store's table ({err.orig})"
    return None


def _move_aside(db: Connection, problem: str) -> str:
    """The store's tables moved into a new schema (their indexes go with them)."""
    aside = f"{STATE.name}_corrupt_{datetime.now(UTC):%Y%m%dT%H%M%S}"
    db.execute(text(f'CREATE SCHEMA "{aside}"'))
    for table in METADATA.sorted_tables:
        if inspect(db).has_table(table.name):
            db.execute(text(f'ALTER TABLE "{table.name}" SET SCHEMA "{aside}"'))
    return f"schema {aside} ({problem})"


class ReadOnlySqlState:
    """A running bot's PostgreSQL state read by another process (the weekly report):
    ``items(namespace)`` in a read-only transaction. It never creates, migrates or moves
    tables aside, as ``SqlStateStore`` does when opened; before the bot has written the tables
    every namespace reads empty. The URL's password is redacted as the store's is."""

    def __init__(self, url: str):
        REDACTOR.add([make_url(url).password])
        self._url = url

    def items(self, namespace: str) -> dict[str, Any]:
        engine = create_engine(self._url)
        try:
            with engine.connect() as db:
                db.execute(text("SET TRANSACTION READ ONLY"))
                if not inspect(db).has_table(STATE.name):
                    return {}
                rows = db.execute(select(STATE.c.key, STATE.c.value).where(
                    STATE.c.namespace == namespace).order_by(STATE.c.key)).all()
        finally:
            engine.dispose()
        return {key: json.loads(value) for key, value in rows}
