"""CentaurEnsemble: the flagship futures strategy - the ensemble of signals through the entry
pipeline (``strategies.pipeline_strategy``).

Two bases: ``SignalParameters`` (generated from the signal registry: every signal's hyperopt
parameters, the vote thresholds, the 1h columns) and the shell that runs the parts - signals,
models, risk engine, LLM veto and breaker. Each part has its switch: ``centaur.risk.enabled``,
``centaur.llm.mode``, ``freqai.enabled``, ``centaur.ensemble``.
"""

from __future__ import annotations

from typing import Any

from freqai_models.feature_catalogue import WARMUP_CANDLES
from strategies.pipeline_strategy import PipelineStrategy
from strategies.signals.parameters import PLOT_COLOURS, SignalParameters


class CentaurEnsemble(SignalParameters, PipelineStrategy):
    """The flagship: signals vote, the pipeline's gates decide, the risk engine trades."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short = True
    startup_candle_count = WARMUP_CANDLES  # the models' longest feature window settles
    process_only_new_candles = True

    # The outer safety net; the risk engine's custom stoploss sets each trade's hard stop
    # (2 % of price by default) at entry, whatever its leverage.
    stoploss = -0.20
    minimal_roi = {"0": 100}
    trailing_stop = False
    use_exit_signal = True
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}

    @property
    def plot_config(self) -> dict[str, Any]:
        return {
            "main_plot": {},
            "subplots": {
                "Ensemble": {"ens_score": {"color": "#2b83ba"}},
                "Regime": {"ens_trending": {"color": "#d7191c", "type": "bar"},
                           "ens_vol_level": {"color": "#fdae61"}},
                "Weights": {f"ens_w_{name}": {"color": colour}
                            for name, colour in PLOT_COLOURS.items()},
                # The model columns the risk layer sizes and stops with.
                "Volatility": {"garch_sigma": {"color": "#d7191c"}},
                "Risk regime": {"regime_position_scale": {"color": "#1a9641"},
                                "regime_stop_multiplier": {"color": "#fdae61"}},
                "Funding and basis": {"funding_z": {"color": "#2b83ba"},  # funding signal on
                                      "basis_z_1h": {"color": "#d7191c"}},
            },
        }

    def ensemble_rows(self, pair: str):
        """The pair's last analysed ensemble (score, weights, exit calls per candle)."""
        return self.signals.rows(pair)
