"""The measured outcome statistics of a signal, shared by the ensemble and the risk layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignalStats:
    """Measured outcome statistics of a signal (from the ensemble's decay tracker)."""

    win_rate: float  # in [0, 1]
    payoff_ratio: float  # mean win / mean loss, > 0
    samples: int
