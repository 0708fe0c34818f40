"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalBreakout import SignalBreakout as _SignalBreakout


class SignalBreakout(_SignalBreakout):
    pass
