"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.CentaurVetoed import CentaurVetoed as _CentaurVetoed


class CentaurVetoed(_CentaurVetoed):
    pass
