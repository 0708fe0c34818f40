"""Thin file for freqtrade's FreqAI model resolver: the model lives in `freqai_models`."""

from freqai_models.CentaurLGBMRegressor import CentaurLGBMRegressor as _CentaurLGBMRegressor


class CentaurLGBMRegressor(_CentaurLGBMRegressor):
    pass
