"""The drift gate: blocks on a real regime change, stays quiet in distribution, fails closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.settings.models import DriftSettings, GarchSettings
from centaur.state import StateStore
from freqai_models import drift
from freqai_models.candle_source import DatadirSource
from research.drift_study import gate_study
from freqai_models.features import compute_features
from freqai_models.model_columns import DriftEvents, gate_columns
from tests.support.paths import BINANCE_DATA


PAIRS = ("BTC/USDT:USDT", "SOL/USDT:USDT")


@pytest.fixture(scope="module")
def features() -> dict[str, pd.DataFrame]:
    """Real 5m features, warmed up from 2025-07-01, to 2025-10-16 (the cascade at the end)."""
    source = DatadirSource(BINANCE_DATA)
    inputs = {pair: source.inputs(pair, pd.Timestamp("2025-06-21", tz="UTC"),
                                  pd.Timestamp("2025-10-16", tz="UTC")) for pair in PAIRS}
    computed = compute_features(inputs, GarchSettings(), 300)
    return {pair: frame.set_axis(pd.DatetimeIndex(inputs[pair].candles["date"]))
            for pair, frame in computed.items()}


def _span(frame: pd.DataFrame, start: str, stop: str) -> pd.DataFrame:
    return frame[(frame.index >= pd.Timestamp(start, tz="UTC"))
                 & (frame.index < pd.Timestamp(stop, tz="UTC"))]


@pytest.mark.parametrize("pair", PAIRS)
def test_gate_blocks_most_of_the_week_of_the_real_2025_10_10_cascade(features, pair):
    study = gate_study(_span(features[pair], "2025-09-09", "2025-10-09"),
                       _span(features[pair], "2025-10-09", "2025-10-16"), DriftSettings())
    assert study.blocked_share > 0.5, study
    assert study.max_drifted_features >= DriftSettings().min_drifted_features
    assert {"rv_288", "rv_2016"} & {name for name, _ in study.top_features}


@pytest.mark.parametrize("pair", PAIRS)
def test_gate_stays_quiet_on_a_held_out_week_of_the_same_regime(features, pair):
    frame = features[pair]
    reference = pd.concat([_span(frame, "2025-07-01", "2025-07-15"),
                           _span(frame, "2025-07-22", "2025-08-07")])
    study = gate_study(reference, _span(frame, "2025-07-15", "2025-07-22"), DriftSettings())
    assert study.blocked_share < 0.1, study


def test_calibrated_thresholds_never_go_below_the_configured_ones(features):
    cfg = DriftSettings()
    ref = drift.fit_reference(_span(features["BTC/USDT:USDT"], "2025-08-01", "2025-09-01"), cfg)
    assert (ref.psi_max >= cfg.psi_max).all() and (ref.ks_p_min <= cfg.ks_p_min).all()
    assert (ref.cusum_max >= cfg.cusum_max_sigma).all()
    plain = drift.fit_reference(_span(features["BTC/USDT:USDT"], "2025-08-01", "2025-09-01"),
                                cfg.model_copy(update={"calibrate_on_training": False}))
    assert (plain.psi_max == cfg.psi_max).all()


def test_a_breach_names_the_features_the_tests_and_the_statistics(features):
    cfg = DriftSettings()
    frame = features["SOL/USDT:USDT"]
    ref = drift.fit_reference(_span(frame, "2025-09-09", "2025-10-09"), cfg)
    test = _span(frame, "2025-10-09", "2025-10-16").to_numpy()
    rows = np.arange(cfg.window_candles - 1, len(test), cfg.check_every_candles)
    decision = drift.decide(ref, drift.run_checks(ref, test, rows, 0, cfg), cfg)
    reason = next(r for r, b in zip(decision.reasons, decision.blocked, strict=True) if b)
    assert reason.startswith(f"[{ReasonCode.DRIFT_BLOCK}]")
    assert any(f"{code}=" in reason for code in (ReasonCode.DRIFT_PSI, ReasonCode.DRIFT_KS,
                                                 ReasonCode.DRIFT_CUSUM))


def test_a_feature_that_goes_missing_counts_as_drifted():
    rng = np.random.default_rng(11)
    train = pd.DataFrame(rng.normal(size=(2000, 6)), columns=list("abcdef"))
    cfg = DriftSettings(min_drifted_features=2)
    ref = drift.fit_reference(train, cfg)
    live = rng.normal(size=(600, 6))
    live[300:, :3] = np.nan
    checks = drift.run_checks(ref, live, np.arange(287, 600, 12), 0, cfg)
    decision = drift.decide(ref, checks, cfg)
    assert not decision.blocked[0] and decision.blocked[-1]
    assert "missing values" in decision.reasons[-1]


@settings(max_examples=25, deadline=None)
@given(st.floats(-2.0, 2.0), st.floats(0.3, 3.0), st.integers(0, 10_000))
def test_psi_and_ks_are_zero_and_one_on_the_reference_itself_and_grow_with_a_shift(
        shift, scale, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(3000, 1))
    cfg = DriftSettings(calibrate_on_training=False)
    ref = drift.fit_reference(pd.DataFrame(values, columns=["x"]), cfg)
    rows = np.array([2999])
    same = drift.run_checks(ref, values, rows, 0, cfg)
    moved = drift.run_checks(ref, values * scale + shift + 4.0, rows, 0, cfg)
    assert moved.psi[0, 0] > same.psi[0, 0] and moved.ks_p[0, 0] < 1e-6
    assert moved.cusum[0, 0] > cfg.cusum_max_sigma


def test_strategy_side_gate_is_closed_without_a_prediction_and_events_fire_once():
    dates = pd.date_range("2025-10-10", periods=6, freq="5min", tz="UTC")
    frame = pd.DataFrame({
        "date": dates, "do_predict": [1, 1, 1, 1, 0, 1],
        "ranker_score": [0.1] * 6, "ranker_rank": [1.0] * 6, "ranker_universe": [8.0] * 6,
        "drift_blocked": [0, 1, 1, 0, 0, 1], "drift_features": [0, 6, 6, 0, 0, 5],
        "drift_reason": ["", "[DRIFT_BLOCK] rv_288: DRIFT_PSI=9.1", "[DRIFT_BLOCK] x", "", "",
                         "[DRIFT_BLOCK] y"]})
    gated = gate_columns(frame.copy())
    assert gated["drift_blocked"].tolist() == [0, 1, 1, 0, 1, 1]
    assert gated["ranker_tradeable"].tolist() == [1, 0, 0, 1, 0, 0]
    assert np.isnan(gated["ranker_rank"].iloc[4])
    bare = gate_columns(frame[["date"]].copy())
    assert (bare["drift_blocked"] == 1).all() and (bare["ranker_tradeable"] == 0).all()
    sink, events = EventSink(StateStore()), DriftEvents()
    first = events.emit(gated, "BTC/USDT:USDT", sink)
    assert [e.time for e in first] == [dates[1].to_pydatetime()]
    assert first[0].code == ReasonCode.DRIFT_BLOCK and "rv_288" in first[0].message
    assert events.emit(gated, "BTC/USDT:USDT", sink) == []  # analysed again: nothing new
    assert len(sink.recent()) == 1
