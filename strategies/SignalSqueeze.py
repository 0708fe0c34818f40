"""Research strategy: the Bollinger squeeze breakout, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.squeeze import SqueezeParameters


class SignalSqueeze(SqueezeParameters, SignalResearch):
    """The Bollinger squeeze breakout alone; the rule is in strategies/signals/squeeze.py."""

    signal_name = "squeeze"
