"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalBasis import SignalBasis as _SignalBasis


class SignalBasis(_SignalBasis):
    pass
