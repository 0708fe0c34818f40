"""Research strategy: Bollinger-band mean reversion with RSI confirmation, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.bollinger_rsi import BollingerRsiParameters


class SignalBollingerRsi(BollingerRsiParameters, SignalResearch):
    """Bollinger-band mean reversion with RSI confirmation alone.

    The rule: strategies/signals/bollinger_rsi.py.
    """

    signal_name = "bb_rsi"
