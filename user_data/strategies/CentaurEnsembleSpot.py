"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.CentaurEnsembleSpot import CentaurEnsembleSpot as _CentaurEnsembleSpot


class CentaurEnsembleSpot(_CentaurEnsembleSpot):
    pass
