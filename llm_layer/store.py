"""The record of every model call and every decision: audit log, cache and replay source.

- ``calls``: one row per request sent (or answered from the record): the request, the raw
  response, the parsed answer, latency, tokens, the model and a reason code, keyed by
  ``sha256(model + request)``. Append-only.
- ``decisions``: what the veto or the breaker decided for which candidate, in which run
  (``run_label``) and mode, with the reason code and where the answer came from.
- ``budget``: calls and tokens per UTC day.

One SQLite file (WAL, ``synchronous=FULL``), shared by the prefetch threads behind a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from centaur.settings.llm import BudgetSettings
from centaur.sqlite_tx import transaction
from llm_layer.budget import BudgetUsage, exhausted, utc_day

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, "
    "kind TEXT NOT NULL, model TEXT NOT NULL, request TEXT NOT NULL, raw_response TEXT, "
    "answer TEXT, parsed TEXT, valid INTEGER NOT NULL, reason_code TEXT NOT NULL, detail TEXT, "
    "latency_ms REAL, prompt_tokens INTEGER, completion_tokens INTEGER, served_by TEXT, "
    "recorded_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS calls_key ON calls (key, valid, id)",
    "CREATE TABLE IF NOT EXISTS decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "run_label TEXT NOT NULL, kind TEXT NOT NULL, mode TEXT NOT NULL, pair TEXT, side TEXT, "
    "decided_at TEXT, key TEXT, allowed INTEGER, reason_code TEXT NOT NULL, scale REAL, "
    "origin TEXT NOT NULL, latency_ms REAL, detail TEXT, recorded_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS decisions_run ON decisions (run_label, kind)",
    "CREATE TABLE IF NOT EXISTS budget (day TEXT PRIMARY KEY, calls INTEGER NOT NULL, "
    "tokens INTEGER NOT NULL)",
)


@dataclass(frozen=True)
class CallRecord:
    key: str
    kind: str  # "veto" | "breaker"
    model: str
    request: str  # LlmRequest.canonical()
    raw_response: str | None
    answer: str | None  # the message content
    parsed: dict[str, Any] | None  # the validated answer, None when invalid or failed
    reason_code: str
    detail: str = ""
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    served_by: str = ""

    @property
    def valid(self) -> bool:
        return self.parsed is not None


@dataclass(frozen=True)
class DecisionRecord:
    run_label: str
    kind: str
    mode: str
    pair: str | None
    side: str | None
    decided_at: datetime | None
    key: str | None
    allowed: bool | None
    reason_code: str
    scale: float | None
    origin: str  # "call" | "cache" | "replay" | "policy" | "prefetch"
    latency_ms: float | None = None
    detail: str = ""


class DecisionStore:
    def __init__(self, path: str | Path, clock: Callable[[], datetime]):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        for statement in _SCHEMA:
            self._db.execute(statement)

    # --- calls: audit log and cache -----------------------------------------------------

    def record_call(self, call: CallRecord) -> None:
        row = (call.key, call.kind, call.model, call.request, call.raw_response, call.answer,
               json.dumps(call.parsed) if call.parsed is not None else None, int(call.valid),
               call.reason_code, call.detail, call.latency_ms, call.prompt_tokens,
               call.completion_tokens, call.served_by, self._clock().isoformat())
        with self._lock:
            self._db.execute(
                "INSERT INTO calls (key, kind, model, request, raw_response, answer, parsed, "
                "valid, reason_code, detail, latency_ms, prompt_tokens, completion_tokens, "
                "served_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def recorded(self, key: str, valid_only: bool) -> CallRecord | None:
        """The best record of ``key``: the latest valid answer, else the latest failure."""
        where = "key=? AND valid=1" if valid_only else "key=?"
        with self._lock:
            row = self._db.execute(
                "SELECT key, kind, model, request, raw_response, answer, parsed, reason_code, "
                "detail, latency_ms, prompt_tokens, completion_tokens, served_by FROM calls "
                f"WHERE {where} ORDER BY valid DESC, id DESC LIMIT 1", (key,)).fetchone()
        if row is None:
            return None
        return CallRecord(*row[:6], json.loads(row[6]) if row[6] else None, *row[7:])

    def calls(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM calls" + (" WHERE kind=?" if kind else "") + " ORDER BY id"
        return self._rows(query, (kind,) if kind else ())

    # --- decisions ------------------------------------------------------------------------

    def record_decisions(self, decisions: list[DecisionRecord]) -> None:
        """Write decisions in one transaction (a backtest writes a pair's at once)."""
        rows = [(d.run_label, d.kind, d.mode, d.pair, d.side,
                 d.decided_at.isoformat() if d.decided_at else None, d.key,
                 None if d.allowed is None else int(d.allowed), d.reason_code, d.scale, d.origin,
                 d.latency_ms, d.detail[:500], self._clock().isoformat()) for d in decisions]
        with transaction(self._db, self._lock):
            self._db.executemany(
                "INSERT INTO decisions (run_label, kind, mode, pair, side, decided_at, key, "
                "allowed, reason_code, scale, origin, latency_ms, detail, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def decisions(self, run_label: str, kind: str = "veto") -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM decisions WHERE run_label=? AND kind=? ORDER BY id",
                          (run_label, kind))

    # --- budget ---------------------------------------------------------------------------

    def reserve_call(self, now: datetime, limits: BudgetSettings) -> str | None:
        """Count one call against today's budget; the reason instead if it is spent."""
        day = utc_day(now)
        with transaction(self._db, self._lock):
            usage = self._usage(day)
            reason = exhausted(usage, limits)
            if reason is None:
                self._db.execute(
                    "INSERT INTO budget (day, calls, tokens) VALUES (?, 1, 0) ON CONFLICT(day) "
                    "DO UPDATE SET calls = calls + 1", (day,))
        return reason

    def add_tokens(self, now: datetime, tokens: int) -> None:
        with self._lock:
            self._db.execute("INSERT INTO budget (day, calls, tokens) VALUES (?, 0, ?) "
                             "ON CONFLICT(day) DO UPDATE SET tokens = tokens + excluded.tokens",
                             (utc_day(now), tokens))

    def usage(self, now: datetime) -> BudgetUsage:
        with self._lock:
            return self._usage(utc_day(now))

    def _usage(self, day: str) -> BudgetUsage:
        row = self._db.execute("SELECT calls, tokens FROM budget WHERE day=?", (day,)).fetchone()
        return BudgetUsage(*row) if row else BudgetUsage()

    def _rows(self, query: str, params: tuple) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(query, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()
