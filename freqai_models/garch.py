"""Rule: every candle gets a GARCH(1,1) forecast of the next return's sigma, or a logged fallback.

GARCH(1,1) with Student-t errors (``arch``), zero mean, fitted on the last
``fit_window_candles`` log returns that closed before each refit time. Refit times sit on a
fixed calendar grid (multiples of ``refit_every_candles`` since the epoch), so a candle's sigma
depends on the data, never on where a backtest or a live history happens to start. Refits are
warm-started from the previous fit; every ``cold_start_every_candles`` the chain restarts cold,
which bounds how far back a warm start can reach (``recursive-analysis`` stays clean).

Between refits the variance recursion runs with the refit's parameters:
``s2[t+1] = omega + alpha * r[t]**2 + beta * s2[t]``, started at the beginning of the fit
window, so ``garch_sigma`` at candle t uses returns up to t only.

Fallback (never a crash, never a silent NaN): too few returns, a zero-variance window, an
optimiser that did not converge, non-finite parameters, persistence alpha + beta above
``max_persistence`` (explosive) or nu <= 2 give an EWMA (lambda 0.97) forecast instead,
flagged per candle in ``garch_fallback`` and logged per pair (reason GARCH_FALLBACK) when its
reasons change: a live bot re-analyses the same trailing window every candle, and the same
warm-up fallback at its start is said once, not once per candle and pair.
Only a series' very first candle, which has no return yet, has no sigma.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from arch import arch_model
from scipy.signal import lfilter

from centaur.decision import ReasonCode
from centaur.settings.models import GarchSettings

logger = logging.getLogger(__name__)

EWMA_LAMBDA = 0.97
WARMUP = "too few returns"
PERSISTENCE_TOLERANCE = 1e-6  # arch's SLSQP meets alpha + beta <= 1 to about 3e-7


@dataclass(frozen=True)
class GarchFit:
    """Parameters on returns scaled to unit variance (``scale`` = the window's std)."""

    omega: float
    alpha: float
    beta: float
    nu: float
    scale: float
    fallback: str | None = None

    @property
    def start_values(self) -> tuple[float, float, float, float]:
        return (self.omega, self.alpha, self.beta, self.nu)


@dataclass(frozen=True)
class GarchResult:
    sigma: np.ndarray  # forecast sigma of the next log return, as a ratio
    fallback: np.ndarray  # 1 where the EWMA fallback was used
    reasons: Counter


def fit_garch(returns: np.ndarray, settings: GarchSettings,
              start: GarchFit | None = None) -> GarchFit:
    """One GARCH(1,1)-t fit on ``returns``; a fallback-marked fit when it cannot be trusted."""
    clean = returns[np.isfinite(returns)]
    if len(clean) < settings.min_returns:
        return _fallback(clean, f"{WARMUP} ({len(clean)} < {settings.min_returns})")
    scale = float(np.std(clean))
    if not np.isfinite(scale) or scale <= 0.0:
        return _fallback(clean, "degenerate series (zero variance)")
    warm = start.start_values if start is not None and start.fallback is None else None
    omega, alpha, beta, nu, flag = _fit_scaled(clean / scale, warm)
    problem = _problem(omega, alpha, beta, nu, flag, settings.max_persistence)
    if problem:
        return _fallback(clean, problem)
    return GarchFit(omega, alpha, beta, nu, scale)


_FITS: dict[tuple[str, tuple[float, ...] | None], tuple[float, float, float, float, int]] = {}
_MAX_CACHED_FITS = 50_000


def _fit_scaled(scaled: np.ndarray,
                warm: tuple[float, ...] | None) -> tuple[float, float, float, float, int]:
    """Fit once per (window, warm start): the strategy and the ranker's panel share fits."""
    key = (hashlib.blake2b(scaled.tobytes(), digest_size=16).hexdigest(), warm)
    if key not in _FITS:
        if len(_FITS) >= _MAX_CACHED_FITS:
            _FITS.clear()
        _FITS[key] = _fit_arch(scaled, warm)
    return _FITS[key]


def _fit_arch(scaled: np.ndarray,
              warm: tuple[float, ...] | None) -> tuple[float, float, float, float, int]:
    model = arch_model(scaled, mean="Zero", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    with warnings.catch_warnings():
        # A warm start outside the constraints is ignored by arch (a cold start); convergence
        # problems are judged from convergence_flag below, not from warnings.
        warnings.simplefilter("ignore")
        result = model.fit(disp="off", starting_values=None if warm is None else np.array(warm),
                           options={"maxiter": 200})
    p = result.params
    return (float(p["omega"]), float(p["alpha[1]"]), float(p["beta[1]"]), float(p["nu"]),
            int(result.convergence_flag))


def _problem(omega: float, alpha: float, beta: float, nu: float, flag: int,
             max_persistence: float) -> str | None:
    if flag != 0:
        return f"optimiser did not converge (flag {flag})"
    if not all(np.isfinite([omega, alpha, beta, nu])) or omega <= 0:
        return "non-finite or non-positive parameters"
    if alpha + beta > max_persistence + PERSISTENCE_TOLERANCE:
        return f"explosive persistence (alpha+beta={alpha + beta:.6f} > {max_persistence})"
    if nu <= 2.0:
        return f"Student-t nu={nu:.2f} <= 2 (infinite variance)"
    return None


def _fallback(clean: np.ndarray, reason: str) -> GarchFit:
    scale = float(np.std(clean)) if len(clean) > 1 else 0.0
    return GarchFit(0.0, 1.0 - EWMA_LAMBDA, EWMA_LAMBDA, np.inf, scale, fallback=reason)


def garch_sigma(dates: pd.Series, close: pd.Series, settings: GarchSettings,
                pair: str, timeframe_secs: int) -> GarchResult:
    """Forecast sigma of the next log return for every candle (see the module rule)."""
    returns = np.log(close.to_numpy(dtype="float64"))
    returns = np.concatenate([[np.nan], np.diff(returns)])
    segments = _segments(dates, settings.refit_every_candles * timeframe_secs)
    cold_every = settings.cold_start_every_candles // settings.refit_every_candles
    sigma = np.full(len(returns), np.nan)
    fallback = np.zeros(len(returns), dtype="int8")
    reasons: Counter = Counter()
    previous: GarchFit | None = None
    for number, start, stop in segments:
        window = returns[max(1, start - settings.fit_window_candles):start]
        warm = None if number % cold_every == 0 else previous
        fit = fit_garch(window, settings, warm)
        sigma[start:stop] = _forecast(returns, start, stop, fit, settings.fit_window_candles)
        if fit.fallback:
            fallback[start:stop] = 1
            reasons[fit.fallback.split(" (")[0]] += 1
        previous = fit
    _log_fallbacks(pair, reasons, len(segments))
    return GarchResult(sigma, fallback, reasons)


def _segments(dates: pd.Series, refit_secs: int) -> list[tuple[int, int, int]]:
    """(grid number, first row, end row) of each refit segment present in ``dates``."""
    seconds = pd.DatetimeIndex(dates).as_unit("s").asi8
    numbers = seconds // refit_secs
    starts = np.flatnonzero(np.diff(numbers, prepend=numbers[0] - 1))
    ends = np.append(starts[1:], len(numbers))
    return [(int(numbers[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _forecast(returns: np.ndarray, start: int, stop: int, fit: GarchFit,
              window: int) -> np.ndarray:
    """Run the variance recursion from the fit window's start; sigma of r[t+1] for each t.

    ``variance[j]`` is the forecast made after seeing return ``begin + j``; row 0 has no
    return yet and stays NaN (flagged as a fallback row by the caller).
    """
    begin = max(1, start - window)
    out = np.full(stop - start, np.nan)
    history = np.nan_to_num(returns[begin:stop], nan=0.0)
    if len(history) == 0:
        return out
    burn_in = history[: start - begin] if start > begin else history[:1]
    drive = fit.omega * fit.scale**2 + fit.alpha * history**2
    variance, _ = lfilter([1.0], [1.0, -fit.beta], drive,
                          zi=[fit.beta * float(np.mean(burn_in**2))])
    first = max(start, begin)
    out[first - start:] = np.sqrt(variance[first - begin:])
    return out


class FallbackLog:
    """Which pairs' fallbacks are due a log line: those whose reasons changed since the last."""

    def __init__(self) -> None:
        self._said: dict[str, frozenset[str]] = {}

    def due(self, pair: str, reasons: Counter) -> bool:
        names = frozenset(reasons)
        if not names:  # a clean run: the next fallback is news again
            self._said.pop(pair, None)
            return False
        if self._said.get(pair) == names:
            return False
        self._said[pair] = names
        return True


FALLBACK_LOG = FallbackLog()


def _log_fallbacks(pair: str, reasons: Counter, refits: int) -> None:
    """One line per pair when its reasons change: warm-up at INFO (expected), anything else
    at WARNING."""
    if not FALLBACK_LOG.due(pair, reasons):
        return
    for is_warmup in (True, False):
        counts = {r: n for r, n in reasons.items() if r.startswith(WARMUP) == is_warmup}
        if not counts:
            continue
        detail = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items()))
        logger.log(logging.INFO if is_warmup else logging.WARNING,
                   "[%s] %s: EWMA fallback in %d of %d GARCH refit segments (%s)",
                   ReasonCode.GARCH_FALLBACK, pair, sum(counts.values()), refits, detail)
