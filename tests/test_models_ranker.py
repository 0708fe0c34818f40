"""The pooled ranker: real LightGBM lambdarank training on real candles, one model per window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMRanker

from centaur.settings.models import ModelsSettings
from freqai_models.candle_source import DatadirSource
from freqai_models.labels import relevance_grades
from freqai_models.metrics import evaluate, non_overlapping, rank_ic
from freqai_models.panel import training_rows
from freqai_models.pair_features import PairInputs
from freqai_models.panel_sources import DatadirPanels, FramePanels
from freqai_models.ranker import ranker_params
from freqai_models.ranker_engine import PooledRankerEngine, do_predict
from freqai_models.schedule import Window, boundary_at
from freqai_models.window_store import WindowStore
from tests.support.paths import BINANCE_DATA


PAIRS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT")
PERIOD, TRAIN = pd.Timedelta(days=7), pd.Timedelta(days=14)
START = pd.Timestamp("2025-05-08", tz="UTC")  # a 7-day grid boundary (Unix epoch + k weeks)
STOP = START + 2 * PERIOD
SETTINGS = ModelsSettings.model_validate({"ranker": {"universe": list(PAIRS), "n_estimators": 60}})


def _engine(root, stop: pd.Timestamp = STOP) -> PooledRankerEngine:
    panels = DatadirPanels(DatadirSource(BINANCE_DATA), PAIRS, SETTINGS, TRAIN + PERIOD, stop)
    return PooledRankerEngine(SETTINGS, WindowStore(root, "test"), panels, PERIOD, TRAIN)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pooled")
    engine = _engine(root)
    dates = pd.Series(pd.date_range(START, STOP, freq="5min", tz="UTC", inclusive="left"))
    frames = {pair: engine.predictions(pair, dates, STOP) for pair in PAIRS}
    return root, engine, dates, frames


@pytest.mark.slow
def test_one_pooled_model_per_window_is_trained_and_shared_by_every_pair(run):
    root, engine, _, _ = run
    assert START == boundary_at(START, PERIOD)
    assert engine.trainings == 2  # two windows, four pairs: not eight models
    folders = sorted((root / "pooled" / "test").iterdir())
    assert [int(f.name) for f in folders] == [engine.window(START).key,
                                              engine.window(START + PERIOD).key]
    assert all((f / "model.txt").is_file() and (f / "predictions.feather").is_file()
               for f in folders)


@pytest.mark.slow
def test_a_later_run_reuses_the_saved_windows_without_training(run):
    root, _, dates, frames = run
    again = _engine(root)
    for pair in PAIRS:
        pd.testing.assert_frame_equal(again.predictions(pair, dates, STOP), frames[pair])
    assert again.trainings == 0


@pytest.mark.slow
def test_every_candle_ranks_all_pairs_once(run):
    _, _, _, frames = run
    ranks = pd.DataFrame({pair: frame["ranker_rank"] for pair, frame in frames.items()})
    assert ranks.notna().all().all()
    assert (np.sort(ranks.to_numpy(), axis=1) == np.arange(1, len(PAIRS) + 1)).all()
    assert all((frame["ranker_universe"] == len(PAIRS)).all() for frame in frames.values())


@pytest.mark.slow
def test_predictions_at_t_use_only_data_up_to_t(run, tmp_path):
    """Rebuild from data that ends mid-window: every earlier candle gets the same answer."""
    _, _, dates, frames = run
    cut = START + PERIOD + pd.Timedelta(days=3)
    short = _engine(tmp_path, stop=cut)
    before = dates[dates < cut]
    for pair in PAIRS:
        truncated = short.predictions(pair, before, cut)
        pd.testing.assert_frame_equal(truncated, frames[pair].iloc[:len(before)])


def test_training_rows_are_hourly_queries_with_labels_closed_before_the_boundary():
    engine = _engine_for_rows()
    window = engine.window(START)
    rows = training_rows(engine.panels(window.train_start, window.stop), window, SETTINGS)
    dates = rows.dates
    assert dates.max() <= window.boundary - pd.Timedelta(minutes=5 * 49)
    assert (dates.minute == 0).all() and dates.min() >= window.train_start
    assert rows.groups.sum() == len(rows.grades) and (rows.groups == len(PAIRS)).all()
    assert set(np.unique(rows.grades)) <= set(range(SETTINGS.ranker.relevance_grades))


def _engine_for_rows() -> PooledRankerEngine:
    panels = DatadirPanels(DatadirSource(BINANCE_DATA), PAIRS, SETTINGS, TRAIN + PERIOD, STOP)
    return PooledRankerEngine(SETTINGS, WindowStore(pd.io.common.Path("/nonexistent"), "x"),
                              panels, PERIOD, TRAIN)


def test_candles_without_a_model_are_blocked_not_guessed(tmp_path):
    engine = _engine(tmp_path)
    early = pd.Series(pd.date_range("2025-01-02", periods=3, freq="5min", tz="UTC"))
    frame = engine.predictions("BTC/USDT:USDT", early, STOP)
    assert frame["ranker_score"].isna().all() and (frame["drift_blocked"] == 1).all()
    assert (do_predict(frame) == 0).all()
    assert frame["drift_reason"].str.contains("MODEL_UNAVAILABLE").all()


def test_live_retraining_follows_live_retrain_hours(tmp_path):
    engine = _engine(tmp_path)
    now = pd.Timestamp("2025-05-20 10:00", tz="UTC")
    every = pd.Timedelta(hours=24)
    first = engine.live_window(now, every, None)
    assert first.boundary == now and first.period == every
    assert engine.live_window(now + pd.Timedelta(hours=23), every, first) is first
    later = engine.live_window(now + pd.Timedelta(hours=25), every, first)
    assert later.boundary == now + pd.Timedelta(hours=25)


@pytest.mark.slow
def test_metrics_of_a_perfect_and_a_reversed_score(run):
    _, engine, _, frames = run
    panel = engine.panels(engine.window(START).train_start, STOP)
    forward = panel.forward.loc[START:STOP - pd.Timedelta(hours=5)]
    stamps = non_overlapping(pd.DatetimeIndex(forward.index), 48, 300)
    forward = forward.loc[stamps]
    perfect = evaluate(forward, forward, 1, 0.0, 4)
    reversed_ = evaluate(-forward, forward, 1, 0.0, 4)
    assert perfect.rank_ic_mean == pytest.approx(1.0) and perfect.ndcg_at_k == pytest.approx(1.0)
    assert reversed_.rank_ic_mean == pytest.approx(-1.0) and reversed_.hit_rate <= 0.5
    assert rank_ic(forward * 3 + 1, forward).round(12).eq(1.0).all()


def test_window_grid_is_anchored_to_the_calendar_not_to_the_run():
    a = Window(boundary_at(pd.Timestamp("2025-05-09 13:00", tz="UTC"), PERIOD), PERIOD, TRAIN)
    b = Window(boundary_at(pd.Timestamp("2025-05-14 23:55", tz="UTC"), PERIOD), PERIOD, TRAIN)
    assert a == b and a.boundary == START and a.train_start == START - TRAIN


@pytest.mark.slow
def test_live_path_trains_once_then_ranks_every_pair_on_each_new_candle(tmp_path):
    """Live: FreqAI hands over history up to 'now'; one pooled model serves all pairs."""
    source = DatadirSource(BINANCE_DATA)
    now = pd.Timestamp("2025-06-12 10:00", tz="UTC")
    history = {pair: source.inputs(pair, now - TRAIN - pd.Timedelta(days=9), now + PERIOD)
               for pair in PAIRS}
    clock = {"now": now}

    def frames():
        return {pair: PairInputs(pair, item.candles[item.candles["date"] < clock["now"]],
                                 item.funding, item.spot) for pair, item in history.items()}

    engine = PooledRankerEngine(SETTINGS, WindowStore(tmp_path, "live"),
                                FramePanels(frames, SETTINGS, 300), PERIOD, TRAIN)
    window = engine.live_window(now, pd.Timedelta(hours=24), None)
    engine.live_train(window)
    for step in range(2):
        clock["now"] = now + pd.Timedelta(minutes=5 * (step + 1))
        latest = pd.Series([clock["now"] - pd.Timedelta(minutes=5)])
        rows = [engine.live_predictions(pair, window, latest) for pair in PAIRS]
        assert sorted(row["ranker_rank"].iloc[0] for row in rows) == [1.0, 2.0, 3.0, 4.0]
        assert all(row["ranker_universe"].iloc[0] == len(PAIRS) for row in rows)
    assert engine.trainings == 1
    assert (tmp_path / "pooled" / "live" / str(window.key) / "model.txt").is_file()


def test_the_bottom_of_the_universe_is_trained_for_the_shorts():
    """Synthetic queries of 8 pairs: feature a sorts winners from losers, and among the losers
    only feature b orders them. Graded on the whole cross-section, the ranker learns b: its
    bottom 2 (the shorts) find the true worst 2 well above chance; graded as before (every
    pair below the universe mean + fee = 0) it could not, since b never moved a label."""
    rng = np.random.default_rng(0)
    pairs, queries = 8, 1500

    def synthetic(n):
        a, b = rng.normal(size=(n, pairs)), rng.normal(size=(n, pairs))
        up = a > np.median(a, axis=1, keepdims=True)
        return np.stack([a, b], -1), np.where(up, 0.02 + 0.01 * a, -0.02 + 0.01 * b)

    features, forward = synthetic(queries)
    test_features, test_forward = synthetic(300)
    settings = ModelsSettings.model_validate({"ranker": {
        "n_estimators": 60, "num_leaves": 7, "min_child_samples": 20}}).ranker

    def bottom_two_hit(grades: pd.DataFrame) -> float:
        model = LGBMRanker(**ranker_params(settings))
        model.fit(features.reshape(-1, 2), grades.to_numpy(int).reshape(-1),
                  group=[pairs] * queries)
        scores = model.predict(test_features.reshape(-1, 2)).reshape(-1, pairs)
        worst = np.argsort(test_forward, axis=1)[:, :2]
        picked = np.argsort(scores, axis=1)[:, :2]
        return float(np.mean([len(set(w) & set(p)) / 2 for w, p in zip(worst, picked)]))

    forward_frame = pd.DataFrame(forward)
    both_tails = bottom_two_hit(relevance_grades(forward_frame, 0.001, 4))
    excess = forward_frame.sub(forward_frame.mean(axis=1), axis=0) - 0.001
    top_only = np.ceil(excess.where(excess > 0).rank(axis=1, pct=True) * 3).fillna(0.0)
    assert both_tails > bottom_two_hit(top_only) + 0.05
    assert both_tails > 0.55  # chance, once the losers are known: 0.5
