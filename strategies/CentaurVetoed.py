"""CentaurVetoed: the flagship with the LLM layer on top (research strategy for the report).

Class order is the chain of command: the circuit breaker and the veto see an entry only after
the flagship's signals and risk layer allowed it; the risk layer still sizes it (with the
veto's ``reduce`` as an external scale) and applies the breaker's interventions. With
``centaur.llm.mode`` off it trades exactly as ``CentaurEnsemble``.
"""

from __future__ import annotations

from risk_protections.llm_circuit_breaker import LlmBreakerMixin
from strategies.CentaurEnsemble import CentaurEnsemble
from strategies.llm_veto import LlmVetoMixin


class CentaurVetoed(LlmBreakerMixin, LlmVetoMixin, CentaurEnsemble):
    """CentaurEnsemble under the LLM veto and circuit breaker (``centaur.llm``)."""
