"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalEmaAdx import SignalEmaAdx as _SignalEmaAdx


class SignalEmaAdx(_SignalEmaAdx):
    pass
