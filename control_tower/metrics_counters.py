"""Counters the metrics endpoint keeps itself: what happened since the bot started.

Fed by the suite's events (a listener on ``EventSink``), by fills (``on_fill``) and, at each
bot loop, by two readers of append-only records: the exchange failures in ``HEALTH`` and the
LLM calls in the decision store. Each counts an item once: a reader remembers the last item it
has seen, never a wall-clock time.

- ``centaur_events_total{code,severity}``: every operator event;
- ``centaur_drift_blocks_total{pair}``: DRIFT_BLOCK events (a drift gate closing);
- ``centaur_signal_retirements_total{signal}``: SIGNAL_RETIRED events;
- ``centaur_order_fills_total{pair,side}``, ``centaur_order_filled_notional_usd_total{pair}``;
- ``centaur_exchange_errors_total{request}``: failed order-path requests (place, cancel,
  query, book) by freqtrade's exchange method;
- ``centaur_llm_calls_total{kind,reason}`` and ``centaur_llm_call_latency_seconds{kind}``:
  each model call of the veto and the breaker, by reason code, and its latency.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from centaur.decision import ReasonCode
from centaur.events import OperatorEvent

LLM_LATENCY_BUCKETS_SECS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


class EventCounters:
    """An ``EventSink`` listener: events by code and severity, drift blocks, retirements."""

    def __init__(self, registry: CollectorRegistry):
        self.events = Counter("centaur_events", "Operator events by reason code and severity",
                              ["code", "severity"], registry=registry)
        self.drift_blocks = Counter("centaur_drift_blocks", "Drift gate closings (DRIFT_BLOCK)",
                                    ["pair"], registry=registry)
        self.retirements = Counter("centaur_signal_retirements",
                                   "Signals retired by the decay tracker", ["signal"],
                                   registry=registry)

    def __call__(self, event: OperatorEvent) -> None:
        self.events.labels(str(event.code), str(event.severity)).inc()
        if event.code is ReasonCode.DRIFT_BLOCK:
            self.drift_blocks.labels(event.pair or "*").inc()
        elif event.code is ReasonCode.SIGNAL_RETIRED:
            self.retirements.labels(str(event.data.get("signal", "?"))).inc()


class FillCounters:
    """Order fills by pair and side, and their filled notional."""

    def __init__(self, registry: CollectorRegistry):
        self.fills = Counter("centaur_order_fills", "Filled orders by pair and side",
                             ["pair", "side"], registry=registry)
        self.notional = Counter("centaur_order_filled_notional_usd",
                                "Filled notional (amount x average price, stake currency)",
                                ["pair"], registry=registry)

    def on_fill(self, trade: Any, order: Any) -> None:
        self.fills.labels(trade.pair, str(order.ft_order_side)).inc()
        filled = float(order.safe_filled or 0.0) * float(order.safe_price or 0.0)
        if filled > 0:
            self.notional.labels(trade.pair).inc(filled)


class ExchangeErrorCounter:
    """New entries of ``HEALTH.recent`` (``(time, "method: error")``) counted by method."""

    def __init__(self, registry: CollectorRegistry):
        self.errors = Counter("centaur_exchange_errors",
                              "Failed exchange requests on the order path, by method",
                              ["request"], registry=registry)
        self._last: tuple[datetime, str] | None = None

    def skip(self, recent: Sequence[tuple[datetime, str]]) -> None:
        """Start after what is already recorded (errors before this process's metrics)."""
        self._last = recent[-1] if recent else None

    def poll(self, recent: Sequence[tuple[datetime, str]]) -> int:
        """Count the entries after the last one seen (all of them if it rotated out)."""
        start = 0
        for index in range(len(recent) - 1, -1, -1):
            if recent[index] is self._last:
                start = index + 1
                break
        new = recent[start:]
        for _, what in new:
            self.errors.labels(what.split(":", 1)[0]).inc()
        if recent:
            self._last = recent[-1]
        return len(new)


class LlmCallCounters:
    """The decision store's ``calls`` rows after the last id seen, read-only."""

    def __init__(self, registry: CollectorRegistry, store_path: Path):
        self.calls = Counter("centaur_llm_calls", "LLM calls by kind and reason code",
                             ["kind", "reason"], registry=registry)
        self.latency = Histogram("centaur_llm_call_latency_seconds",
                                 "Latency of LLM calls (veto, breaker)", ["kind"],
                                 buckets=LLM_LATENCY_BUCKETS_SECS, registry=registry)
        self._path = store_path
        self._last_id: int | None = None

    def _rows(self, after_id: int) -> list[tuple[int, str, str, float | None]]:
        if not self._path.exists():
            return []
        with closing(sqlite3.connect(f"file:{self._path}?mode=ro", uri=True)) as db:
            try:
                return db.execute("SELECT id, kind, reason_code, latency_ms FROM calls "
                                  "WHERE id > ? ORDER BY id", (after_id,)).fetchall()
            except sqlite3.OperationalError:  # the store has not created its tables yet
                return []

    def skip(self) -> None:
        """Start after the calls already recorded (earlier runs and backtests)."""
        rows = self._rows(0)
        self._last_id = rows[-1][0] if rows else 0

    def poll(self) -> int:
        rows = self._rows(self._last_id or 0)
        for row_id, kind, reason, latency_ms in rows:
            self.calls.labels(kind, reason).inc()
            if latency_ms is not None:
                self.latency.labels(kind).observe(latency_ms / 1000.0)
            self._last_id = row_id
        return len(rows)
