"""Rule: each pooled window is built at most once per fingerprint; every pair reads its candles'
scores, ranks and gate verdicts from that one window.

The engine is the FreqAI-free core of ``CentaurLGBMRanker``: windows come from memory, then
disk (``WindowStore``), then are built from a panel (``PanelSource``). Backtests use calendar
windows (``schedule``); live trading trains at the candle FreqAI asks at, and reuses that
model for every pair until ``live_retrain_hours`` have passed since it was trained.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from centaur.decision import ReasonCode
from centaur.settings.models import ModelsSettings
from freqai_models.panel import Panel
from freqai_models.pooled_window import (
    PREDICTION_COLUMNS,
    WindowResult,
    build_window,
    score_window,
    train_window,
)
from freqai_models.schedule import Window, boundaries, boundary_at, windows_between
from freqai_models.window_store import WindowStore

logger = logging.getLogger(__name__)

PanelSource = Callable[[pd.Timestamp, pd.Timestamp], Panel]  # panel covering [start, stop)


@dataclass(frozen=True)
class PooledHandle:
    """What FreqAI stores as each pair's "model": a reference to the shared pooled windows."""

    window_keys: tuple[int, ...]
    period_secs: int
    train_period_secs: int
    fingerprint: str

    def windows(self) -> list[Window]:
        return [Window(pd.Timestamp(key, unit="s", tz="UTC"),
                       pd.Timedelta(seconds=self.period_secs),
                       pd.Timedelta(seconds=self.train_period_secs))
                for key in self.window_keys]


class PooledRankerEngine:
    def __init__(self, settings: ModelsSettings, store: WindowStore, panels: PanelSource,
                 period: pd.Timedelta, train_period: pd.Timedelta):
        self.settings = settings
        self.store = store
        self.panels = panels
        self.period = period
        self.train_period = train_period
        self.trainings = 0  # pooled models trained by this process (tests read it)
        self._live: dict[tuple[int, pd.Timestamp], pd.DataFrame] = {}

    # --- backtesting: calendar windows -------------------------------------------------

    def window(self, when: pd.Timestamp) -> Window:
        return Window(boundary_at(when, self.period), self.period, self.train_period)

    def result(self, window: Window, stop: pd.Timestamp) -> WindowResult:
        """The window, scored at least up to ``min(stop, window.stop)``."""
        needed = min(stop, window.stop)
        cached = self.store.get(window)
        if cached is not None and cached.covers(needed):
            return cached
        panel = self.panels(window.train_start, needed)
        if cached is None:
            result = build_window(panel, window, self.settings, needed)
            self.trainings += 1
            logger.info("pooled ranker window %s trained on %s rows of %d pairs (%.2f s)",
                        window.boundary, result.meta["train_rows"], len(panel.pairs),
                        result.meta["train_secs"])
        else:
            result = self._rescored(panel, cached, needed)
        self.store.put(result)
        return result

    def _rescored(self, panel: Panel, cached: WindowResult, stop: pd.Timestamp) -> WindowResult:
        """Same model and references, scored further (the data now reaches further)."""
        predictions = score_window(panel, cached, cached.window.boundary, stop, self.settings)
        meta = {**cached.meta, "scored_until": int(stop.timestamp())}
        return WindowResult(cached.window, cached.booster, predictions, cached.references, meta)

    def predictions(self, pair: str, dates: pd.Series, stop: pd.Timestamp) -> pd.DataFrame:
        """PREDICTION_COLUMNS for each of ``dates`` (positional), from their calendar windows."""
        index = pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).as_unit("ns")
        parts = []
        for boundary in boundaries(index, self.period).unique().sort_values():
            rows = self.result(self.window(boundary), stop).predictions
            parts.append(rows[rows["pair"] == pair])
        return _aligned(pd.concat(parts) if parts else pd.DataFrame(), index)

    def handle(self, start: pd.Timestamp, stop: pd.Timestamp, key: str) -> PooledHandle:
        """The pooled windows FreqAI's [start, stop) backtest window reads from."""
        windows = windows_between(start, stop, self.period, self.train_period)
        return PooledHandle(tuple(w.key for w in windows), int(self.period.total_seconds()),
                            int(self.train_period.total_seconds()), key)

    # --- live: train at FreqAI's candle, reuse until live_retrain_hours ---------------

    def live_window(self, now: pd.Timestamp, retrain_after: pd.Timedelta,
                    latest: Window | None) -> Window:
        """Reuse ``latest`` while younger than ``retrain_after``; else a window at ``now``."""
        if latest is not None and now - latest.boundary < retrain_after:
            return latest
        return Window(now, retrain_after, self.train_period)

    def live_train(self, window: Window) -> WindowResult:
        cached = self.store.get(window)
        if cached is not None:
            return cached
        result = train_window(self.panels(window.train_start, window.boundary), window,
                              self.settings)
        result.meta["scored_until"] = window.key
        self.trainings += 1
        self.store.put(result)
        return result

    def live_predictions(self, pair: str, window: Window, dates: pd.Series) -> pd.DataFrame:
        """Score ``dates`` of every universe pair once per candle with the live window."""
        index = pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).as_unit("ns")
        key = (window.key, index[-1], index[0])
        if key not in self._live:
            trained = self.store.get(window)
            stop = index[-1] + pd.Timedelta(seconds=1)
            panel = self.panels(index[0], stop)
            self._live = {key: score_window(panel, trained, index[0], stop, self.settings)}
        rows = self._live[key]
        return _aligned(rows[rows["pair"] == pair], index)


def _aligned(rows: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per date; dates without a prediction are unscored and blocked (fail closed)."""
    if rows.empty:
        rows = pd.DataFrame(columns=["date", *PREDICTION_COLUMNS])
    by_date = rows.drop_duplicates("date", keep="last").set_index("date")
    by_date.index = pd.DatetimeIndex(by_date.index).as_unit("ns")
    out = by_date.reindex(index)[list(PREDICTION_COLUMNS)]
    missing = out["drift_blocked"].isna().to_numpy()
    out.loc[missing, "drift_blocked"] = 1
    out.loc[missing, "drift_features"] = 0
    out.loc[missing, "drift_reason"] = f"[{ReasonCode.MODEL_UNAVAILABLE}] no prediction"
    return out.astype({"ranker_score": float, "ranker_rank": float, "ranker_universe": float,
                       "drift_blocked": int, "drift_features": int}).reset_index(drop=True)


def do_predict(frame: pd.DataFrame) -> np.ndarray:
    """FreqAI's do_predict: 1 only for a scored, ranked, ungated candle."""
    scored = frame["ranker_score"].notna() & frame["ranker_rank"].notna()
    ok = scored & (frame["drift_blocked"] == 0)
    return ok.to_numpy(dtype=int)
