"""Rule: the drift gate is shown on real data, against a reference it was not fitted on.

``gate_study`` fits the gate's reference on one span of a pair's features and runs the gate
over another span on its own (its first check once a full window of the test span exists),
returning the share of checks that block and the features that drifted most often. The report
uses it for three cases: a later calm span of the same market (in distribution: should stay
quiet), the 2025-10-10 liquidation cascade, and the 2021-22 spot market against 2025.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from centaur.settings.models import DriftSettings
from freqai_models import drift


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
