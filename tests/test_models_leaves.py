"""Per-pair leaves through FreqAI's own training path (data kitchen, pipelines, fit)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

from centaur.settings.models import GarchSettings
from freqai_models.candle_source import DatadirSource
from freqai_models.CentaurLGBMClassifier import CentaurLGBMClassifier
from freqai_models.CentaurLGBMRegressor import CentaurLGBMRegressor
from freqai_models.features import compute_features
from freqai_models.features_mixin import CLASSIFICATION_TARGET, REGRESSION_TARGET
from freqai_models.labels import forward_log_return
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIR = "ETH/USDT:USDT"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """FreqAI's training frame for one pair: 5m rows, ``%`` features, both targets."""
    source = DatadirSource(BINANCE_DATA)
    universe = {pair: source.inputs(pair, pd.Timestamp("2025-04-01", tz="UTC"),
                                    pd.Timestamp("2025-04-20", tz="UTC"))
                for pair in (PAIR, "BTC/USDT:USDT")}  # BTC context features need BTC
    inputs = universe[PAIR]
    features = compute_features(universe, GarchSettings(), 300)[PAIR]
    out = features.add_prefix("%-")
    forward = forward_log_return(inputs.candles["close"], 48)
    out[REGRESSION_TARGET] = forward
    out[CLASSIFICATION_TARGET] = np.where(forward > 0.001, "up", "down")
    out.loc[forward.isna(), CLASSIFICATION_TARGET] = np.nan
    out.insert(0, "date", inputs.candles["date"])
    return out.iloc[2400:].reset_index(drop=True)


def _config(tmp_path) -> dict:
    config = json.loads((PROJECT_ROOT / "config" / "freqai.json").read_text())
    config.update({"user_data_dir": tmp_path, "timerange": "20250410-20250420",
                   "config_files": [str(PROJECT_ROOT / "config" / "freqai.json")],
                   "runmode": "backtest"})
    config["freqai"]["model_training_parameters"] = {"n_estimators": 40}
    return config


@pytest.mark.parametrize(("model_class", "target", "drop"), [
    (CentaurLGBMRegressor, REGRESSION_TARGET, CLASSIFICATION_TARGET),
    (CentaurLGBMClassifier, CLASSIFICATION_TARGET, REGRESSION_TARGET),
])
def test_leaf_trains_single_threaded_and_predicts(frame, tmp_path, model_class, target, drop):
    config = _config(tmp_path)
    model = model_class(config=config)
    model.live = False
    data = frame.drop(columns=[drop])
    dk = FreqaiDataKitchen(config, False, PAIR)
    dk.find_features(data)
    dk.find_labels(data)
    fitted = model.train(data, PAIR, dk)
    assert fitted.n_jobs == 1 and fitted.get_params()["deterministic"] is True
    # FreqAI's pipeline drops the features constant in this window (basis_available = 1 ...)
    assert 80 <= fitted.n_features_in_ <= len(dk.training_features_list)
    model.model = fitted
    predictions, do_predict = model.predict(data.tail(50), dk)
    assert len(predictions) == 50 and do_predict.sum() > 0
    assert target in predictions.columns
