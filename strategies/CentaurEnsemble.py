"""CentaurEnsemble: the flagship futures strategy - the signal core under the suite's layers.

Class order is the chain of command, top to bottom: the LLM circuit breaker and veto see an
entry only after everything below allowed it; the risk layer sizes every entry (with the
veto's ``reduce`` as an external scale), applies the breaker's interventions and has the last
word; the models layer adds the FreqAI ranker, GARCH, regime and the drift gate beneath the
ensemble of signals. Each layer has its switch: ``centaur.llm.mode``, ``centaur.risk.enabled``,
``freqai.enabled``, ``centaur.ensemble``.
"""

from __future__ import annotations

from freqai_models.feature_catalogue import WARMUP_CANDLES
from freqai_models.models_layer import ModelsLayer
from risk_protections.llm_circuit_breaker import LlmBreakerMixin
from risk_protections.risk_layer import RiskLayer
from strategies.ensemble_core import EnsembleCore
from strategies.llm_veto import LlmVetoMixin


class CentaurEnsemble(LlmBreakerMixin, LlmVetoMixin, RiskLayer, ModelsLayer, EnsembleCore):
    """The flagship: the LLM layer over the risk layer over the models and the ensemble."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    startup_candle_count = WARMUP_CANDLES  # the models' longest feature window settles
    process_only_new_candles = True

    # The outer safety net; the risk layer's custom stoploss sets each trade's hard stop
    # (2 % of price by default) at entry, whatever its leverage.
    stoploss = -0.20
    minimal_roi = {"0": 100}
    trailing_stop = False
    use_exit_signal = True
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}
