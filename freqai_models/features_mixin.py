"""CentaurFeaturesMixin: the feature catalogue as FreqAI's ``feature_engineering_*`` methods.

Mix it in before the strategy base (``class S(CentaurFeaturesMixin, CentaurStrategy)``). All
catalogue features are built in ``feature_engineering_standard`` (once per pair, never per
period/timeframe/corr pair: they are already multi-horizon and cross-sectional), as
``%-<name>`` columns. Cross-sectional and BTC features need the whole universe at the same
candles: the universe's features are computed once per data range (from the data provider, or
FreqAI's longer in-memory history live) and shared by the pairs; a pair's rows are then aligned
on its dataframe's dates (FreqAI also calls this on a one-row tail). Order-book imbalance is
live-only and never a ``%`` column (see ``feature_catalogue``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds

from centaur.modes import is_trading
from centaur.settings import settings_from
from centaur.strategy_base import StrategyMixin
from freqai_models.candle_source import FUNDING_TIMEFRAME, SPOT_TIMEFRAME, spot_pair
from freqai_models.feature_catalogue import TRAINING_NAMES
from freqai_models.features import compute_features
from freqai_models.labels import forward_log_return
from freqai_models.pair_features import PairInputs
from freqai_models.universe import resolve_universe

REGRESSION_TARGET = "&-fwd_logret_4h"
CLASSIFICATION_TARGET = "&-beats_fee_4h"
_OHLCV = ["date", "open", "high", "low", "close", "volume"]


class CentaurFeaturesMixin(StrategyMixin):
    """FreqAI feature hooks; ``centaur_target`` picks "regression" or "classification".

    Based on ``StrategyMixin`` so hyperopt can pickle strategies that use it (see there)."""

    centaur_target: str = "regression"
    config: dict[str, Any]
    dp: Any
    timeframe: str

    def feature_engineering_expand_all(self, dataframe: pd.DataFrame, period: int,
                                       metadata: dict, **kwargs) -> pd.DataFrame:
        return dataframe

    def feature_engineering_expand_basic(self, dataframe: pd.DataFrame, metadata: dict,
                                         **kwargs) -> pd.DataFrame:
        return dataframe

    def feature_engineering_standard(self, dataframe: pd.DataFrame, metadata: dict,
                                     **kwargs) -> pd.DataFrame:
        features = self._universe_features(metadata["pair"])
        aligned = features.reindex(pd.DatetimeIndex(pd.to_datetime(dataframe["date"], utc=True))
                                   .as_unit("ns"))
        new = pd.DataFrame({f"%-{name}": aligned[name].to_numpy() for name in TRAINING_NAMES},
                           index=dataframe.index)
        return pd.concat([dataframe, new], axis=1)

    def set_freqai_targets(self, dataframe: pd.DataFrame, metadata: dict,
                           **kwargs) -> pd.DataFrame:
        ranker = settings_from(self.config).models.ranker
        forward = forward_log_return(dataframe["close"], ranker.horizon_candles)
        if self.centaur_target == "classification":
            beats = (forward > ranker.round_trip_fee_ratio).map({True: "up", False: "down"})
            dataframe[CLASSIFICATION_TARGET] = beats.where(forward.notna())
        else:
            dataframe[REGRESSION_TARGET] = forward
        return dataframe

    def centaur_informative_pairs(self) -> list[tuple[str, str, str]]:
        """Universe candles, funding and spot: what the features need in dry-run/live."""
        pairs = []
        for pair in resolve_universe(self.config):
            pairs += [(pair, self.timeframe, ""),
                      (pair, FUNDING_TIMEFRAME, CandleType.FUNDING_RATE.value),
                      (spot_pair(pair), SPOT_TIMEFRAME, CandleType.SPOT.value)]
        return pairs

    # --- shared universe computation -----------------------------------------------------

    def _universe_features(self, pair: str) -> pd.DataFrame:
        """The pair's rows of the universe's features (computed once per data range)."""
        inputs = {q: self._inputs(q) for q in dict.fromkeys([*resolve_universe(self.config),
                                                             pair])}
        key = tuple((q, len(item.candles), item.candles["date"].iloc[-1] if len(item.candles)
                     else None) for q, item in inputs.items())
        cache = self.__dict__.setdefault("_centaur_feature_cache", {})
        if key not in cache:
            usable = {q: item for q, item in inputs.items() if len(item.candles)}
            computed = compute_features(usable, settings_from(self.config).models.garch,
                                        timeframe_to_seconds(self.timeframe))
            cache.clear()
            cache[key] = {q: frame.set_axis(pd.DatetimeIndex(pd.to_datetime(
                usable[q].candles["date"], utc=True)).as_unit("ns"))
                for q, frame in computed.items()}
        return cache[key][pair]

    def _inputs(self, pair: str) -> PairInputs:
        candles = self._candles(pair)
        funding = self.dp.get_pair_dataframe(pair, FUNDING_TIMEFRAME,
                                             candle_type=CandleType.FUNDING_RATE)
        spot = self.dp.get_pair_dataframe(spot_pair(pair), SPOT_TIMEFRAME,
                                          candle_type=CandleType.SPOT)
        return PairInputs(pair, candles.reset_index(drop=True),
                          funding if len(funding) and "funding_rate" in funding else None,
                          spot if len(spot) else None)

    def _candles(self, pair: str) -> pd.DataFrame:
        """The longest candle history at hand: FreqAI's live history, else the data provider."""
        frame = self.dp.get_pair_dataframe(pair, self.timeframe)
        freqai = getattr(self, "freqai", None)
        history = getattr(getattr(freqai, "dd", None), "historic_data", {}) or {}
        live = is_trading(self.config)
        longer = history.get(pair, {}).get(self.timeframe) if live else None
        if longer is not None and len(longer) > len(frame):
            frame = longer
        return frame[_OHLCV] if len(frame) else pd.DataFrame(columns=_OHLCV)
