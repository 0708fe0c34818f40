"""Rule: a pooled window's artefacts are written once and reused by every later run that has the
same fingerprint (features, settings, universe, schedule); a changed fingerprint never reuses.

Layout, beside FreqAI's own files under ``user_data/models/<identifier>/``::

    pooled/<fingerprint>/<boundary unix secs>/model.txt           LightGBM booster (text)
                                             /predictions.feather  score, rank, gate per candle
                                             /references.npz       drift reference per pair
                                             /window.json          training and gate summary

``lookahead-analysis`` and ``recursive-analysis`` delete the identifier folder before each of
their runs, so they always rebuild from data.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import Booster

from freqai_models.drift import DriftReference
from freqai_models.pooled_window import WindowResult
from freqai_models.schedule import Window

logger = logging.getLogger(__name__)


def fingerprint(parts: dict[str, Any]) -> str:
    """Stable short hash of everything a window's artefacts depend on."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class WindowStore:
    def __init__(self, root: Path, key: str):
        self.root = root / "pooled" / key
        self._memory: dict[int, WindowResult] = {}

    def path(self, window: Window) -> Path:
        return self.root / str(window.key)

    def get(self, window: Window) -> WindowResult | None:
        if window.key not in self._memory:
            loaded = self._load(window)
            if loaded is not None:
                self._memory[window.key] = loaded
        return self._memory.get(window.key)

    def put(self, result: WindowResult) -> None:
        folder = self.path(result.window)
        folder.mkdir(parents=True, exist_ok=True)
        if result.booster is not None:
            result.booster.save_model(str(folder / "model.txt"))
        result.predictions.reset_index(drop=True).to_feather(folder / "predictions.feather")
        np.savez(folder / "references.npz", **_flatten(result.references))
        (folder / "window.json").write_text(json.dumps(result.meta, indent=1, default=str))
        self._memory[result.window.key] = result

    def _load(self, window: Window) -> WindowResult | None:
        folder = self.path(window)
        if not (folder / "window.json").is_file():
            return None
        model = folder / "model.txt"
        booster = Booster(model_file=str(model)) if model.is_file() else None
        predictions = pd.read_feather(folder / "predictions.feather")
        with np.load(folder / "references.npz", allow_pickle=False) as stored:
            references = _unflatten(dict(stored))
        meta = json.loads((folder / "window.json").read_text())
        logger.info("pooled ranker window %s reused from %s", window.boundary, folder)
        return WindowResult(window, booster, predictions, references, meta)


_FIELDS = [f.name for f in fields(DriftReference)]


def _flatten(references: dict[str, DriftReference | None]) -> dict[str, np.ndarray]:
    out = {}
    for pair, ref in references.items():
        if ref is None:
            continue
        for name in _FIELDS:
            out[f"{pair}|{name}"] = np.asarray(getattr(ref, name))
    return out


def _unflatten(stored: dict[str, np.ndarray]) -> dict[str, DriftReference | None]:
    pairs = sorted({key.split("|")[0] for key in stored})
    refs = {}
    for pair in pairs:
        values = {name: stored[f"{pair}|{name}"] for name in _FIELDS}
        values["features"] = tuple(str(f) for f in values["features"])
        values["rows"] = int(values["rows"])
        refs[pair] = DriftReference(**values)
    return refs
