"""Thin file for freqtrade's FreqAI model resolver: the model lives in `freqai_models`."""

from freqai_models.CentaurLGBMClassifier import CentaurLGBMClassifier as _CentaurLGBMClassifier


class CentaurLGBMClassifier(_CentaurLGBMClassifier):
    pass
