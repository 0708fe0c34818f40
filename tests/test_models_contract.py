"""Contract: the FreqAI internals the pooled ranker relies on, pinned by name.

``CentaurLGBMRanker`` overrides ``train``/``predict`` of FreqAI's base and reads a few names
FreqAI sets around them. A freqtrade upgrade that moves one of them fails here, naming it,
instead of silently training per pair or saving a broken model.
"""

from __future__ import annotations

import inspect

import pytest
from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel
from freqtrade.freqai.data_drawer import FreqaiDataDrawer
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.freqai.freqai_interface import IFreqaiModel


def _source(function) -> str:
    return inspect.getsource(function)


@pytest.mark.parametrize(("function", "needle", "why"), [
    (IFreqaiModel.start_backtesting, "self.training_timerange = tr_train",
     "train() reads the FreqAI window it is asked for"),
    (IFreqaiModel.start_backtesting, "self.model = self.train(dataframe_train, pair, dk)",
     "train() returns the handle FreqAI saves as the pair's model"),
    (IFreqaiModel.start_backtesting, "check_if_backtest_prediction_is_valid",
     "FreqAI reuses saved predictions on an unchanged rerun"),
    (IFreqaiModel.start, "self.data_provider = strategy.dp", "live frames come from the dp"),
    (FreqaiDataDrawer.save_data, 'dk.data_dictionary["train_features"]',
     "train() leaves an empty train_features frame for save_data"),
    (FreqaiDataDrawer.save_data, 'dk.data_dictionary["train_dates"]',
     "train() leaves an empty train_dates series for save_data"),
    (FreqaiDataDrawer.append_model_predictions, 'dk.data["labels_mean"][label]',
     "every numeric prediction column needs a labels_mean entry live"),
    (FreqaiDataDrawer.update_historic_data, "history_data[pair][tf] = pd.concat(",
     "live pooled training reads dd.historic_data"),
    (FreqaiDataKitchen.fill_predictions, "fillna(value=0)",
     "rows before the backtest get 0: the strategy gate treats do_predict 0 as blocked"),
])
def test_freqai_internal_the_ranker_relies_on(function, needle, why):
    assert needle in _source(function), f"{function.__qualname__} changed: {why}"


def test_base_regression_model_signatures():
    assert list(inspect.signature(BaseRegressionModel.train).parameters) == [
        "self", "unfiltered_df", "pair", "dk", "kwargs"]
    assert list(inspect.signature(BaseRegressionModel.predict).parameters) == [
        "self", "unfiltered_df", "dk", "kwargs"]
    assert list(inspect.signature(IFreqaiModel.__init__).parameters) == ["self", "config"]
