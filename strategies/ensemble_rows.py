"""A pair's last analysed ensemble kept as arrays, so the per-trade callbacks (confidence,
voter exits) look a candle up in O(log n) instead of slicing a dataframe."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EnsembleRows:
    names: tuple[str, ...]
    dates_ns: np.ndarray  # candle open times
    score: np.ndarray
    weight: np.ndarray  # (candles, signals): the tracker's weights
    effective_weight: np.ndarray  # (candles, signals): weight x regime x available
    exit_long: np.ndarray  # (candles, signals) bool: each signal's own exit call
    exit_short: np.ndarray

    def index_at(self, at_ns: int) -> int | None:
        """The last candle opened at or before ``at_ns`` (the candle closed at decision time)."""
        index = int(np.searchsorted(self.dates_ns, at_ns, side="right")) - 1
        return index if index >= 0 else None

    def confidence(self, at_ns: int) -> float | None:
        index = self.index_at(at_ns)
        return None if index is None else float(min(abs(self.score[index]), 1.0))

    def voter_exits(self, voters: tuple[str, ...], is_short: bool, at_ns: int,
                    share: float) -> tuple[str, ...]:
        """The voters calling their exit, if they carry ``share`` of the voters' weight."""
        index = self.index_at(at_ns)
        columns = [self.names.index(v) for v in voters if v in self.names]
        if index is None or not columns:
            return ()
        exiting = (self.exit_short if is_short else self.exit_long)[index, columns]
        weights = self.weight[index, columns]
        if weights.sum() <= 0:
            weights = np.ones(len(columns))
        if weights[exiting].sum() < share * weights.sum():
            return ()
        return tuple(self.names[c] for c, on in zip(columns, exiting, strict=True) if on)
