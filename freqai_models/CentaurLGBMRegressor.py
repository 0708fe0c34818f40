"""CentaurLGBMRegressor: freqtrade's per-pair LightGBMRegressor with sane threading by default.

One model per pair per window, as stock FreqAI; what it adds is ``lgbm_defaults``
(single-threaded, deterministic, quiet unless configured). The report uses it as the per-pair
baseline for the pooled ranker.
"""

from __future__ import annotations

from typing import Any

from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.freqai.prediction_models.LightGBMRegressor import LightGBMRegressor

from freqai_models.lgbm_defaults import with_defaults


class CentaurLGBMRegressor(LightGBMRegressor):
    def fit(self, data_dictionary: dict, dk: FreqaiDataKitchen, **kwargs) -> Any:
        self.model_training_parameters = with_defaults(self.model_training_parameters)
        return super().fit(data_dictionary, dk, **kwargs)
