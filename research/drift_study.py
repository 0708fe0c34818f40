"""Rule: the drift gate is shown on real data, against a reference it was not fitted on.

``gate_study`` fits the gate's reference on one span of a pair's features and runs the gate
over another span on its own (its first check once a full window of the test span exists),
returning the share of checks that block and the features that drifted most often. The report
uses it for three cases, all dated from its ``--timerange`` (``held_out_spans``): the last week
of the range against the training period before it (the gate's own use: a held-out span of the
same market), a named event (``EVENTS``: the 2025-10-10 liquidation cascade) when the range
holds it, and the 2021-22 spot market against the range's spot candles.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from centaur.settings.models import DriftSettings
from freqai_models import drift


Span = tuple[pd.Timestamp, pd.Timestamp]
TEST_SPAN = pd.Timedelta(days=7)
REFERENCE_SPAN = pd.Timedelta(days=30)  # the ranker's training period
MIN_REFERENCE = pd.Timedelta(days=3)
# Named real events: (reference, test). Studied only when the report's range holds them.
EVENTS: dict[str, tuple[Span, Span]] = {
    "crash_2025_10_10": ((pd.Timestamp("2025-09-09", tz="UTC"), pd.Timestamp("2025-10-09",
                                                                                tz="UTC")),
                         (pd.Timestamp("2025-10-09", tz="UTC"), pd.Timestamp("2025-10-16",
                                                                                tz="UTC"))),
}


def held_out_spans(start: pd.Timestamp, stop: pd.Timestamp, test: pd.Timedelta = TEST_SPAN,
                   reference: pd.Timedelta = REFERENCE_SPAN) -> tuple[Span, Span]:
    """(reference, test): the range's last ``test`` and the ``reference`` before it."""
    test_start = stop - test
    ref_start = max(start, test_start - reference)
    if test_start - ref_start < MIN_REFERENCE:
        raise ValueError(f"timerange {start:%Y-%m-%d} - {stop:%Y-%m-%d} leaves less than "
                         f"{MIN_REFERENCE.days} days of reference before its last "
                         f"{test.days} days. Fix: give a --timerange of at least "
                         f"{(test + MIN_REFERENCE).days} days.")
    return (ref_start, test_start), (test_start, stop)


def events_within(start: pd.Timestamp, stop: pd.Timestamp) -> dict[str, tuple[Span, Span]]:
    return {name: (ref, test) for name, (ref, test) in EVENTS.items()
            if ref[0] >= start and test[1] <= stop}


@dataclass(frozen=True)
class GateStudy:
    checks: int
    blocked_share: float
    max_drifted_features: int
    top_features: list[tuple[str, int]]

    def as_dict(self) -> dict:
        return {"checks": self.checks, "blocked_share": round(self.blocked_share, 4),
                "max_drifted_features": self.max_drifted_features,
                "most_drifted": [{"feature": f, "checks": n} for f, n in self.top_features]}


def gate_study(reference: pd.DataFrame, test: pd.DataFrame, settings: DriftSettings) -> GateStudy:
    ref = drift.fit_reference(reference, settings)
    values = test[list(reference.columns)].to_numpy(dtype="float64")
    rows = np.arange(settings.window_candles - 1, len(values), settings.check_every_candles)
    if len(rows) == 0:
        raise ValueError(f"test span has {len(values)} rows, fewer than one drift window "
                         f"({settings.window_candles}). Fix: give a longer span.")
    checks = drift.run_checks(ref, values, rows, 0, settings)
    decision = drift.decide(ref, checks, settings)
    drifted = checks.drifted(ref, settings)
    counts = Counter({ref.features[i]: int(n) for i, n in enumerate(drifted.sum(axis=0)) if n})
    return GateStudy(len(rows), float(decision.blocked.mean()),
                     int(decision.drifted_count.max()), counts.most_common(5))
