"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.CentaurCarry import CentaurCarry as _CentaurCarry


class CentaurCarry(_CentaurCarry):
    pass
