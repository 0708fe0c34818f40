"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalFunding import SignalFunding as _SignalFunding


class SignalFunding(_SignalFunding):
    pass
