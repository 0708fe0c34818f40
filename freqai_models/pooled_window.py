"""Rule: a pooled window is trained once, on every universe pair, and yields for each pair's
candle in the window a score, a rank and the drift gate's verdict.

``train_window`` trains the window's ranker (``ranker``) and fits each pair's drift reference
on its training rows; ``score_window`` scores a range of candles with it and runs the drift
gate (``drift``) per pair; ``build_window`` does both for [boundary, stop). A pair with no
usable reference, or a window without a model, is blocked (fail closed): its candles carry
``drift_blocked`` = 1 and a reason with MODEL_UNAVAILABLE.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lightgbm import Booster

from centaur.decision import ReasonCode
from centaur.settings.models import ModelsSettings
from freqai_models import drift
from freqai_models.panel import Panel, training_rows
from freqai_models.ranker import fit_ranker, long_predictions, score
from freqai_models.schedule import Window

logger = logging.getLogger(__name__)

MIN_QUERY_GROUPS = 48  # two days of hourly timestamps: fewer is not a ranking problem
PREDICTION_COLUMNS = ("ranker_score", "ranker_rank", "ranker_universe", "drift_blocked",
                      "drift_features", "drift_reason")


@dataclass
class WindowResult:
    window: Window
    booster: Booster | None
    predictions: pd.DataFrame  # date, pair, PREDICTION_COLUMNS
    references: dict[str, drift.DriftReference | None]
    meta: dict = field(default_factory=dict)

    def covers(self, stop: pd.Timestamp) -> bool:
        return pd.Timestamp(self.meta.get("scored_until", 0), unit="s", tz="UTC") >= stop


def build_window(panel: Panel, window: Window, settings: ModelsSettings,
                 stop: pd.Timestamp) -> WindowResult:
    """Train (or fail closed), then score and gate the window's candles up to ``stop``."""
    trained = train_window(panel, window, settings)
    predictions = score_window(panel, trained, window.boundary, min(stop, window.stop), settings)
    trained.predictions = predictions
    trained.meta["scored_until"] = int(min(stop, window.stop).timestamp())
    trained.meta["blocked_share"] = _blocked_share(predictions)
    return trained


def train_window(panel: Panel, window: Window, settings: ModelsSettings) -> WindowResult:
    """The window's pooled model and every pair's drift reference (no predictions yet)."""
    started = time.perf_counter()
    rows = training_rows(panel, window, settings)
    meta = {"boundary": window.key, "train_rows": int(len(rows.grades)),
            "query_groups": int(len(rows.groups)), "pairs": list(panel.pairs)}
    booster = None
    if len(rows.groups) >= MIN_QUERY_GROUPS:
        booster = fit_ranker(rows, settings.ranker)
    else:
        logger.warning("[%s] pooled ranker window %s: %d query groups (< %d), no model; "
                       "its candles are blocked", ReasonCode.MODEL_UNAVAILABLE,
                       window.boundary, len(rows.groups), MIN_QUERY_GROUPS)
    meta["train_secs"] = round(time.perf_counter() - started, 4)
    references = {pair: _reference(panel, pair, window, settings) for pair in panel.pairs}
    return WindowResult(window, booster, pd.DataFrame(), references, meta)


def _reference(panel: Panel, pair: str, window: Window,
               settings: ModelsSettings) -> drift.DriftReference | None:
    train = panel.rows(pair, window.train_start, window.boundary)
    if not settings.drift.enabled or len(train) < 2 * settings.drift.window_candles:
        return None
    return drift.fit_reference(train, settings.drift)


def score_window(panel: Panel, trained: WindowResult, start: pd.Timestamp, stop: pd.Timestamp,
                 settings: ModelsSettings) -> pd.DataFrame:
    """Score, rank and gate every present candle in [start, stop) with the window's model."""
    present = panel.present(start, stop)
    scores = score(trained.booster, panel, start, stop, settings.ranker.threads)
    predictions = long_predictions(scores, present)
    gates = [gate(panel, pair, trained.references.get(pair), start, stop, settings).assign(
        pair=pair) for pair in panel.pairs]
    return _attach_gate(predictions, gates, trained.booster is None)


def gate(panel: Panel, pair: str, reference: drift.DriftReference | None, start: pd.Timestamp,
         stop: pd.Timestamp, settings: ModelsSettings) -> pd.DataFrame:
    """The drift gate's columns for the pair's candles in [start, stop)."""
    cfg, step = settings.drift, settings.drift.check_every_candles
    lookback = pd.Timedelta(seconds=cfg.window_candles * panel.timeframe_secs)
    span = panel.rows(pair, start - lookback, stop)
    inside = np.asarray(span.index >= start)
    out = pd.DataFrame(index=span.index[inside])
    if not cfg.enabled:
        return out.assign(drift_blocked=0, drift_features=0, drift_reason="")
    if reference is None or not inside.any():
        reason = f"[{ReasonCode.MODEL_UNAVAILABLE}] no training reference for {pair}"
        return out.assign(drift_blocked=1, drift_features=0, drift_reason=reason)
    closes_on_grid = ((span.index.as_unit("s").asi8 + panel.timeframe_secs)
                      % (step * panel.timeframe_secs)) == 0
    checks = drift.run_checks(reference, span.to_numpy(dtype="float64"),
                              np.flatnonzero(closes_on_grid), int(np.argmax(inside)), cfg)
    return _per_candle(drift.decide(reference, checks, cfg), span.index, inside)


def _per_candle(decision: drift.DriftDecision, index: pd.DatetimeIndex,
                inside: np.ndarray) -> pd.DataFrame:
    """Each candle carries the verdict of the last check at or before it."""
    at = pd.DataFrame({"drift_blocked": decision.blocked.astype(int),
                       "drift_features": decision.drifted_count.astype(int),
                       "drift_reason": decision.reasons}, index=index[decision.rows])
    filled = at.reindex(index).ffill()
    filled = filled.fillna({"drift_blocked": 1, "drift_features": 0,
                            "drift_reason": f"[{ReasonCode.DRIFT_BLOCK}] no check yet"})
    return filled[inside].astype({"drift_blocked": int, "drift_features": int})


def _attach_gate(predictions: pd.DataFrame, gates: list[pd.DataFrame],
                 no_model: bool) -> pd.DataFrame:
    gate = pd.concat([g.rename_axis("date").reset_index() for g in gates], ignore_index=True)
    merged = predictions.merge(gate, on=["date", "pair"], how="left")
    missing = merged["drift_blocked"].isna()
    merged.loc[missing, "drift_blocked"] = 1
    merged.loc[missing, "drift_reason"] = f"[{ReasonCode.MODEL_UNAVAILABLE}] no gate verdict"
    if no_model:
        merged["drift_blocked"] = 1
        merged["drift_reason"] = f"[{ReasonCode.MODEL_UNAVAILABLE}] no pooled model"
    merged["drift_features"] = merged["drift_features"].fillna(0)
    return merged.astype({"drift_blocked": int, "drift_features": int,
                          "drift_reason": str})[["date", "pair", *PREDICTION_COLUMNS]]


def _blocked_share(predictions: pd.DataFrame) -> dict[str, float]:
    shares = predictions.groupby("pair")["drift_blocked"].mean()
    return {pair: round(float(share), 4) for pair, share in shares.items()}
