"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.CentaurEnsemble import CentaurEnsemble as _CentaurEnsemble


class CentaurEnsemble(_CentaurEnsemble):
    pass
