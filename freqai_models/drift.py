"""Rule: no prediction is used for a pair whose recent features left the training distribution.

Per pair and feature, the recent window (the last ``window_candles``, checked every
``check_every_candles``) is compared with the training window's reference:

- PSI over the reference's deciles plus two tail bins beyond the reference's min and max
  (mass outside everything seen in training counts against a reference share of ~0);
- Kolmogorov-Smirnov: the statistic at ``KS_POINTS`` reference quantiles (within
  1/KS_POINTS of the exact D), the asymptotic Kolmogorov p-value at the effective size;
- two-sided tabular CUSUM of the standardised feature (slack ``cusum_slack_sigma``), run
  since the reference was taken, in reference standard deviations.

Thresholds: the configured ones (PSI > 0.25, p < 0.01, CUSUM > 5 sigma) are floors. Windows of
a time series are not independent draws: a 24 h window of a weekly volatility feature sits in
one corner of its month, and the same tests run on the training window's own 24 h windows
breach most of the time. So each feature's threshold is raised to the most extreme value the
test reached on its own training windows (``calibrate_on_training``, windows ending every
``calibrate_every_candles``; the gate is then quiet in-sample by construction) and drift means "further from the reference than anything seen in
training". A feature drifts when at least ``min_tests_breached`` tests breach together, or
when it goes missing (under half its window valid); the pair is blocked (fail closed) while
at least ``min_drifted_features`` features drift. Constant features are not tested.
Everything here is vectorised numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.special import kolmogorov

from centaur.decision import ReasonCode
from centaur.settings.models import DriftSettings

KS_POINTS = 50
_EPS = 1e-4
TESTS = ("PSI", "KS", "CUSUM")
_CODES = {"PSI": ReasonCode.DRIFT_PSI, "KS": ReasonCode.DRIFT_KS, "CUSUM": ReasonCode.DRIFT_CUSUM}


@dataclass(frozen=True)
class DriftReference:
    """The training window's distribution of each feature, and each feature's thresholds."""

    features: tuple[str, ...]
    grid: np.ndarray  # (F, KS_POINTS) reference quantiles
    cdf: np.ndarray  # (F, KS_POINTS) reference ECDF at the grid
    edges: np.ndarray  # (F, psi_bins + 1) PSI edges: min, deciles, max
    edge_cdf: np.ndarray  # (F, psi_bins + 1) reference ECDF at the edges
    mean: np.ndarray
    std: np.ndarray
    rows: int
    psi_max: np.ndarray  # (F,) calibrated thresholds
    ks_p_min: np.ndarray
    cusum_max: np.ndarray

    @property
    def monitored(self) -> np.ndarray:
        return self.std > 0


@dataclass(frozen=True)
class DriftChecks:
    """Test statistics at each check row, shape (checks, features)."""

    rows: np.ndarray
    psi: np.ndarray
    ks_p: np.ndarray
    cusum: np.ndarray
    missing: np.ndarray

    def breaches(self, ref: DriftReference) -> np.ndarray:
        """(checks, features, 3) booleans: PSI, KS, CUSUM against each feature's threshold."""
        return np.stack([self.psi > ref.psi_max, self.ks_p < ref.ks_p_min,
                         self.cusum > ref.cusum_max], axis=-1)

    def drifted(self, ref: DriftReference, settings: DriftSettings) -> np.ndarray:
        tests = self.breaches(ref).sum(axis=-1) >= settings.min_tests_breached
        return (tests | self.missing) & ref.monitored[None, :]


def fit_reference(train: pd.DataFrame, settings: DriftSettings) -> DriftReference:
    """Reference statistics of the training rows, thresholds calibrated on their own windows."""
    values = train.to_numpy(dtype="float64")
    ordered, valid = np.sort(values, axis=0), np.isfinite(values).sum(axis=0)
    grid = _quantiles(ordered, valid, np.arange(1, KS_POINTS + 1) / (KS_POINTS + 1))
    edges = _quantiles(ordered, valid, np.linspace(0.0, 1.0, settings.psi_bins + 1))
    n_features = values.shape[1]
    mean, std = _moments(values, valid)
    base = DriftReference(
        features=tuple(train.columns), grid=grid, cdf=_ecdf(ordered, valid, grid, "right"),
        edges=edges, edge_cdf=_ecdf(ordered, valid, edges, "left"),
        mean=mean, std=std, rows=len(values),
        psi_max=np.full(n_features, settings.psi_max),
        ks_p_min=np.full(n_features, settings.ks_p_min),
        cusum_max=np.full(n_features, settings.cusum_max_sigma))
    step = settings.calibrate_every_candles
    rows = np.arange(settings.window_candles - 1, len(values), step)
    if not settings.calibrate_on_training or len(rows) == 0:
        return base
    own = run_checks(base, values, rows, 0, settings, step=step)
    return replace(base, psi_max=np.maximum(base.psi_max, own.psi.max(axis=0)),
                   ks_p_min=np.minimum(base.ks_p_min, own.ks_p.min(axis=0)),
                   cusum_max=np.maximum(base.cusum_max, own.cusum.max(axis=0)))


