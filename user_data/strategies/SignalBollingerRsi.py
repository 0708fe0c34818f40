"""Thin file for freqtrade's strategy resolver: the strategy lives in the `strategies` package."""

from strategies.SignalBollingerRsi import SignalBollingerRsi as _SignalBollingerRsi


class SignalBollingerRsi(_SignalBollingerRsi):
    pass
