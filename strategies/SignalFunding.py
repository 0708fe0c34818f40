"""Research strategy: the funding-rate extremes (contrarian) signal, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.funding import FundingParameters


class SignalFunding(FundingParameters, SignalResearch):
    """The funding-rate extremes (contrarian) signal alone.

    The rule: strategies/signals/funding.py.
    """

    signal_name = "funding"
