"""The tracker's shell: outcomes offered pair by pair, applied in one global order, the state
as of any candle, persistence through the suite's state store, and operator events.

Why a ledger: freqtrade analyses a pair's whole dataframe at once in backtests (all pairs'
indicators first, then every pair's entries) but one new candle per pair at a time live. Both
paths go through the same three calls - ``offer`` (a pair's scored calls, from
``populate_indicators``), ``flush(through)`` (apply every offered outcome known at or before
``through``, from ``populate_entry_trend``) and ``state_at`` (the tracker as of each candle) -
and the outcomes are applied in the order (known_at, pair, signal, call time) whichever pair
triggered the flush. A candle's decision uses the outcomes known at or before its open, which
live were all offered during the previous candle's analysis, so each candle sees the same
state live and in a backtest. Outcomes that arrive late (a restart after downtime) are applied
at the next flush rather than dropped; the state's time never goes backwards.

Persisted under ``ensemble/tracker``: the records, each pair's watermark (the last outcome
time applied) and the flush time, in one transaction. Backtests and hyperopt start every
analysis run from the state loaded at start-up (``restart_run``), in memory.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings.ensemble import TrackerSettings
from centaur.signal_stats import SignalStats
from centaur.state import StateStore
from strategies.signal_outcomes import FIELDS, Outcomes
from strategies.signal_tracker import (
    STATUS_CODES,
    SignalTracker,
    Status,
    Transition,
    pooled_stats,
    quantile_z,
    weight_for,
    wilson_bounds,
)

logger = logging.getLogger(__name__)

NAMESPACE, KEY = "ensemble", "tracker"
_NEVER = np.iinfo(np.int64).min
_HITS, _CALLS, _WINS, _LOSSES, _STATUS = range(5)
_LIVE_CODE = STATUS_CODES[Status.LIVE]
_RETIRED_CODE = STATUS_CODES[Status.RETIRED]


class TrackerLedger:
    """Outcomes in (per pair, any order of pairs), tracker state per candle out."""

    def __init__(self, names: tuple[str, ...], settings: TrackerSettings,
                 store: StateStore | None = None, sink: EventSink | None = None,
                 keep_groups: int | None = None):
        self.names = names
        self.settings = settings
        self._store, self._sink, self._keep = store, sink, keep_groups
        self._saved: dict[str, Any] = (store.get(NAMESPACE, KEY) if store else None) or {}
        self.restart_run()

    def restart_run(self) -> None:
        """Back to the state loaded at start-up: a backtest or hyperopt analysis starts."""
        self.tracker = SignalTracker.from_json(self.names, self.settings,
                                               self._saved.get("signals"))
        self._watermarks: dict[str, int] = dict(self._saved.get("watermarks_ns", {}))
        self._through_ns = int(self._saved.get("through_ns", _NEVER))
        self._pending: dict[str, Outcomes] = {}
        self._initial = self._vector()
        self._times = np.empty(0, dtype=np.int64)
        self._table = np.empty((0, 5, len(self.names)), dtype=np.int64)

    # --- in ----------------------------------------------------------------------------------

    def offer(self, pair: str, outcomes: Outcomes) -> None:
        """The pair's scored calls so far; those already applied are ignored."""
        self._pending[pair] = outcomes.where(
            outcomes.known_at_ns > self._watermarks.get(pair, _NEVER))

    def flush(self, through_ns: int) -> list[Transition]:
        """Apply every pending outcome known at or before ``through_ns``, in the global order."""
        pairs = sorted(self._pending)
        due = [self._pending[p].where(self._pending[p].known_at_ns <= through_ns)
               for p in pairs]
        transitions = self._apply(due) if any(len(d) for d in due) else []
        for pair, applied in zip(pairs, due, strict=True):
            if len(applied):
                self._watermarks[pair] = max(self._watermarks.get(pair, _NEVER),
                                             int(applied.known_at_ns.max()))
                rest = self._pending[pair]
                self._pending[pair] = rest.where(rest.known_at_ns > through_ns)
        changed = bool(transitions) or any(len(d) for d in due)
        self._through_ns = max(self._through_ns, int(through_ns))
        if changed:
            self._persist()
            self._announce(transitions)
        return transitions

    def _apply(self, due: list[Outcomes]) -> list[Transition]:
        pair_index = np.concatenate([np.full(len(d), i) for i, d in enumerate(due)])
        merged = Outcomes(*(np.concatenate([getattr(d, f) for d in due]) for f in FIELDS))
        order = np.lexsort((merged.call_at_ns, merged.signal, pair_index, merged.known_at_ns))
        effective = np.maximum(merged.known_at_ns[order], self._through_ns)
        signals, outcomes = merged.signal[order], merged.outcome_ppm[order]
        clusters = merged.cluster[order]
        vector, times, rows, transitions = self._latest(), [], [], []
        for at_ns, index, outcome, cluster in zip(effective.tolist(), signals.tolist(),
                                                  outcomes.tolist(), clusters.tolist(),
                                                  strict=True):
            if times and times[-1] != at_ns:
                rows.append(vector.copy())
            if not times or times[-1] != at_ns:
                times.append(at_ns)
            name = self.names[index]
            transition = self.tracker.score(name, outcome, cluster, at_ns)
            if transition is not None:
                transitions.append(transition)
            vector[:, index] = self._column(name)
        rows.append(vector.copy())
        self._extend(np.asarray(times, dtype=np.int64), np.stack(rows))
        return transitions

    # --- state ---------------------------------------------------------------------------------

    def _column(self, name: str) -> tuple[int, int, int, int, int]:
        record = self.tracker.records[name]
        return (record.hits, record.calls, record.win_sum_ppm, record.loss_sum_ppm,
                STATUS_CODES[record.status])

    def _vector(self) -> np.ndarray:
        return np.array([self._column(n) for n in self.names], dtype=np.int64).T.reshape(
            5, len(self.names))

    def _latest(self) -> np.ndarray:
        return (self._table[-1] if len(self._table) else self._initial).copy()

    def _extend(self, times: np.ndarray, rows: np.ndarray) -> None:
        self._times = np.concatenate((self._times, times))
        self._table = np.concatenate((self._table, rows))
        if self._keep and len(self._times) > 2 * self._keep:
            self._initial = self._table[-self._keep - 1]
            self._times, self._table = self._times[-self._keep:], self._table[-self._keep:]

    def _rows_at(self, at_ns: np.ndarray) -> np.ndarray:
        """The state vectors as of each time (outcomes known at or before it)."""
        index = np.searchsorted(self._times, at_ns, side="right") - 1
        table = np.concatenate((self._initial[None], self._table))
        return table[index + 1]

    def state_at(self, at_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weight, status code) per time (rows) and signal (columns)."""
        rows = self._rows_at(np.asarray(at_ns, dtype=np.int64))
        calls = rows[:, _CALLS]
        accuracy = np.divide(rows[:, _HITS], calls, out=np.zeros(calls.shape), where=calls > 0)
        status = rows[:, _STATUS]
        return weight_for(accuracy, status == _LIVE_CODE), status

    def stats_at(self, names: tuple[str, ...], at_ns: int) -> SignalStats | None:
        """Win rate and payoff of the named signals' scored calls, pooled, as of ``at_ns``."""
        columns = [self.names.index(n) for n in names if n in self.names]
        if not columns:
            return None
        row = self._rows_at(np.array([at_ns], dtype=np.int64))[0][:, columns].sum(axis=1)
        return pooled_stats(int(row[_HITS]), int(row[_CALLS]), int(row[_WINS]),
                            int(row[_LOSSES]))

    def retired_at(self, at_ns: np.ndarray) -> np.ndarray:
        return self._rows_at(np.asarray(at_ns, dtype=np.int64))[:, _STATUS] == _RETIRED_CODE

    def snapshot(self) -> dict[str, Any]:
        """The persisted form: records, watermarks, flush time."""
        return {"signals": self.tracker.to_json(), "watermarks_ns": dict(self._watermarks),
                "through_ns": self._through_ns}

    def timeline(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, state table [groups, hits/calls/wins/losses/status, signals]) of this run."""
        return self._times.copy(), self._table.copy()

    # --- out -----------------------------------------------------------------------------------

    def _persist(self) -> None:
        if self._store is not None:
            self._store.put_many(NAMESPACE, {KEY: self.snapshot()})

    def _announce(self, transitions: list[Transition]) -> None:
        z_level = self.settings.confidence_level
        for change in transitions:
            if change.new is Status.LIVE and change.old is Status.PROBATION:
                logger.info("signal %s is live after %d scored calls", change.signal,
                            change.calls)
                continue
            retired = change.new is Status.RETIRED
            lower, upper = wilson_bounds(change.hits / change.calls, change.clusters,
                                         quantile_z(z_level))
            bound, bar = ((f"upper bound {upper:.1%}", self.settings.retire_accuracy)
                          if retired else (f"lower bound {lower:.1%}",
                                           self.settings.revive_accuracy))
            message = (f"signal {change.signal} {'retired' if retired else 'revived'}: "
                       f"{change.hits}/{change.calls} calls right "
                       f"({change.hits / change.calls:.1%}, {change.clusters} independent), "
                       f"{bound} "
                       f"{'<' if retired else '>'} {bar:.0%} at {z_level:.0%} confidence")
            event = OperatorEvent(
                datetime.fromtimestamp(change.at_ns / 1e9, UTC),
                Severity.WARNING if retired else Severity.INFO,
                ReasonCode.SIGNAL_RETIRED if retired else ReasonCode.SIGNAL_REVIVED, message,
                data={"signal": change.signal, "hits": change.hits, "calls": change.calls,
                      "clusters": change.clusters})
            if self._sink is not None:
                self._sink.emit(event)
            else:
                logger.warning(event.text())
