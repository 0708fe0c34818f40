"""One worker of a shared study: ask a trial, run freqtrade's objective, tell the loss.

The loop stops once the study holds ``epochs`` complete trials (so ``--epochs`` is the study's
total: a second run with more epochs continues it; a run on a finished study only exports).
While other workers' trials are still running it waits rather than overshoot: a dead worker's
trial goes stale after the grace period, is failed and enqueued again (``storage``), and the
next ``ask`` here picks it up. A parameter set already complete or running elsewhere is told
FAILED (marked ``duplicate``) and asked again, like freqtrade's own duplicate check; the
sampler ignores failed trials.

A single worker alone on a new study uses the random state as its sampler seed, so its
epochs equal ``freqtrade hyperopt -j 1``'s for the same seed. A worker that joins later takes
``seed + its position among the study's workers``, so workers do not all propose the same
random points.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import optuna
import rapidjson
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from freqtrade.optimize.hyperopt.hyperopt_optimizer import HyperOptimizer
from freqtrade.optimize.hyperopt_tools import hyperopt_serializer

from dev_tools.study.storage import Heartbeat

logger = logging.getLogger(__name__)

DUPLICATE_ATTR = "duplicate"
WORKER_ATTR = "worker"  # host:pid of the worker that evaluates the trial
WORKER_PREFIX = "worker:"
WAIT_POLL_SECS = 1.0  # while the study's last trials run elsewhere
MAX_DUPLICATES_IN_A_ROW = 50  # then the space is exhausted: stop instead of spinning
JSON_MODE = rapidjson.NM_NATIVE | rapidjson.NM_NAN


class StudyOptimizer(HyperOptimizer):
    """freqtrade's optimizer evaluated in this process (no joblib log queue to relay)."""

    def _setup_logging_mp_workaround(self) -> None:
        return None

    def handle_mp_logging(self) -> None:
        return None


def plain(distributions: dict[str, Any]) -> dict[str, optuna.distributions.BaseDistribution]:
    """freqtrade's named distributions as Optuna's own classes, which an RDB storage can store
    (same bounds, step and log scale, so the sampler draws the same values)."""
    converted: dict[str, optuna.distributions.BaseDistribution] = {}
    for name, dist in distributions.items():
        if isinstance(dist, FloatDistribution):
            converted[name] = FloatDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, IntDistribution):
            converted[name] = IntDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, CategoricalDistribution):
            converted[name] = CategoricalDistribution(dist.choices)
        else:
            raise ValueError(f"parameter {name}: distribution {type(dist).__name__} cannot be "
                             "stored in a study")
    return converted


@dataclass(frozen=True)
class Counts:
    complete: int
    running: int
    waiting: int
    failed: int


def counts(study: optuna.Study) -> Counts:
    states = [t.state for t in study.get_trials(deepcopy=False)]
    return Counts(states.count(TrialState.COMPLETE), states.count(TrialState.RUNNING),
                  states.count(TrialState.WAITING), states.count(TrialState.FAIL))


def register(study: optuna.Study, now_secs: float) -> int:
    """Add this worker to the study; its position among the study's workers (0: the first)."""
    key = f"{WORKER_PREFIX}{worker_id()}:{uuid.uuid4().hex[:8]}"
    study.set_user_attr(key, {"started_secs": now_secs})
    workers = sorted((value["started_secs"], name) for name, value in study.user_attrs.items()
                     if name.startswith(WORKER_PREFIX))
    return [name for _, name in workers].index(key)


