"""Rule: ranking quality is measured out of sample, per timestamp, on non-overlapping horizons.

Inputs are wide frames (rows = evaluation timestamps, columns = pairs): ``scores`` (higher =
expected to outperform) and ``forward`` (realised forward log returns over the horizon).
Evaluation timestamps are spaced one horizon apart so that no two share a forward return,
which keeps the t-statistic honest.

- rank IC: Spearman correlation of score and realised return across pairs, per timestamp;
  reported as its mean and t-statistic (mean / (std / sqrt(n))).
- top-k minus universe after fees: mean return of the k best-scored pairs, minus the
  universe mean, minus the round-trip fee (rotating into the top k costs one round trip per
  horizon; holding the universe is the free benchmark).
- NDCG@k with the ranker's graded relevance (gain 2^g - 1, discount log2(1 + position)).
- hit rate: share of top-k picks whose return beat the universe mean by more than the fee.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from freqai_models.labels import net_excess, relevance_grades


@dataclass(frozen=True)
class RankingMetrics:
    timestamps: int
    rank_ic_mean: float
    rank_ic_tstat: float
    topk_minus_universe_net: float
    ndcg_at_k: float
    hit_rate: float

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def rank_ic(scores: pd.DataFrame, forward: pd.DataFrame) -> pd.Series:
    """Spearman correlation per timestamp over the pairs that have both values."""
    both = scores.notna() & forward.notna()
    s_rank = scores.where(both).rank(axis=1)
    f_rank = forward.where(both).rank(axis=1)
    s_dev = s_rank.sub(s_rank.mean(axis=1), axis=0)
    f_dev = f_rank.sub(f_rank.mean(axis=1), axis=0)
    denom = np.sqrt((s_dev**2).sum(axis=1) * (f_dev**2).sum(axis=1))
    ic = (s_dev * f_dev).sum(axis=1) / denom.where(denom > 0)
    return ic[both.sum(axis=1) >= 3]


def top_k_mask(scores: pd.DataFrame, k: int) -> pd.DataFrame:
    return scores.rank(axis=1, ascending=False, method="first") <= k


def evaluate(scores: pd.DataFrame, forward: pd.DataFrame, k: int, round_trip_fee_ratio: float,
             grades: int) -> RankingMetrics:
    """All figures on the rows where every metric is defined."""
    usable = (scores.notna() & forward.notna()).sum(axis=1) > k
    scores, forward = scores[usable].where(forward[usable].notna()), forward[usable]
    if scores.empty:
        return RankingMetrics(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    ic = rank_ic(scores, forward)
    top = top_k_mask(scores, k)
    excess = net_excess(forward, round_trip_fee_ratio)
    top_return = forward.where(top).mean(axis=1) - forward.mean(axis=1) - round_trip_fee_ratio
    return RankingMetrics(
        timestamps=len(scores),
        rank_ic_mean=float(ic.mean()),
        rank_ic_tstat=_tstat(ic),
        topk_minus_universe_net=float(top_return.mean()),
        ndcg_at_k=float(ndcg_at_k(scores, relevance_grades(forward, round_trip_fee_ratio,
                                                            grades), k).mean()),
        hit_rate=float((excess.where(top) > 0).sum().sum() / top.sum().sum()),
    )


def _tstat(values: pd.Series) -> float:
    values = values.dropna()
    if len(values) < 2 or values.std() == 0:
        return math.nan
    return float(values.mean() / (values.std() / math.sqrt(len(values))))


def ndcg_at_k(scores: pd.DataFrame, grades: pd.DataFrame, k: int) -> pd.Series:
    """NDCG@k per timestamp; timestamps where no pair has a positive grade are skipped."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    out = {}
    for when, row in scores.iterrows():
        gains = grades.loc[when]
        valid = row.notna() & gains.notna()
        ideal = np.sort(2.0 ** gains[valid].to_numpy() - 1)[::-1][:k]
        if ideal.sum() <= 0:
            continue
        order = row[valid].sort_values(ascending=False, kind="stable").index[:k]
        actual = 2.0 ** gains[order].to_numpy() - 1
        out[when] = float((actual * discounts[:len(actual)]).sum() /
                          (ideal * discounts[:len(ideal)]).sum())
    return pd.Series(out, dtype="float64")


def non_overlapping(index: pd.DatetimeIndex, horizon_candles: int,
                    timeframe_secs: int) -> pd.DatetimeIndex:
    """Timestamps one horizon apart, on a calendar grid (the same grid for every model)."""
    step = horizon_candles * timeframe_secs
    seconds = index.as_unit("s").asi8
    return index[seconds % step == 0]
