"""The tracker's shell: each pair's scored calls in, the tracker's state as of any candle out.

Freqtrade analyses a pair's whole dataframe at once in backtests but one new candle per pair at
a time live. Both paths make the same two calls: ``offer`` (a pair's scored calls, from
``populate_indicators``) and ``state_at`` (weights and statuses per candle, from
``populate_entry_trend``). The state of a candle is the state at its anchor
(``signal_tracker``): every pair's outcomes known before the anchor, over a calendar window.
Outcomes are kept as a set keyed by (pair, signal, call time), so the order in which pairs
are analysed, how often a pair is offered and where a run starts do not change the state - as
long as the offered candles cover the window. The window is covered from
``max(first candle of each pair) + window + memory``; before that signals are on probation.

Nothing is persisted: the state is a function of the candles (the flagship's start-up candles
cover the window live). Retirements and revivals are announced as operator events.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings.ensemble import TrackerSettings
from strategies.signal_outcomes import FIELDS, Outcomes
from strategies.signal_tracker import (
    HOUR_NS,
    STATUS_CODES,
    Status,
    WindowEstimates,
    anchor_of,
    excess_hit_ppm,
    statuses,
    weight_for,
    window_estimates,
)

logger = logging.getLogger(__name__)

_LIVE_CODE = STATUS_CODES[Status.LIVE]
_RETIRED_CODE = STATUS_CODES[Status.RETIRED]
_PROBATION_CODE = STATUS_CODES[Status.PROBATION]
_CODE_STATUS = {code: status for status, code in STATUS_CODES.items()}


def _first_addition_ns(before: Outcomes, after: Outcomes) -> int | None:
    """The earliest ``known_at`` of an outcome in ``after`` but not in ``before``; None: none."""
    if len(after) == len(before) and all(np.array_equal(getattr(after, f), getattr(before, f))
                                         for f in FIELDS):
        return None
    known = set(zip(*(getattr(before, f).tolist() for f in FIELDS)))
    added = [row[0] for row in zip(*(getattr(after, f).tolist() for f in FIELDS))
             if row not in known]
    return min(added) if added else None


class TrackerLedger:
    """Outcomes in (per pair, any order, any repetition), tracker state per candle out."""

    def __init__(self, names: tuple[str, ...], settings: TrackerSettings,
                 sink: EventSink | None = None, trading: bool = False):
        self.names = names
        self.settings = settings
        self._sink = sink
        self._trading = trading  # live: keep only the outcomes the window can still read
        self._step_ns = settings.anchor_hours * HOUR_NS
        self._span_ns = settings.window_days * 24 * HOUR_NS \
            + settings.memory_anchors * self._step_ns
        self.restart_run()

    def restart_run(self) -> None:
        """A new analysis run (backtest, hyperopt epoch): no outcome known yet."""
        self._outcomes: dict[str, Outcomes] = {}
        self._first_ns: dict[str, int] = {}
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._announced: dict[str, int] = {}

    # --- in ----------------------------------------------------------------------------------

    def offer(self, pair: str, outcomes: Outcomes, first_candle_ns: int | None = None) -> None:
        """The pair's scored calls in the candles it was analysed on (from
        ``first_candle_ns``); merged with what was offered before, duplicates dropped."""
        if first_candle_ns is not None:
            first = min(self._first_ns.get(pair, first_candle_ns), int(first_candle_ns))
            if self._first_ns.get(pair) != first:  # the coverage moved: every state may change
                self._cache.clear()
            self._first_ns[pair] = first
        before = self._outcomes.get(pair, Outcomes.empty())
        merged = Outcomes.concat([before, outcomes])
        key = merged.signal.astype(np.int64) * (1 << 48) + merged.call_at_ns // 1_000_000_000
        _, unique = np.unique(key, return_index=True)
        merged = merged.where(np.sort(unique))
        self._forget_after(_first_addition_ns(before, merged))
        if self._trading and len(merged):  # keep what every anchor of a live frame reads
            oldest = int(merged.known_at_ns.max()) - 2 * self._span_ns - self._step_ns
            merged = merged.where(merged.known_at_ns >= oldest)
        self._outcomes[pair] = merged

    def _forget_after(self, known_at_ns: int | None) -> None:
        """Drop the cached states an outcome known at ``known_at_ns`` changes: the anchors after
        it (an anchor reads the outcomes known before it). Live, a new candle's outcomes are
        known after today's anchor, so the day's state is computed once."""
        if known_at_ns is not None:
            for anchor in [a for a in self._cache if a > known_at_ns]:
                del self._cache[anchor]

    def flush(self, through_ns: int) -> None:
        """Live: announce the status changes at the anchor of ``through_ns``."""
        self._announce(int(anchor_of(through_ns, self.settings)))

    # --- state ---------------------------------------------------------------------------------

    def covered_from_ns(self) -> int | None:
        """The first anchor whose window and memory the offered candles cover."""
        if not self._first_ns:
            return None
        return max(self._first_ns.values()) + self._span_ns

    def _pooled(self) -> tuple[np.ndarray, ...]:
        parts = [self._outcomes[p] for p in sorted(self._outcomes)]
        if not parts:
            empty = Outcomes.empty()
            return tuple(getattr(empty, f) for f in FIELDS)
        return tuple(np.concatenate([getattr(part, f) for part in parts]) for f in FIELDS)

    def _states(self, anchors: np.ndarray) -> None:
        """Compute and cache the state of ``anchors`` (and the memory anchors before them)."""
        missing = sorted({int(a) for a in anchors} - set(self._cache))
        if not missing:
            return
        memory = self.settings.memory_anchors
        first = missing[0] - memory * self._step_ns  # integer steps: ns times overflow floats
        grid = first + self._step_ns * np.arange((missing[-1] - first) // self._step_ns + 1,
                                                 dtype=np.int64)
        known_at, _, signal, outcome, cluster = self._pooled()
        estimates = window_estimates(
            grid, known_at, signal.astype(np.int64),
            excess_hit_ppm(outcome, self.settings.outcome_cost_ratio), cluster,
            len(self.names), self.settings)
        covered_from = self.covered_from_ns()
        if covered_from is None:
            window_covered = state_covered = np.zeros(len(grid), dtype=bool)
        else:  # a window decides once covered; a state also needs its memory covered
            window_covered = grid >= covered_from - memory * self._step_ns
            state_covered = grid >= covered_from
        codes = np.where(state_covered[:, None], statuses(estimates, window_covered,
                                                          self.settings), _PROBATION_CODE)
        live = codes == _LIVE_CODE
        weights = weight_for(np.nan_to_num(estimates.excess), live)
        for row, anchor in enumerate(grid.tolist()):
            if row >= memory or anchor in missing:
                self._cache.setdefault(anchor, (weights[row], codes[row],
                                                np.nan_to_num(estimates.excess[row])))

    def state_at(self, at_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weight, status code) per time (rows) and signal (columns)."""
        anchors = anchor_of(np.asarray(at_ns, dtype=np.int64), self.settings)
        if len(anchors) == 0:
            empty = np.zeros((0, len(self.names)))
            return empty, empty.astype(np.int64)
        unique, inverse = np.unique(anchors, return_inverse=True)
        self._states(unique)
        weights = np.stack([self._cache[int(a)][0] for a in unique])
        codes = np.stack([self._cache[int(a)][1] for a in unique])
        return weights[inverse], codes[inverse]

    def excess_at(self, at_ns: int) -> dict[str, float]:
        """Each signal's window excess hit rate over the null at the candle's anchor."""
        anchor = int(anchor_of(at_ns, self.settings))
        self._states(np.array([anchor]))
        return dict(zip(self.names, self._cache[anchor][2].tolist(), strict=True))

    def retired_at(self, at_ns: np.ndarray) -> np.ndarray:
        return self.state_at(at_ns)[1] == _RETIRED_CODE

    def estimates(self, anchors_ns: np.ndarray) -> WindowEstimates:
        """The window estimates behind the state (reports, status)."""
        known_at, _, signal, outcome, cluster = self._pooled()
        return window_estimates(np.asarray(anchors_ns, dtype=np.int64), known_at,
                                signal.astype(np.int64),
                                excess_hit_ppm(outcome, self.settings.outcome_cost_ratio),
                                cluster, len(self.names), self.settings)

    def offered(self) -> dict[str, int]:
        return {pair: len(outcomes) for pair, outcomes in self._outcomes.items()}

    # --- out -----------------------------------------------------------------------------------

    def _announce(self, anchor: int) -> None:
        _, codes = self.state_at(np.array([anchor]))
        for name, code in zip(self.names, codes[0].tolist(), strict=True):
            before = self._announced.get(name)
            self._announced[name] = code
            if before is None or before == code or _CODE_STATUS[code] is Status.PROBATION:
                continue
            retired = code == _RETIRED_CODE
            if not retired and before != _RETIRED_CODE:
                continue
            self._emit(name, anchor, retired)

    def _emit(self, name: str, anchor: int, retired: bool) -> None:
        excess = self.excess_at(anchor)[name]
        message = (f"signal {name} {'retired' if retired else 'revived'}: excess hit rate over "
                   f"random {excess:+.1%} over the last {self.settings.window_days} days, its "
                   f"{'upper' if retired else 'lower'} bound "
                   f"{'below' if retired else 'above'} 0 at "
                   f"{self.settings.confidence_level:.0%} confidence")
        event = OperatorEvent(
            datetime.fromtimestamp(anchor / 1e9, UTC),
            Severity.WARNING if retired else Severity.INFO,
            ReasonCode.SIGNAL_RETIRED if retired else ReasonCode.SIGNAL_REVIVED, message,
            data={"signal": name, "excess": round(excess, 4)})
        if self._sink is not None:
            self._sink.emit(event)
        else:
            logger.warning(event.text())

    def status(self, at_ns: int) -> dict[str, Any]:
        anchor = int(anchor_of(at_ns, self.settings))
        weights, codes = self.state_at(np.array([anchor]))
        window = self.estimates(np.array([anchor]))
        return {name: {"status": str(_CODE_STATUS[int(codes[0, i])]),
                       "excess_hit_rate": round(float(np.nan_to_num(window.excess[0, i])), 4),
                       "calls": int(window.calls[0, i]),
                       "independent_moves": int(window.clusters[0, i]),
                       "weight": round(float(weights[0, i]), 5)}
                for i, name in enumerate(self.names)}
