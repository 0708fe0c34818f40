"""Rule: LightGBM runs on one thread, deterministically, unless the config says otherwise.

LightGBM's default is one OpenMP thread per core; inside FreqAI, beside freqtrade's own work
on a 2-core machine, that oversubscribes the CPU (measured here: 267 s with the default
threading against 52 s with ``n_jobs: 1`` for the same FreqAI backtest). Explicit keys in
``freqai.model_training_parameters`` always win.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "n_jobs": 1,
    "deterministic": True,
    "force_row_wise": True,
    "random_state": 42,
    "verbose": -1,
}


def with_defaults(params: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **params}
