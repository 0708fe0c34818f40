"""The models report's statistics: HAC t-statistics, the Bonferroni call, both tails measured."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.models_report_stats import (
    hac_lags,
    hac_test,
    naive_t,
    per_timestamp,
    significance,
)


def _ar1(phi: float, n: int, mean: float, seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n)
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + noise[i]
    return pd.Series(mean + x)


def test_strong_positive_autocorrelation_gives_a_smaller_hac_t_than_the_naive_t():
    series = _ar1(0.9, 600, 0.3)
    test = hac_test(series, lags=48, tests=1)
    assert abs(test["hac_t"]) < abs(naive_t(series)) / 2
    assert test["naive_t"] == round(naive_t(series), 3)


def test_independent_values_keep_about_the_naive_t():
    series = pd.Series(np.random.default_rng(5).normal(0.1, 1.0, 2000))
    test = hac_test(series, lags=hac_lags(48, 48, len(series)), tests=1)
    assert abs(test["hac_t"] - test["naive_t"]) < 0.2 * abs(test["naive_t"])


def test_lags_cover_the_rows_one_label_spans_or_the_plug_in():
    assert hac_lags(48, 1, 5000) == 48  # a 4 h label measured every 5m candle
    assert hac_lags(48, 48, 168) == 4  # non-overlapping rows: Newey-West's plug-in
    assert hac_lags(48, 48, 1) == 1


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    index = pd.date_range("2025-01-01", periods=4, freq="4h", tz="UTC")
    forward = pd.DataFrame([[0.03, 0.02, 0.01, -0.01, -0.02]] * 4, index=index,
                           columns=list("ABCDE"))
    return forward.copy(), forward  # scores = the realised returns: a perfect ranking


def test_both_tails_are_measured_after_the_fee():
    scores, forward = _frames()
    series = per_timestamp(scores, forward, top_k=2, bottom_k=2, round_trip_fee_ratio=0.001)
    universe = 0.006
    assert np.allclose(series["rank_ic"], 1.0)
    assert np.allclose(series["topk_minus_universe_net"], 0.025 - universe - 0.001)
    assert np.allclose(series["universe_minus_bottomk_net"], universe + 0.015 - 0.001)


def test_every_model_is_reported_and_the_call_is_bonferroni_corrected():
    strong = pd.Series(np.random.default_rng(1).normal(0.5, 1.0, 300))
    noise = pd.Series(np.random.default_rng(2).normal(0.0, 1.0, 300))
    noise -= noise.mean()
    lags = hac_lags(48, 48, len(noise))
    marginal = noise + 2.2 * hac_test(noise + 1.0, lags, 1)["hac_se"]  # HAC t = 2.2
    series = {"a": {"rank_ic": strong}, "b": {"rank_ic": marginal}, "c": {"rank_ic": -strong}}
    result = significance(series, horizon_candles=48, spacing_candles=48)
    assert result["models_tried"] == 3 and result["tests"] == 3
    assert set(result["by_model"]) == {"a", "b", "c"}  # none dropped, none singled out
    b = result["by_model"]["b"]["rank_ic"]
    assert 0.05 / 3 < b["p_two_sided"] < 0.05  # "significant" alone, not after 3 tries
    assert not b["significant_bonferroni"]
    assert result["by_model"]["a"]["rank_ic"]["significant_bonferroni"]
    assert result["by_model"]["c"]["rank_ic"]["significant_bonferroni"]
