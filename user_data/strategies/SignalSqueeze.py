"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalSqueeze import SignalSqueeze as _SignalSqueeze


class SignalSqueeze(_SignalSqueeze):
    pass