def fail_stale(study: optuna.Study, grace_secs: float, now: datetime) -> int:
    """Fail (and enqueue again) the trials whose worker died; how many were failed here.

    Optuna's check covers trials whose heartbeat went stale. A worker killed between ``ask``
    and its first heartbeat leaves a running trial with no heartbeat at all, which Optuna
    never calls stale: such a trial (no ``WORKER_ATTR`` yet, which is written after the first
    beat) older than the grace period is failed here the same way.
    """
    optuna.storages.fail_stale_trials(study)
    storage, failed = study._storage, 0
    retry = storage.get_heartbeat_stale_trial_callback()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        started = trial.datetime_start
        if WORKER_ATTR in trial.user_attrs or started is None or \
                (now - started).total_seconds() < grace_secs:
            continue
        try:
            if storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                failed += 1
                if retry:
                    retry(study, storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker failed it first
    return failed


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def encode(epoch: dict[str, Any]) -> str:
    return rapidjson.dumps(epoch, default=hyperopt_serializer, number_mode=JSON_MODE)


def decode(text: str) -> dict[str, Any]:
    return rapidjson.loads(text, number_mode=JSON_MODE)


@dataclass
class Worker:
    """Runs trials of ``study`` until it holds ``epochs`` complete ones."""

    study: optuna.Study
    evaluate: Callable[[dict[str, Any]], dict[str, Any]]  # params -> freqtrade's epoch dict
    store_epoch: Callable[[int, str], None]  # (trial number, the epoch as JSON text)
    distributions: dict[str, optuna.distributions.BaseDistribution]
    epochs: int
    heartbeat_secs: float
    grace_secs: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = datetime.now  # Optuna stamps trials in local time
    on_epoch: Callable[[int, dict[str, Any]], None] = lambda number, epoch: None
    name: str = ""  # this worker, on each trial it evaluates (``WORKER_ATTR``)
    evaluated: int = 0
    duplicates: int = 0
    completed_study: bool = False  # this worker's trial was the study's ``epochs``-th complete

    def run(self) -> int:
        """The number of trials this worker evaluated."""
        in_a_row = 0
        while True:
            if fail_stale(self.study, self.grace_secs, self.clock()):
                logger.warning("a trial whose worker stopped before its first heartbeat was "
                               "failed, to be retried")
            now = counts(self.study)
            if now.complete >= self.epochs:
                return self.evaluated
            if now.complete + now.running >= self.epochs and now.waiting == 0:
                self.sleep(WAIT_POLL_SECS)  # the last trials run elsewhere (or died)
                continue
            trial = self.study.ask(self.distributions)
            if self._duplicate(trial):
                trial.set_user_attr(DUPLICATE_ATTR, True)
                self.study.tell(trial, state=TrialState.FAIL)
                self.duplicates += 1
                in_a_row += 1
                if in_a_row >= MAX_DUPLICATES_IN_A_ROW:
                    logger.warning("%d proposals in a row were already evaluated: the search "
                                   "space is exhausted; stopping this worker", in_a_row)
                    return self.evaluated
                continue
            in_a_row = 0
            self._evaluate(trial)
            if now.complete + 1 >= self.epochs:
                self.completed_study = self.completed_study or self._completed_by(trial.number)

    def _evaluate(self, trial: optuna.Trial) -> None:
        try:
            with Heartbeat(self.study._storage, trial._trial_id, self.heartbeat_secs):
                trial.set_user_attr(WORKER_ATTR, self.name or worker_id())  # after the 1st beat
                epoch = self.evaluate(dict(trial.params))
        except BaseException:
            # Interrupted or broken: this trial is over; the study stays consistent.
            self.study.tell(trial, state=TrialState.FAIL)
            raise
        self.store_epoch(trial.number, encode(epoch))
        self.study.tell(trial, float(epoch["loss"]))
        self.evaluated += 1
        self.on_epoch(trial.number, epoch)

    def _completed_by(self, number: int) -> bool:
        done = sorted(self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                      key=lambda t: (t.datetime_complete, t.number))
        return len(done) >= self.epochs and done[self.epochs - 1].number == number

    def _duplicate(self, trial: optuna.Trial) -> bool:
        others = self.study.get_trials(deepcopy=False,
                                       states=(TrialState.COMPLETE, TrialState.RUNNING))
        return any(t.number != trial.number and t.params == trial.params for t in others)
