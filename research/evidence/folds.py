"""Rolling walk-forward folds with purge and embargo (Lopez de Prado, AFML ch. 7).

A fold trains on ``train`` and tests on the ``test`` window that follows it. A label looks
``horizon`` ahead, so the training rows whose label window reaches into the test window are
*purged* (the train window ends ``horizon`` before the test starts), and after a test window an
*embargo* keeps the next fold's training from starting on rows correlated with it (used when
folds train on data after a test window, as in k-fold; rolling folds keep it as a gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Fold:
    index: int
    train_start: datetime
    train_end: datetime  # exclusive; purged: train_end + horizon <= test_start
    test_start: datetime
    test_end: datetime  # exclusive

    def timerange(self, part: str) -> str:
        """freqtrade's ``--timerange`` of the ``train`` or ``test`` part."""
        start, end = ((self.train_start, self.train_end) if part == "train"
                      else (self.test_start, self.test_end))
        return f"{start:%Y%m%d}-{end:%Y%m%d}"

    def as_dict(self) -> dict[str, str | int]:
        return {"fold": self.index, "train": self.timerange("train"),
                "test": self.timerange("test")}


def rolling_folds(start: datetime, end: datetime, folds: int, train: timedelta,
                  horizon: timedelta, embargo: timedelta = timedelta(0)) -> list[Fold]:
    """``folds`` consecutive test windows covering [start + train + horizon, end), each
    preceded by a training window of length ``train`` that ends ``horizon`` before it (purge);
    consecutive test windows are separated by ``embargo``. Test windows never overlap."""
    first_test = start + train + horizon
    usable = end - first_test - embargo * (folds - 1)
    if folds < 1 or usable <= timedelta(0):
        raise ValueError(f"{folds} folds of {train} training + {horizon} purge do not fit "
                         f"between {start:%Y-%m-%d} and {end:%Y-%m-%d}: shorten the training "
                         "window or use fewer folds")
    length = usable / folds
    result = []
    for index in range(folds):
        test_start = first_test + index * (length + embargo)
        train_end = test_start - horizon
        result.append(Fold(index, train_end - train, train_end, test_start,
                           test_start + length))
    return result


def purged_train_mask(label_start, label_end, test_start: datetime, test_end: datetime,
                      embargo: timedelta = timedelta(0)):
    """Training rows allowed around one test window: a row whose label window
    [label_start, label_end] overlaps [test_start, test_end + embargo) is dropped."""
    import numpy as np

    starts = np.asarray(label_start, dtype="datetime64[ns]")
    ends = np.asarray(label_end, dtype="datetime64[ns]")
    lo = np.datetime64(test_start.replace(tzinfo=None), "ns")
    hi = np.datetime64((test_end + embargo).replace(tzinfo=None), "ns")
    return (ends < lo) | (starts >= hi)
