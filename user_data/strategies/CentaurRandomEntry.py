"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.CentaurRandomEntry import CentaurRandomEntry as _CentaurRandomEntry


class CentaurRandomEntry(_CentaurRandomEntry):
    pass
