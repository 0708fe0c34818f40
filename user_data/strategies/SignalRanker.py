"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalRanker import SignalRanker as _SignalRanker


class SignalRanker(_SignalRanker):
    pass
