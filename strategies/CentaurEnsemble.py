"""CentaurEnsemble: the flagship futures strategy - the signal core under the suite's layers.

Class order is the chain of command: the risk layer sees every entry after the signals and
has the last word on size, leverage and whether it happens at all.
"""

from __future__ import annotations

from risk_protections.risk_layer import RiskLayer
from strategies.ensemble_core import EnsembleCore


class CentaurEnsemble(RiskLayer, EnsembleCore):
    """The flagship: ensemble signals under the risk layer (and, above it, the LLM veto)."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    startup_candle_count = 720  # 60 h: the 1h EMA(55) is settled
    process_only_new_candles = True

    # The outer safety net; the risk layer's custom stoploss sets each trade's hard stop
    # (2 % of price by default) at entry, whatever its leverage.
    stoploss = -0.20
    minimal_roi = {"0": 100}
    trailing_stop = False
    use_exit_signal = True
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}
