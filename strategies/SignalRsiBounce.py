"""Research strategy: the RSI oversold/overbought bounce, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.rsi_bounce import RsiBounceParameters


class SignalRsiBounce(RsiBounceParameters, SignalResearch):
    """The RSI oversold/overbought bounce alone; the rule is in strategies/signals/rsi_bounce.py."""

    signal_name = "rsi_bounce"
