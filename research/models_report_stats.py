"""Rule: every t-statistic of the models report is a Newey-West (HAC) t, and a figure is called
significant only after a Bonferroni correction over every test the report makes.

Per evaluation timestamp (the models report's non-overlapping 4 h grid) three series are read
from each model's scores, on the rows ``metrics.evaluate`` uses: the rank IC, top-k minus the
universe after the fee (the long side) and the universe minus bottom-k after the fee (the short
side, which trades the bottom of the same ranking). Their means are tested with
``evidence.stats.newey_west_t``; the lag is the number of rows one label spans (the horizon
over the row spacing, at least 1), raised to the Newey-West plug-in ``floor(4 (n / 100)^(2/9))``
so that persistence beyond one horizon (regimes, slow features) is covered too.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pandas as pd

from freqai_models.metrics import rank_ic, top_k_mask
from research.evidence.stats import newey_west_t

FAMILY_ALPHA = 0.05
SERIES = ("rank_ic", "topk_minus_universe_net", "universe_minus_bottomk_net")
_NORMAL = NormalDist()


def hac_lags(horizon_candles: int, spacing_candles: int, rows: int) -> int:
    """Rows one label spans (at least 1), or the Newey-West plug-in if larger."""
    overlap = max(1, math.ceil(horizon_candles / spacing_candles))
    plug_in = math.floor(4 * (max(rows, 1) / 100) ** (2 / 9))
    return max(overlap, plug_in)


def per_timestamp(scores: pd.DataFrame, forward: pd.DataFrame, top_k: int, bottom_k: int,
                  round_trip_fee_ratio: float) -> dict[str, pd.Series]:
    """The three series, on the rows where more than ``top_k`` pairs have both values."""
    usable = (scores.notna() & forward.notna()).sum(axis=1) > top_k
    scores, forward = scores[usable].where(forward[usable].notna()), forward[usable]
    universe = forward.mean(axis=1)
    top = top_k_mask(scores, top_k)
    bottom = top_k_mask(-scores, max(bottom_k, 1))
    return {"rank_ic": rank_ic(scores, forward),
            "topk_minus_universe_net": forward.where(top).mean(axis=1) - universe
            - round_trip_fee_ratio,
            "universe_minus_bottomk_net": universe - forward.where(bottom).mean(axis=1)
            - round_trip_fee_ratio}


def naive_t(values: pd.Series) -> float:
    """mean / (sd / sqrt(n)): shown beside the HAC t, never used for a call."""
    x = values.dropna()
    sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    return float(x.mean() / (sd / math.sqrt(len(x)))) if sd > 0 else math.nan


def hac_test(values: pd.Series, lags: int, tests: int) -> dict[str, float | int | bool]:
    """HAC mean, standard error and t; two-sided normal p; the Bonferroni call over ``tests``."""
    mean, se, t = newey_west_t(values.to_numpy(), lags)
    p = 2 * (1 - _NORMAL.cdf(abs(t))) if math.isfinite(t) else math.nan
    return {"mean": _round(mean), "hac_se": _round(se), "hac_t": _round(t, 3),
            "naive_t": _round(naive_t(values), 3), "p_two_sided": _round(p),
            "rows": int(values.notna().sum()), "lags": lags,
            "significant_bonferroni": bool(p < FAMILY_ALPHA / tests) if math.isfinite(p)
            else False}


def significance(series: dict[str, dict[str, pd.Series]], horizon_candles: int,
                 spacing_candles: int) -> dict:
    """Every model's HAC tests; the family is every (model, series) pair tested."""
    tests = sum(len(by_series) for by_series in series.values())
    out = {}
    for model, by_series in series.items():
        out[model] = {name: hac_test(values, hac_lags(horizon_candles, spacing_candles,
                                                      int(values.notna().sum())), tests)
                      for name, values in by_series.items()}
    return {"models_tried": len(series), "tests": tests, "family_alpha": FAMILY_ALPHA,
            "per_test_alpha": _round(FAMILY_ALPHA / tests) if tests else None,
            "lag_rule": "max(rows one label spans = ceil(horizon / spacing), "
                        "floor(4 (rows / 100)^(2/9)))",
            "by_model": out}


def _round(value: float, digits: int = 6) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None
