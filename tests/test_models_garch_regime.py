"""GARCH(1,1)-t forecasts with real ``arch`` fits, their fallbacks, and the regime labels."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.decision import ReasonCode
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.models import GarchSettings, RegimeSettings
from freqai_models.candle_source import DatadirSource
from freqai_models.garch import GarchFit, fit_garch, garch_sigma
from freqai_models.regime import classify_vol, regime_columns, risk_knobs
from tests.support.paths import BINANCE_DATA


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    source = DatadirSource(BINANCE_DATA)
    return source.inputs("BTC/USDT:USDT", pd.Timestamp("2025-09-01", tz="UTC"),
                         pd.Timestamp("2025-10-20", tz="UTC")).candles


@pytest.fixture(scope="module")
def sigma(btc):
    return garch_sigma(btc["date"], btc["close"], GarchSettings(), "BTC/USDT:USDT", 300)


def test_forecast_sigma_is_positive_finite_and_calibrated_on_real_returns(btc, sigma):
    assert np.isnan(sigma.sigma[0]) and np.isfinite(sigma.sigma[1:]).all()
    assert (sigma.sigma[1:] > 0).all()
    later = slice(4000, None)  # past the first fits
    assert sigma.fallback[later].sum() == 0, sigma.reasons
    following = np.log(btc["close"]).diff().shift(-1).to_numpy()[later]
    standardised = following[:-1] / sigma.sigma[later][:-1]
    assert 0.8 < np.nanstd(standardised) < 1.25


def test_sigma_rises_into_the_2025_10_10_cascade(btc, sigma):
    dates = pd.DatetimeIndex(btc["date"])
    before = sigma.sigma[(dates >= "2025-10-01") & (dates < "2025-10-08")].mean()
    during = sigma.sigma[(dates >= "2025-10-10 21:00") & (dates < "2025-10-11 03:00")].mean()
    assert during > 3 * before


def test_sigma_at_t_needs_no_candle_after_t(btc, sigma):
    for cut in (5000, 9000, 12345):
        again = garch_sigma(btc["date"].iloc[:cut + 1], btc["close"].iloc[:cut + 1],
                            GarchSettings(), "BTC", 300)
        assert again.sigma[cut] == pytest.approx(sigma.sigma[cut], rel=1e-12)


def test_sigma_does_not_depend_on_where_the_history_starts(btc, sigma):
    """A calendar refit grid and cold starts every 2 weeks: later starts converge exactly."""
    late = garch_sigma(btc["date"].iloc[3000:], btc["close"].iloc[3000:], GarchSettings(),
                       "BTC", 300)
    tail = slice(len(btc) - 2000, None)
    np.testing.assert_array_equal(late.sigma[-2000:], sigma.sigma[tail])


def test_warm_start_reaches_the_cold_fit_optimum_on_real_returns(btc):
    returns = np.log(btc["close"]).diff().to_numpy()[1:]
    cfg = GarchSettings()
    first = fit_garch(returns[:2016], cfg)
    cold = fit_garch(returns[576:2592], cfg)
    warm = fit_garch(returns[576:2592], cfg, start=first)
    assert first.fallback is None and cold.fallback is None and warm.fallback is None
    assert warm.alpha + warm.beta == pytest.approx(cold.alpha + cold.beta, abs=0.01)
    assert warm.nu == pytest.approx(cold.nu, rel=0.1)


def test_flat_series_falls_back_to_ewma_with_a_logged_reason(caplog):
    dates = pd.Series(pd.date_range("2025-01-01", periods=3000, freq="5min", tz="UTC"))
    close = pd.Series(np.full(3000, 100.0))
    with caplog.at_level(logging.WARNING, logger="freqai_models.garch"):
        result = garch_sigma(dates, close, GarchSettings(), "FLAT/USDT:USDT", 300)
    assert result.fallback.all()
    assert np.isfinite(result.sigma[1:]).all() and (result.sigma[1:] == 0).all()
    assert result.reasons["degenerate series"] > 0
    assert any(str(ReasonCode.GARCH_FALLBACK) in r.message for r in caplog.records)


def test_too_few_returns_and_bad_fits_are_marked_not_used():
    cfg = GarchSettings()
    short = fit_garch(np.random.default_rng(7).normal(0, 1e-3, 100), cfg)
    assert short.fallback and short.fallback.startswith("too few returns")
    assert isinstance(short, GarchFit) and short.beta == pytest.approx(0.97)


def test_garch_settings_reject_a_cold_grid_off_the_refit_grid():
    with pytest.raises(CentaurConfigError, match="cold_start_every_candles"):
        settings_from({"centaur": {"models": {"garch": {"refit_every_candles": 500}}}})


SEED_TABLE = [(2.5, "extreme", 0.25, 2.0), (1.6, "high", 0.5, 1.5), (0.3, "low", 1.0, 0.75),
              (1.0, "normal", 1.0, 1.0), (np.nan, "extreme", 0.25, 2.0)]


@pytest.mark.parametrize(("ratio", "regime", "scale", "stop"), SEED_TABLE)
def test_regime_mapping_follows_the_seed_numbers(ratio, regime, scale, stop):
    cfg = RegimeSettings()
    label = classify_vol(np.array([ratio]), cfg)
    knobs = risk_knobs(label, cfg)
    assert (label[0], knobs[0][0], knobs[1][0]) == (regime, scale, stop)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 10.0, allow_nan=False))
def test_more_volatility_never_means_a_bigger_position(ratio):
    cfg = RegimeSettings()
    scale_here = risk_knobs(classify_vol(np.array([ratio]), cfg), cfg)[0][0]
    scale_higher = risk_knobs(classify_vol(np.array([ratio * 1.5 + 0.01]), cfg), cfg)[0][0]
    assert scale_higher <= scale_here or ratio < cfg.low_vol_ratio


def test_real_cascade_shrinks_positions_and_the_labels_use_completed_hours_only(btc):
    cfg = RegimeSettings()
    columns = regime_columns(btc, cfg, 300).set_index(pd.DatetimeIndex(btc["date"]))
    calm = columns.loc["2025-10-10 20:00":"2025-10-10 20:50"]
    assert (calm["regime_vol"] == "normal").all()  # the hour before the cascade
    after = columns.loc["2025-10-10 20:55":"2025-10-11 06:00"]  # from the close at 21:00
    assert (after["regime_vol"] == "high").all() and (after["regime_position_scale"] == 0.5).all()
    assert (after["regime_stop_multiplier"] == 1.5).all()
    columns = columns.reset_index(drop=True)
    at = pd.DatetimeIndex(btc["date"]).get_loc(pd.Timestamp("2025-10-10 22:00", tz="UTC"))
    assert set(columns["regime_trend"]) <= {"trending", "ranging"}
    cut = regime_columns(btc.iloc[:at + 1], cfg, 300)
    pd.testing.assert_series_equal(cut.iloc[at], columns.iloc[at], check_names=False)


def test_regime_thresholds_out_of_order_are_a_config_error_naming_the_keys():
    with pytest.raises(CentaurConfigError, match="low_vol_ratio < high_vol_ratio"):
        settings_from({"centaur": {"models": {"regime": {"high_vol_ratio": 3.0}}}})
