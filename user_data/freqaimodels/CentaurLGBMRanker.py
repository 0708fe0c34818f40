"""Thin file for freqtrade's FreqAI model resolver: the model lives in `freqai_models`."""

from freqai_models.CentaurLGBMRanker import CentaurLGBMRanker as _CentaurLGBMRanker


class CentaurLGBMRanker(_CentaurLGBMRanker):
    pass
