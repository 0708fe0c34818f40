"""``centaur hyperopt``: freqtrade's hyperopt on a shared Optuna study.

    centaur hyperopt -c config/backtest.json --strategy S --spaces buy --epochs 200 \\
        --hyperopt-loss SharpeHyperOptLoss --random-state 7 \\
        --storage postgresql+pg8000://user:pw@db:5432/studies --study-name s-2025q1 [-j 2]

Every option of ``freqtrade hyperopt`` means what it means there, except: ``--epochs`` is the
study's total of complete epochs (a second run continues the study up to it), and ``-j N``
starts N worker processes on this machine (each one a ``centaur hyperopt -j 1`` on the same
study). Start more workers on other machines with the same command, config and data. The
study's name defaults to the strategy and a digest of the search, so rerunning the same
command resumes the same study. When the study is complete, every worker writes the best
parameters beside the strategy (``<Strategy>.json``) and the epochs as a ``.fthypt`` file.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import optuna

from freqtrade.commands.arguments import ARGS_COMMON, ARGS_HYPEROPT, ARGS_STRATEGY
from freqtrade.commands.cli_options import AVAILABLE_CLI_OPTIONS
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.enums import HyperoptState, RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.optimize.hyperopt_tools import HyperoptStateContainer, HyperoptTools

from dev_tools.study import export, fingerprint
from dev_tools.study.epochs import EpochStore
from dev_tools.study.storage import (
    StorageSettings,
    default_url,
    open_storage,
    remember_password,
    shown_url,
)
from dev_tools.study.worker import StudyOptimizer, Worker, counts, plain, register

logger = logging.getLogger(__name__)

UNSUPPORTED = {"early_stop": "--early-stop", "print_all": "--print-all"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="centaur hyperopt", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in (*ARGS_COMMON, *ARGS_STRATEGY, *ARGS_HYPEROPT):
        option = AVAILABLE_CLI_OPTIONS[name]
        parser.add_argument(*option.cli, dest=name, **option.kwargs)
    study = parser.add_argument_group("shared study")
    study.add_argument("--storage", help="Optuna RDB storage URL (default: a SQLite file in "
                       "user_data/hyperopt_results)")
    study.add_argument("--study-name", help="default: <strategy>-<digest of the search>")
    study.add_argument("--heartbeat-secs", type=int, default=10)
    study.add_argument("--grace-secs", type=int, default=60,
                       help="a running trial without a heartbeat for this long is failed and "
                            "retried")
    study.add_argument("--max-retry", type=int, default=2)
    study.add_argument("--write-results", action="store_true",
                       help="write the .fthypt file of every epoch even when another worker "
                            "completed the study (by default only that worker does: it reads "
                            "every epoch)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    for name, flag in UNSUPPORTED.items():
        if getattr(args, name, None):
            print(f"centaur hyperopt: {flag} is not supported on a shared study", file=sys.stderr)
            return 2
    if not args.config:
        print("centaur hyperopt: -c/--config is required", file=sys.stderr)
        return 2
    jobs = worker_processes(args.hyperopt_jobs)
    if args.storage:
        remember_password(args.storage)
    children = [_start_child(argv) for _ in range(jobs - 1)]
    try:
        status = run(args)
    finally:
        child_status = [child.wait() for child in children]
    return status or next((s for s in child_status if s), 0)


def worker_processes(jobs: int | None) -> int:
    """freqtrade's (joblib's) -j: N processes, -1 every core, -2 all but one."""
    if not jobs:
        return 1
    return jobs if jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + jobs)


def _start_child(argv: list[str]) -> subprocess.Popen:
    """Another worker process of this machine on the same study."""
    rest, skip = [], False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in ("-j", "--job-workers"):
            skip = True
            continue
        if token.startswith("--job-workers="):
            continue
        rest.append(token)
    return subprocess.Popen([sys.executable, "-m", "dev_tools.cli", "hyperopt", *rest, "-j", "1"])


def run(args: argparse.Namespace) -> int:
    """One worker; exit 2 on a configuration, storage or search mismatch (named), 130 when
    interrupted (the study keeps every complete trial; the running one is failed)."""
    values = {k: v for k, v in vars(args).items() if v is not None}
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        config = setup_optimize_configuration(values, RunMode.HYPEROPT)
        config["hyperopt_jobs"] = 1
        settings = StorageSettings(args.storage or default_url(config["user_data_dir"]),
                                   args.heartbeat_secs, args.grace_secs, args.max_retry)
        return _run(config, settings, args.study_name, args.write_results)
    except (OperationalException, ValueError, ConnectionError) as err:
        print(f"centaur hyperopt: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("centaur hyperopt: interrupted; the study keeps its complete trials (run the "
              "same command to continue)", file=sys.stderr)
        return 130


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run(config: dict[str, Any], settings: StorageSettings, study_name: str | None,
         write_results: bool) -> int:
    HyperoptStateContainer.set_state(HyperoptState.STARTUP)
    pickle_file = (Path(config["user_data_dir"]) / "hyperopt_results" /
                   f"centaur_tickerdata_{os.getpid()}.pkl")
    optimizer = StudyOptimizer(config, pickle_file)
    optimizer.init_spaces()
    strategy = optimizer.get_strategy_name()
    search = fingerprint.fingerprint(config, strategy, list(optimizer.pairlist),
                                     plain(optimizer.o_dimensions))
    name = study_name or f"{strategy}-{fingerprint.digest(search)}"
    storage = open_storage(settings)
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize",
                                load_if_exists=True)
    fingerprint.check_or_store(study, search)
    epochs = int(config.get("epochs", 0))
    logger.info("study %r on %s: %s", name, shown_url(settings.url), counts(study))
    completed_here = True  # a run with nothing left to do exports everything
    with closing(EpochStore(settings.url)) as stored:
        if counts(study).complete < epochs:
            completed_here = _work(config, optimizer, storage, name, settings, epochs,
                                   lambda number, text: stored.put(name, number, text))
        return _export(config, strategy, optuna.load_study(study_name=name, storage=storage),
                       stored, completed_here or write_results)


def _export(config: dict[str, Any], strategy: str, study: optuna.Study, stored: EpochStore,
            results_file: bool) -> int:
    """The best parameters beside the strategy; the ``.fthypt`` file when ``results_file``."""
    name = study.study_name
    if results_file:
        target = export.write_results(config, strategy, name, export.epochs(study,
                                                                            stored.all(name)))
        print(f"study {name!r}: every complete epoch in {target}")
    found = export.best_trial(study)
    complete = counts(study).complete
    if found is None:
        print(f"No good result found for the given loss in {complete} epochs.")
        return 0
    number, index = found
    epoch = export.best_epoch(stored.get(name, number), index, number)
    export.write_params(config, strategy, epoch)
    HyperoptTools.show_epoch_details(epoch, complete, config.get("print_json", False))
    return 0


def _work(config: dict[str, Any], optimizer: StudyOptimizer, storage: Any, name: str,
          settings: StorageSettings, epochs: int,
          store_epoch: Callable[[int, str], None]) -> bool:
    """Work on the study until it is complete; whether this worker completed it."""
    random_state = config.get("hyperopt_random_state") or random.randint(1, 2**16 - 1)  # noqa: S311
    position = register(optuna.load_study(study_name=name, storage=storage), time.time())
    seed = random_state + position
    optimizer.prepare_hyperopt()
    sampler = optimizer.get_optimizer(seed).sampler
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
    logger.info("worker %d of study %r: sampler seed %d", position, name, seed)

    def report(number: int, epoch: dict[str, Any]) -> None:
        logger.info("trial %d: loss %.5f - %s", number, epoch["loss"],
                    epoch["results_explanation"].strip())

    worker = Worker(study, optimizer.generate_optimizer, store_epoch,
                    plain(optimizer.o_dimensions), epochs,
                    settings.heartbeat_secs, settings.grace_secs, on_epoch=report)
    try:
        evaluated = worker.run()
    finally:
        optimizer.data_pickle_file.unlink(missing_ok=True)
    logger.info("worker done: %d trials evaluated here, %d duplicate proposals", evaluated,
                worker.duplicates)
    return worker.completed_study