def _moments(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each column's finite values (0 and 0 for an all-NaN column)."""
    finite = np.isfinite(values)
    count = np.maximum(valid, 1)
    mean = np.where(finite, values, 0.0).sum(axis=0) / count
    spread = np.where(finite, values - mean, 0.0)
    return mean, np.sqrt((spread**2).sum(axis=0) / count)


def _quantiles(ordered: np.ndarray, valid: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(F, L) quantiles (nearest rank) of each column; 0 for an all-NaN column."""
    index = np.rint(levels[None, :] * np.maximum(valid - 1, 0)[:, None]).astype(int)
    picked = np.take_along_axis(ordered.T, index, axis=1)
    return np.where(valid[:, None] > 0, picked, 0.0)


def _ecdf(ordered: np.ndarray, valid: np.ndarray, points: np.ndarray, side: str) -> np.ndarray:
    """Share of each column at or below (side "right") or below ("left") its points: (F, P)."""
    out = np.empty(points.shape)
    for i in range(ordered.shape[1]):
        out[i] = np.searchsorted(ordered[: valid[i], i], points[i], side=side) / max(valid[i], 1)
    return out


def run_checks(ref: DriftReference, values: np.ndarray, rows: np.ndarray, cusum_start: int,
               settings: DriftSettings, step: int | None = None) -> DriftChecks:
    """Test statistics at ``rows`` (equally spaced by ``step``, default
    ``check_every_candles``); each window is the ``window_candles`` rows ending at its check
    row, inclusive."""
    blocks = _Blocks.at(rows, len(values), step or settings.check_every_candles,
                        settings.window_candles)
    window_cdf, valid = blocks.window_cdf(values, ref.grid, side="left")
    edge_cdf, _ = blocks.window_cdf(values, ref.edges, side="right")
    psi = _psi(edge_cdf, ref.edge_cdf)
    ks_p = _ks_p(window_cdf, ref.cdf, valid, ref.rows)
    missing = valid < blocks.window_rows[:, None] / 2
    cusum = _cusum(values, ref, cusum_start, settings.cusum_slack_sigma)[rows]
    return DriftChecks(rows, psi, ks_p, cusum, missing)


@dataclass(frozen=True)
class _Blocks:
    """Rows grouped into blocks of ``step`` ending at each check row, so that a window is a
    sum of whole blocks: one ``bincount`` for all features instead of rows x points matrices."""

    block_of_row: np.ndarray  # block number per row, -1 outside every window
    n_blocks: int
    per_window: int
    window_rows: np.ndarray  # rows each window spans (fewer at the start of the data)

    @classmethod
    def at(cls, rows: np.ndarray, n_rows: int, step: int, window: int) -> _Blocks:
        per_window = window // step
        if len(rows) > 1 and np.any(np.diff(rows) != step):
            raise ValueError(f"drift check rows must be {step} rows apart")
        first_end = (rows[0] if len(rows) else 0) - step * (per_window - 1)
        offset = np.arange(n_rows) - first_end
        block = np.where(offset > -step, -(-offset // step), -1)
        n_blocks = len(rows) + per_window - 1
        block[block >= n_blocks] = -1
        ends = rows + 1
        return cls(block, n_blocks, per_window, ends - np.maximum(ends - per_window * step, 0))

    def window_cdf(self, values: np.ndarray, points: np.ndarray,
                   side: str) -> tuple[np.ndarray, np.ndarray]:
        """(checks, F, P) share of each window's valid values at or below the points
        (``side`` "left": x <= point counts; "right": only x < point), and (checks, F) counts."""
        n_features, width = values.shape[1], points.shape[1] + 1
        cells = self.n_blocks * n_features * width
        flat = np.empty(values.shape, dtype=np.int64)
        for i in range(n_features):
            flat[:, i] = np.searchsorted(points[i], values[:, i], side=side)
        flat += (self.block_of_row[:, None] * n_features + np.arange(n_features)) * width
        flat[~np.isfinite(values) | (self.block_of_row < 0)[:, None]] = cells  # dump bin
        hist = np.bincount(flat.ravel(), minlength=cells + 1)[:cells].reshape(
            self.n_blocks, n_features, width)
        summed = np.concatenate([np.zeros((1, n_features, width), np.int64),
                                 np.cumsum(hist, axis=0)])
        window = summed[self.per_window:] - summed[:-self.per_window]
        valid = window.sum(axis=2)
        cdf = np.cumsum(window, axis=2)[:, :, :-1] / np.maximum(valid, 1)[:, :, None]
        return cdf, valid


def _psi(window_cdf: np.ndarray, reference_cdf: np.ndarray) -> np.ndarray:
    """PSI over the bins the edges cut, the two open tails included."""

    def bins(cdf: np.ndarray) -> np.ndarray:
        padded = np.concatenate([np.zeros(cdf.shape[:-1] + (1,)), cdf,
                                 np.ones(cdf.shape[:-1] + (1,))], axis=-1)
        return np.diff(padded, axis=-1) + _EPS

    actual, expected = bins(window_cdf), bins(reference_cdf[None, :, :])
    return np.sum((actual - expected) * np.log(actual / expected), axis=-1)


def _ks_p(window_cdf: np.ndarray, reference_cdf: np.ndarray, n: np.ndarray,
          n_reference: int) -> np.ndarray:
    statistic = np.max(np.abs(window_cdf - reference_cdf[None, :, :]), axis=-1)
    effective = n * n_reference / np.maximum(n + n_reference, 1)
    return np.where(n > 0, kolmogorov(np.sqrt(effective) * statistic), 1.0)


def _cusum(values: np.ndarray, ref: DriftReference, start: int, slack: float) -> np.ndarray:
    """max(S+, S-) per row, the Lindley form S_t = C_t - min(0, min_{s<=t} C_s), from ``start``."""
    std = np.where(ref.std > 0, ref.std, np.inf)
    z = np.nan_to_num((values - ref.mean) / std, nan=0.0)
    out = np.zeros(values.shape)
    if start >= len(values):
        return out
    tail = z[start:]
    out[start:] = np.maximum(_lindley(tail - slack), _lindley(-tail - slack))
    return out


def _lindley(steps: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(steps, axis=0)
    return cumulative - np.minimum(np.minimum.accumulate(cumulative, axis=0), 0.0)


@dataclass(frozen=True)
class DriftDecision:
    """The gate at each check row: blocked, how many features drifted, and why."""

    rows: np.ndarray
    blocked: np.ndarray
    drifted_count: np.ndarray
    reasons: list[str]


def decide(ref: DriftReference, checks: DriftChecks, settings: DriftSettings) -> DriftDecision:
    drifted = checks.drifted(ref, settings)
    count = drifted.sum(axis=1)
    blocked = count >= settings.min_drifted_features
    breaches = checks.breaches(ref)
    reasons = [_reason(ref, checks, breaches, drifted, k) if blocked[k] else ""
               for k in range(len(checks.rows))]
    return DriftDecision(checks.rows, blocked, count, reasons)


def _reason(ref: DriftReference, checks: DriftChecks, breaches: np.ndarray,
            drifted: np.ndarray, k: int) -> str:
    parts = []
    for i in np.flatnonzero(drifted[k]):
        if checks.missing[k, i]:
            parts.append(f"{ref.features[i]}: missing values")
            continue
        stats = {"PSI": f"{checks.psi[k, i]:.2f}", "KS": f"p={checks.ks_p[k, i]:.1e}",
                 "CUSUM": f"{checks.cusum[k, i]:.1f}sd"}
        tests = [f"{_CODES[t]}={stats[t]}" for j, t in enumerate(TESTS) if breaches[k, i, j]]
        parts.append(f"{ref.features[i]}: {' '.join(tests)}")
    return f"[{ReasonCode.DRIFT_BLOCK}] " + "; ".join(parts)
