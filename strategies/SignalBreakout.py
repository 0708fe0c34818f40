"""Research strategy: the momentum breakout with volume-spike confirmation, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.breakout import BreakoutParameters


class SignalBreakout(BreakoutParameters, SignalResearch):
    """The momentum breakout with volume-spike confirmation alone.

    The rule: strategies/signals/breakout.py.
    """

    signal_name = "breakout"
