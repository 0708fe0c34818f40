"""The study in freqtrade's own files: the best parameters beside the strategy, the epochs as a
``.fthypt`` results file.

``<Strategy>.json`` is written by freqtrade's ``HyperoptTools.try_export_params`` from the best
complete epoch (lowest loss below freqtrade's first-best bar of 100, the earliest on a tie), so
``freqtrade backtesting`` loads it unchanged. The results file lists every complete epoch in
trial order with freqtrade's flags (``is_best`` as a running best, ``is_initial_point``), and
``.last_result.json`` points at it, so ``freqtrade hyperopt-show``/``hyperopt-list`` read it.
Both are written atomically under a file lock: several workers of one machine may finish at
once. The parameters need one stored epoch (the best trial is found from the trials' losses);
the results file reads every epoch, so only the worker whose trial completed the study, or a
run on a complete study, writes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import optuna
import rapidjson
from filelock import FileLock
from optuna.trial import TrialState

from freqtrade.constants import FTHYPT_FILEVERSION, LAST_BT_RESULT_FN
from freqtrade.misc import file_dump_json
from freqtrade.optimize.hyperopt.hyperopt_optimizer import INITIAL_POINTS
from freqtrade.optimize.hyperopt_tools import HyperoptTools, hyperopt_serializer

from dev_tools.study.worker import JSON_MODE, decode

FIRST_BEST_LOSS = 100  # freqtrade's Hyperopt.current_best_loss before any epoch


def epochs(study: optuna.Study, stored: dict[int, str]) -> list[dict[str, Any]]:
    """Every complete epoch in trial order (``stored``: trial number -> the epoch's JSON, from
    ``EpochStore``), flagged as freqtrade flags them."""
    trials = sorted((t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                     if t.number in stored), key=lambda t: t.number)
    found, best_loss = [], FIRST_BEST_LOSS
    for index, trial in enumerate(trials, start=1):
        epoch = decode(stored[trial.number])
        is_best = HyperoptTools.is_best_loss(epoch, best_loss)
        best_loss = epoch["loss"] if is_best else best_loss
        epoch.update(current_epoch=index, is_initial_point=index <= INITIAL_POINTS,
                     is_best=is_best, is_random=False, optuna_trial=trial.number,
                     **{FTHYPT_FILEVERSION: 2})
        found.append(epoch)
    return found


def best_trial(study: optuna.Study) -> tuple[int, int] | None:
    """freqtrade's best without reading any epoch: (trial number, its 1-based epoch index) of
    the earliest complete trial with the lowest loss, if that loss is below 100."""
    trials = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                    key=lambda t: t.number)
    chosen, best_loss = None, FIRST_BEST_LOSS
    for index, trial in enumerate(trials, start=1):
        if trial.value is not None and trial.value < best_loss:
            chosen, best_loss = (trial.number, index), trial.value
    return chosen


def best_epoch(text: str, index: int, number: int) -> dict[str, Any]:
    """The best epoch's stored JSON flagged as freqtrade's best (what its exports read)."""
    epoch = decode(text)
    epoch.update(current_epoch=index, is_initial_point=index <= INITIAL_POINTS, is_best=True,
                 is_random=False, optuna_trial=number, **{FTHYPT_FILEVERSION: 2})
    return epoch


def results_file(config: dict[str, Any], strategy: str, study_name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in study_name)
    return Path(config["user_data_dir"]) / "hyperopt_results" / f"strategy_{strategy}_{safe}.fthypt"


def write_params(config: dict[str, Any], strategy: str, epoch: dict[str, Any]) -> None:
    """``<Strategy>.json`` beside the strategy (freqtrade's own writer), under a lock."""
    folder = Path(config["user_data_dir"]) / "hyperopt_results"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".centaur-export.lock"), timeout=120):
        HyperoptTools.try_export_params(config, strategy, epoch)


def write_results(config: dict[str, Any], strategy: str, study_name: str,
                  found: list[dict[str, Any]]) -> Path:
    """Every epoch as freqtrade's ``.fthypt`` file, atomically, and ``.last_result.json``."""
    target = results_file(config, strategy, study_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=120):
        partial = target.with_suffix(f".{os.getpid()}.partial")
        with partial.open("w") as handle:
            for epoch in found:
                rapidjson.dump(epoch, handle, default=hyperopt_serializer,
                               number_mode=JSON_MODE)
                handle.write("\n")
        partial.replace(target)
        file_dump_json(target.parent / LAST_BT_RESULT_FN, {"latest_hyperopt": target.name},
                       log=False)
    return target
