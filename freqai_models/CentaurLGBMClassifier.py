"""CentaurLGBMClassifier: freqtrade's per-pair LightGBMClassifier with sane threading by default.

Pairs with ``CentaurFeaturesMixin.centaur_target = "classification"`` (label "up" when the 4 h
forward return beats the round-trip fee). What it adds over stock is ``lgbm_defaults``.
"""

from __future__ import annotations

from typing import Any

from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.freqai.prediction_models.LightGBMClassifier import LightGBMClassifier

from freqai_models.lgbm_defaults import with_defaults


class CentaurLGBMClassifier(LightGBMClassifier):
    def fit(self, data_dictionary: dict, dk: FreqaiDataKitchen, **kwargs) -> Any:
        self.model_training_parameters = with_defaults(self.model_training_parameters)
        return super().fit(data_dictionary, dk, **kwargs)
