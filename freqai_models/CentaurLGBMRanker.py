"""CentaurLGBMRanker: which of the N pairs outperforms the universe over the next 4 hours.

One LightGBM ``lambdarank`` model per walk-forward window, trained on every universe pair at
once (query = timestamp, label = graded relative forward return after fees) and reused by all
pairs in the window; see ``ranker_engine`` and ``pooled_window``. FreqAI still drives the
walk-forward per pair: ``train`` makes sure the pooled windows behind the pair's FreqAI window
exist (training them the first time any pair asks) and returns a ``PooledHandle``, which
FreqAI saves as the pair's "model"; ``predict`` reads the pair's candles from the window.

Prediction columns: ``ranker_score``, ``ranker_rank`` (1 = best), ``ranker_universe``,
``drift_blocked`` (0/1), ``drift_features``, ``drift_reason``; ``do_predict`` is 1 only on a
scored, ranked, ungated candle. Live, the pooled model is retrained when FreqAI retrains
(``live_retrain_hours``) and shared by every pair until the next retraining.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.configuration import TimeRange
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen

from centaur.modes import is_trading
from centaur.settings import settings_from
from freqai_models.candle_source import FUNDING_TIMEFRAME, SPOT_TIMEFRAME, DatadirSource, spot_pair
from freqai_models.feature_catalogue import TRAINING_NAMES
from freqai_models.labels import LABEL_SCHEME
from freqai_models.pair_features import PairInputs
from freqai_models.panel_sources import DatadirPanels, FramePanels
from freqai_models.pooled_window import PREDICTION_COLUMNS
from freqai_models.ranker_engine import PooledHandle, PooledRankerEngine, do_predict
from freqai_models.schedule import Window
from freqai_models.universe import resolve_universe
from freqai_models.window_store import WindowStore, fingerprint

logger = logging.getLogger(__name__)

NUMERIC_OUTPUTS = [c for c in PREDICTION_COLUMNS if c != "drift_reason"]


def window_periods(freqai: dict[str, Any]) -> tuple[pd.Timedelta, pd.Timedelta]:
    """(test period, training period) of each pooled window, from the ``freqai`` block."""
    return (pd.Timedelta(days=float(freqai.get("backtest_period_days", 7))),
            pd.Timedelta(days=float(freqai.get("train_period_days", 30))))


def ranker_key(config: dict[str, Any]) -> str:
    """The stored windows' key: everything a window's model depends on. The one definition:
    FreqAI's runs and the walk-forward's precomputed windows read the same folder with it."""
    period, train = window_periods(config.get("freqai", {}))
    return fingerprint({"features": TRAINING_NAMES,
                        "models": settings_from(config).models.model_dump(),
                        "universe": resolve_universe(config), "period": period, "train": train,
                        "timeframe": config["timeframe"], "labels": LABEL_SCHEME})


class CentaurLGBMRanker(BaseRegressionModel):
    """Pooled cross-sectional LightGBM lambdarank (see the module docstring)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config=config)
        self.centaur = settings_from(config).models
        self.universe = resolve_universe(config)
        self.timeframe_secs = timeframe_to_seconds(config["timeframe"])
        period, train = window_periods(self.freqai_info)
        self.key = ranker_key(config)
        self.engine = PooledRankerEngine(self.centaur, WindowStore(Path(self.full_path), self.key),
                                         self._panels(period, train), period, train)
        self._live_window: Window | None = None  # the pooled model live trading reads

    def _panels(self, period: pd.Timedelta, train: pd.Timedelta):
        if is_trading(self.config):
            return FramePanels(self._live_frames, self.centaur, self.timeframe_secs)
        last = self._backtest_stop + pd.Timedelta(seconds=self.timeframe_secs) \
            if self._backtest_stop is not None else None  # freqtrade loads the stop candle too
        source = DatadirSource(Path(self.config["datadir"]), self.config["timeframe"],
                               self.timeframe_secs,
                               CandleType.from_string(self.config.get("candle_type_def",
                                                                      "futures")))
        return DatadirPanels(source, self.universe, self.centaur, train + period, last)

    # --- FreqAI hooks -------------------------------------------------------------------

    def train(self, unfiltered_df: pd.DataFrame, pair: str, dk: FreqaiDataKitchen,
              **kwargs) -> PooledHandle:
        """Make sure the pooled windows behind this FreqAI window exist; return the handle."""
        _kitchen_for_saving(unfiltered_df, dk)
        if self.live:
            return self._train_live(unfiltered_df)
        start = pd.Timestamp(self.training_timerange.stopdt)
        stop = start + self.engine.period
        if self._backtest_stop is not None:
            stop = min(stop, self._backtest_stop)
        handle = self.engine.handle(start, stop, self.key)
        for window in handle.windows():
            self.engine.result(window, stop)
        logger.info("%s reads pooled ranker windows %s", pair, list(handle.window_keys))
        return handle

    def _train_live(self, unfiltered_df: pd.DataFrame) -> PooledHandle:
        now = pd.Timestamp(unfiltered_df["date"].iloc[-1]) + pd.Timedelta(
            seconds=self.timeframe_secs)
        retrain = pd.Timedelta(hours=float(self.freqai_info.get("live_retrain_hours", 0)))
        window = self.engine.live_window(now, retrain, self._live_window)
        self.engine.live_train(window)
        self._live_window = window
        return PooledHandle((window.key,), int(window.period.total_seconds()),
                            int(window.train_period.total_seconds()), self.key)

    def fit(self, data_dictionary: dict, dk: FreqaiDataKitchen, **kwargs) -> Any:
        raise NotImplementedError(
            "CentaurLGBMRanker trains one pooled model per window in train(); FreqAI's "
            "per-pair fit() is not used. Use CentaurLGBMRegressor for a per-pair model.")

    def predict(self, unfiltered_df: pd.DataFrame, dk: FreqaiDataKitchen,
                **kwargs) -> tuple[pd.DataFrame, np.ndarray]:
        if self.live:
            window = self.model.windows()[-1]
            frame = self.engine.live_predictions(dk.pair, window, unfiltered_df["date"])
        else:
            frame = self.engine.predictions(dk.pair, unfiltered_df["date"], self._backtest_stop
                                            or pd.Timestamp.max.tz_localize("UTC"))
        dk.do_predict = do_predict(frame)
        dk.DI_values = np.zeros(len(frame))
        return frame, dk.do_predict

    @property
    def _backtest_stop(self) -> pd.Timestamp | None:
        """The backtest timerange's end (FreqAI's last window stops there, exclusive)."""
        parsed = TimeRange.parse_timerange(self.config.get("timerange"))
        return pd.Timestamp(parsed.stopts, unit="s", tz="UTC") if parsed.stopts else None

    def start(self, dataframe: pd.DataFrame, metadata: dict, strategy) -> pd.DataFrame:
        """FreqAI's flow, then the candles at and after the timerange's end: freqtrade loads
        the end candle but FreqAI's windows stop before it and fill it with 0. The ranker's
        prediction is a function of the candle's time and earlier data only, so it fills them
        (without this, every truncated run of ``lookahead-analysis`` differs on its last candle).
        """
        dataframe = super().start(dataframe, metadata, strategy)
        stop = self._backtest_stop
        if self.live or stop is None:
            return dataframe
        tail = (pd.to_datetime(dataframe["date"], utc=True) >= stop).to_numpy()
        if tail.any():
            frame = self.engine.predictions(metadata["pair"], dataframe.loc[tail, "date"],
                                            stop + pd.Timedelta(seconds=self.timeframe_secs))
            for column in PREDICTION_COLUMNS:
                dataframe.loc[tail, column] = frame[column].to_numpy()
            dataframe.loc[tail, "do_predict"] = do_predict(frame)
        return dataframe

    # --- live inputs ----------------------------------------------------------------------

    def _live_frames(self) -> dict[str, PairInputs]:
        """Candles from FreqAI's in-memory history (long), side data from the data provider."""
        dp, timeframe = self.data_provider, self.config["timeframe"]
        frames = {}
        for pair in self.universe:
            history = self.dd.historic_data.get(pair, {}).get(timeframe)
            candles = history if history is not None and len(history) else \
                dp.get_pair_dataframe(pair, timeframe)
            funding = dp.get_pair_dataframe(pair, FUNDING_TIMEFRAME,
                                            candle_type=CandleType.FUNDING_RATE)
            spot = dp.get_pair_dataframe(spot_pair(pair), SPOT_TIMEFRAME,
                                         candle_type=CandleType.SPOT)
            frames[pair] = PairInputs(pair, candles[["date", "open", "high", "low", "close",
                                                     "volume"]].copy(),
                                      funding if len(funding) else None,
                                      spot if len(spot) else None)
        return frames


def _kitchen_for_saving(unfiltered_df: pd.DataFrame, dk: FreqaiDataKitchen) -> None:
    """What FreqAI's save_data and live bookkeeping read from the kitchen after train()."""
    features = [c for c in dk.training_features_list if c in unfiltered_df.columns]
    dk.data_dictionary = {"train_features": unfiltered_df[features].iloc[:0],
                          "train_dates": unfiltered_df["date"].iloc[:0]}
    outputs = [*dk.label_list, *NUMERIC_OUTPUTS]
    dk.data["labels_mean"] = dict.fromkeys(outputs, 0.0)
    dk.data["labels_std"] = dict.fromkeys(outputs, 0.0)
