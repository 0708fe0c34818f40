"""Rule: the model feature matrix of a pair is the catalogue's columns, in catalogue order,
computed from validated candles of the whole universe.

This is the one entry point the FreqAI mixin, the pooled ranker's panel, the report and the
benchmark share, so a feature means the same thing in every one of them.
"""

from __future__ import annotations

import pandas as pd

from centaur.settings.models import GarchSettings
from freqai_models.candles import validate_candles
from freqai_models.cross_section import BTC_PAIR, universe_features
from freqai_models.feature_catalogue import TRAINING_NAMES
from freqai_models.pair_features import PairInputs, pair_features


def compute_features(inputs: dict[str, PairInputs], garch: GarchSettings, timeframe_secs: int,
                     btc_pair: str = BTC_PAIR) -> dict[str, pd.DataFrame]:
    """Features of every pair in ``inputs``; index = that pair's candle index."""
    per_pair = {}
    for pair, item in inputs.items():
        validate_candles(item.candles, pair)
        per_pair[pair] = pair_features(item, garch, timeframe_secs)
    dates = {pair: item.candles["date"] for pair, item in inputs.items()}
    universe = universe_features(per_pair, dates, btc_pair)
    return {pair: pd.concat([per_pair[pair], universe[pair]], axis=1)[list(TRAINING_NAMES)]
            for pair in inputs}
