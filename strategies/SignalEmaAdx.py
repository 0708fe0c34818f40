"""Research strategy: the 1h EMA crossover with an ADX filter, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.ema_adx import EmaAdxParameters


class SignalEmaAdx(EmaAdxParameters, SignalResearch):
    """The 1h EMA crossover with an ADX filter alone.

    The rule: strategies/signals/ema_adx.py.
    """

    signal_name = "ema_adx"
