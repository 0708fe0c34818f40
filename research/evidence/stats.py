"""Statistics that survive noise: daily-equity Sharpe with a bootstrap interval, the
probabilistic and deflated Sharpe ratios, Newey-West t-statistics, paired bootstrap differences.

- Sharpe is computed from *daily* returns of the equity curve (calendar days, flat days
  included) and annualised with 365 days: freqtrade's figure divides a daily mean by a
  per-trade standard deviation and is not a Sharpe ratio.
- The probabilistic Sharpe ratio (PSR) is the probability that the true Sharpe exceeds a
  benchmark given the sample length, skew and kurtosis; the deflated Sharpe ratio (DSR) takes
  as benchmark the Sharpe the best of ``trials`` unskilled configurations would show
  (Bailey & Lopez de Prado, "The Deflated Sharpe Ratio", 2014, eqs. for SR0 and DSR).
- HAC: the t-statistic of a mean with Newey-West standard errors, for statistics measured over
  overlapping horizons (statsmodels' implementation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

EULER_GAMMA = 0.5772156649015329
DAYS_PER_YEAR = 365
_NORMAL = NormalDist()


def daily_returns(equity: pd.Series) -> pd.Series:
    """Calendar-daily simple returns of an equity curve (last value of each UTC day)."""
    daily = equity.sort_index().resample("1D").last().ffill()
    return daily.pct_change().dropna()


def sharpe(returns: np.ndarray, periods_per_year: int = DAYS_PER_YEAR) -> float:
    """Annualised Sharpe ratio of per-period returns (0 risk-free rate); 0 when flat."""
    x = np.asarray(returns, dtype=float)
    if len(x) < 2:
        return 0.0
    sd = float(x.std(ddof=1))
    return float(x.mean()) / sd * math.sqrt(periods_per_year) if sd > 0 else 0.0


def stationary_bootstrap_indices(n: int, mean_block: float, rng: np.random.Generator
                                 ) -> np.ndarray:
    """One resample of 0..n-1 by the stationary bootstrap (Politis & Romano): blocks of
    geometric length with mean ``mean_block``, wrapping around, so serial dependence within a
    block is kept."""
    starts = rng.integers(0, n, size=n)
    new_block = rng.random(n) < 1.0 / max(mean_block, 1.0)
    new_block[0] = True
    block_start = np.maximum.accumulate(np.where(new_block, np.arange(n), 0))
    offset = np.arange(n) - block_start
    return (starts[block_start] + offset) % n


def bootstrap_interval(returns: np.ndarray, statistic=sharpe, resamples: int = 2000,
                       mean_block: float = 5.0, confidence_level: float = 0.95,
                       seed: int = 7) -> tuple[float, float]:
    """Percentile interval of ``statistic`` under the stationary bootstrap."""
    x = np.asarray(returns, dtype=float)
    if len(x) < 3:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(x[stationary_bootstrap_indices(len(x), mean_block, rng)])
                      for _ in range(resamples)])
    tail = (1 - confidence_level) / 2
    return float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))


def moments(returns: np.ndarray) -> tuple[float, float]:
    """(skewness, kurtosis) of the returns; kurtosis is not excess (normal = 3)."""
    x = np.asarray(returns, dtype=float)
    sd = x.std()
    if len(x) < 3 or sd == 0:
        return 0.0, 3.0
    z = (x - x.mean()) / sd
    return float(np.mean(z ** 3)), float(np.mean(z ** 4))


def probabilistic_sharpe(sharpe_per_period: float, samples: int, skewness: float,
                         kurtosis: float, benchmark_per_period: float = 0.0) -> float:
    """PSR: P(true Sharpe > benchmark), both per period (not annualised)."""
    if samples < 2:
        return math.nan
    denominator = 1 - skewness * sharpe_per_period \
        + (kurtosis - 1) / 4 * sharpe_per_period ** 2
    if denominator <= 0:
        return math.nan
    z = (sharpe_per_period - benchmark_per_period) * math.sqrt(samples - 1) \
        / math.sqrt(denominator)
    return _NORMAL.cdf(z)


def expected_max_sharpe(trials_variance: float, trials: int) -> float:
    """SR0: the expected best Sharpe (per period) of ``trials`` unskilled configurations whose
    Sharpe ratios vary with ``trials_variance`` (per period squared)."""
    if trials <= 1 or trials_variance <= 0:
        return 0.0
    return math.sqrt(trials_variance) * (
        (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / trials)
        + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (trials * math.e)))


@dataclass(frozen=True)
class DeflatedSharpe:
    sharpe_annual: float
    sharpe_per_period: float
    benchmark_per_period: float  # SR0
    trials: int
    samples: int
    skewness: float
    kurtosis: float
    probability: float  # DSR: P(true Sharpe > SR0)

    @property
    def significant(self) -> bool:
        return self.probability > 0.95

    def as_dict(self) -> dict[str, float | int | bool]:
        return {"sharpe_annual": round(self.sharpe_annual, 4),
                "sharpe_daily": round(self.sharpe_per_period, 5),
                "sr0_daily": round(self.benchmark_per_period, 5), "trials": self.trials,
                "days": self.samples, "skewness": round(self.skewness, 3),
                "kurtosis": round(self.kurtosis, 3), "dsr": round(self.probability, 4),
                "significant_5pct": self.significant}


def deflated_sharpe(returns: np.ndarray, trials: int, trials_variance: float | None = None,
                    periods_per_year: int = DAYS_PER_YEAR) -> DeflatedSharpe:
    """DSR of per-period ``returns`` after ``trials`` configurations were tried.

    ``trials_variance`` is the variance of the tried configurations' per-period Sharpe ratios;
    when unknown (one configuration, or only the chosen one kept) it defaults to the sampling
    variance of a Sharpe estimate, 1 / samples - what unskilled trials would show."""
    x = np.asarray(returns, dtype=float)
    n = len(x)
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    per_period = float(x.mean()) / sd if sd > 0 else 0.0
    skewness, kurtosis = moments(x)
    variance = trials_variance if trials_variance is not None else 1.0 / max(n, 1)
    benchmark = expected_max_sharpe(variance, trials)
    probability = probabilistic_sharpe(per_period, n, skewness, kurtosis, benchmark)
    return DeflatedSharpe(per_period * math.sqrt(periods_per_year), per_period, benchmark,
                          trials, n, skewness, kurtosis, probability)


def newey_west_t(values: np.ndarray, lags: int) -> tuple[float, float, float]:
    """(mean, HAC standard error, t) of ``values`` with Newey-West weights over ``lags``."""
    import statsmodels.api as sm

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return math.nan, math.nan, math.nan
    fit = sm.OLS(x, np.ones(len(x))).fit(cov_type="HAC", cov_kwds={"maxlags": max(lags, 0)})
    mean, se = float(fit.params[0]), float(fit.bse[0])
    return mean, se, (mean / se if se > 0 else math.nan)


def paired_bootstrap_difference(a: np.ndarray, b: np.ndarray, resamples: int = 2000,
                                confidence_level: float = 0.95, seed: int = 7
                                ) -> dict[str, float]:
    """Mean of a - b over paired observations, with the bootstrap standard error and interval."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return {"mean": math.nan, "standard_error": math.nan, "lower": math.nan,
                "upper": math.nan, "pairs": len(d)}
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
    tail = (1 - confidence_level) / 2
    return {"mean": float(d.mean()), "standard_error": float(means.std(ddof=1)),
            "lower": float(np.quantile(means, tail)),
            "upper": float(np.quantile(means, 1 - tail)), "pairs": len(d)}


def max_drawdown(equity: pd.Series | np.ndarray) -> float:
    """Largest peak-to-trough fall of an equity curve, as a ratio of the peak."""
    values = np.asarray(equity, dtype=float)
    if len(values) == 0:
        return 0.0
    peaks = np.maximum.accumulate(values)
    return float(np.max(1 - values / peaks))
