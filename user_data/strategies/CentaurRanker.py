"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.CentaurRanker import CentaurRanker as _CentaurRanker


class CentaurRanker(_CentaurRanker):
    pass
