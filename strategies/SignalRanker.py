"""Research strategy: the FreqAI ranker's top-k / bottom-k, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.ranker import RankerParameters


class SignalRanker(RankerParameters, SignalResearch):
    """The FreqAI ranker's top-k / bottom-k alone; the rule is in strategies/signals/ranker.py."""

    signal_name = "ranker"
