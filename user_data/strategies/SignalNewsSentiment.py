"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalNewsSentiment import SignalNewsSentiment as _SignalNewsSentiment


class SignalNewsSentiment(_SignalNewsSentiment):
    pass
