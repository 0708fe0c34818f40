"""Research strategy: the perp-spot basis mean-reversion signal, traded alone."""

from strategies.signal_research import SignalResearch
from strategies.signals.basis import BasisParameters


class SignalBasis(BasisParameters, SignalResearch):
    """The perp-spot basis mean-reversion signal alone.

    The rule: strategies/signals/basis.py.
    """

    signal_name = "basis"
