"""The FreqAI models under real ``freqtrade backtesting`` on the shared candles (walk-forward)."""

from __future__ import annotations

from pathlib import Path

import cloudpickle
import pandas as pd
import pytest
from freqtrade.data.btanalysis import load_backtest_analysis_data

from tests.support.freqtrade_run import backtest, write_config
from tests.support.paths import PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT"]
TIMERANGE = "20250605-20250618"  # inside one 14-day pooled window (calendar grid), end candle too
MODELS = {"freqaimodel_path": str(PROJECT_ROOT / "user_data" / "freqaimodels")}


def _config(directory: Path, **freqai) -> Path:
    return write_config(directory, "freqai.json", {
        **MODELS, "exchange": {"pair_whitelist": PAIRS}, "max_open_trades": 2,
        "freqai": freqai,
        "centaur": {"models": {"ranker": {"universe": PAIRS, "top_k": 1, "bottom_k": 1,
                                          "n_estimators": 60}}}}, freqai=True)


def _signals(directory: Path) -> dict[str, pd.DataFrame]:
    """The analysed candles of every entry, read with freqtrade's own loader."""
    archive = max((directory / "backtest_results").glob("*.zip"), key=lambda p: p.stat().st_mtime)
    return load_backtest_analysis_data(archive, "signals")["CentaurRanker"]


def _models(directory: Path) -> Path:
    return directory / "user_data" / "models" / "centaur-ranker"


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ranker_bt")
    config = _config(directory)
    first = backtest(directory, config, timerange=TIMERANGE, strategy="CentaurRanker",
                     extra_args=["--export", "signals"])
    signals = _signals(directory)
    stamps = {p: p.stat().st_mtime_ns for pattern in ("model.txt", "*_prediction.feather")
              for p in _models(directory).rglob(pattern)}
    second = backtest(directory, config, timerange=TIMERANGE, strategy="CentaurRanker")
    return directory, first, second, stamps, signals


def test_one_pooled_model_serves_every_pair_of_the_window(ranked):
    directory, first, _, _, _ = ranked
    pooled = list((_models(directory) / "pooled").glob("*/*/model.txt"))
    assert len(pooled) == 1, pooled
    handles = sorted(_models(directory).glob("sub-train-*/*_model.joblib"))
    assert len(handles) == len(PAIRS)
    keys = set()
    for path in handles:
        with path.open("rb") as fp:
            keys.add(cloudpickle.load(fp).window_keys)
    assert len(keys) == 1 and int(pooled[0].parent.name) in next(iter(keys))


def test_entries_follow_the_rank_and_the_gate(ranked):
    _, first, _, _, signals = ranked
    assert len(first.trades) >= 20
    for trade in first.trades:
        candles = signals[trade["pair"]]
        row = candles[candles["date"] == pd.Timestamp(trade["open_date"]) - pd.Timedelta(
            minutes=5)].iloc[0]
        assert row["ranker_tradeable"] == 1 and row["drift_blocked"] == 0
        if trade["is_short"]:
            assert trade["enter_tag"] == "ranker_bottom"
            assert row["ranker_rank"] == row["ranker_universe"] == len(PAIRS)
        else:
            assert trade["enter_tag"] == "ranker_top" and row["ranker_rank"] == 1
        assert 0 < row["garch_sigma"] < 0.05
        assert pd.isna(row["ob_imbalance"])  # live-only input: never filled in a backtest
        assert row["regime_vol"] in {"low", "normal", "high", "extreme"}


def test_rerunning_the_unchanged_backtest_reuses_models_and_predictions(ranked):
    _, first, second, stamps, _ = ranked
    assert stamps and all(path.stat().st_mtime_ns == ns for path, ns in stamps.items())
    predictions = [p for p in stamps if p.parent.name == "backtesting_predictions"]
    assert predictions, "the first run saved no backtesting predictions to reuse"
    assert [(t["pair"], t["open_date"], t["close_date"]) for t in second.trades] == \
        [(t["pair"], t["open_date"], t["close_date"]) for t in first.trades]


def test_per_pair_regressor_leaf_trains_single_threaded_under_freqtrade(tmp_path):
    config = _config(tmp_path, identifier="leaf")
    backtest(tmp_path, config, timerange=TIMERANGE, strategy="CentaurRanker",
             extra_args=["--freqaimodel", "CentaurLGBMRegressor"])
    models = sorted((tmp_path / "user_data" / "models" / "leaf").glob("sub-train-*/*_model.joblib"))
    assert len(models) == len(PAIRS)
    with models[0].open("rb") as fp:
        model = cloudpickle.load(fp)
    assert type(model).__name__ == "LGBMRegressor" and model.n_jobs == 1
    assert model.n_features_in_ >= 80
