"""CentaurEnsembleSpot: the flagship, long only, for spot markets (``trading_mode: spot``).

The same ensemble, entry pipeline and risk engine as ``CentaurEnsemble``, on candles a user
brings from any spot market: no shorts, no leverage (freqtrade does not ask ``leverage`` in
spot), no funding. The signals that need perpetual-futures data - ``funding`` (settled rates)
and ``basis`` (perp against spot) - abstain, and the start-up log says so once
(``PipelineStrategy``); the risk layer's funding gates are not in the pipeline.
``config/backtest-spot.json`` runs it on the shared 5m spot candles (BTC, ETH 2025-26),
``config/backtest-spot-2021.json`` on the 2021-22 1h spot set.
"""

from __future__ import annotations

from strategies.CentaurEnsemble import CentaurEnsemble


class CentaurEnsembleSpot(CentaurEnsemble):
    """The flagship's ensemble and risk layer, long only, on spot markets."""

    can_short = False
