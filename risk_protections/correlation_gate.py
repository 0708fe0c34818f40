"""Correlation gate: no two open positions whose returns move together above the limit.

Correlation is signed by the positions' sides: a long and a short of two assets that move
together hedge each other (signed correlation -rho) and are allowed; two longs (or two
shorts) with rho above the limit concentrate the same risk and are not.
"""

from __future__ import annotations

import numpy as np

from centaur.decision import Decision, ReasonCode


def signed_correlation(a: np.ndarray, b: np.ndarray, same_side: bool) -> float:
    n = min(len(a), len(b))
    if n < 3:
        return 0.0
    x, y = a[-n:], b[-n:]
    mask = np.isfinite(x) & np.isfinite(y)
    if mask.sum() < 3 or np.std(x[mask]) == 0 or np.std(y[mask]) == 0:
        return 0.0
    rho = float(np.corrcoef(x[mask], y[mask])[0, 1])
    return rho if same_side else -rho


def correlation_decision(candidate: np.ndarray, is_short: bool,
                         open_returns: dict[tuple[str, bool], np.ndarray],
                         max_correlation: float) -> Decision:
    for (pair, open_short), returns in open_returns.items():
        rho = signed_correlation(candidate, returns, same_side=open_short == is_short)
        if rho > max_correlation:
            return Decision(False, ReasonCode.CORRELATED_POSITION,
                            f"returns correlate {rho:.2f} > {max_correlation} with the open "
                            f"{'short' if open_short else 'long'} on {pair}")
    return Decision.allow()
