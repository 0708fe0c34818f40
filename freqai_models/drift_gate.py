"""DriftGate: no entry on a candle whose features left the training distribution, or that
the model did not predict (``drift_blocked``; fail closed). A candle gate of the entry
pipeline: it decides from the analysed candle alone, once per candle."""

from __future__ import annotations

import numpy as np
import pandas as pd

from centaur.decision import ReasonCode


class DriftGate:
    name = "drift"
    reason = ReasonCode.DRIFT_BLOCK

    def blocked(self, dataframe: pd.DataFrame) -> np.ndarray:
        if "drift_blocked" not in dataframe:
            return np.ones(len(dataframe), dtype=bool)  # no model columns: no entry
        return (dataframe["drift_blocked"] == 1).to_numpy()
