"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalRsiBounce import SignalRsiBounce as _SignalRsiBounce


class SignalRsiBounce(_SignalRsiBounce):
    pass
