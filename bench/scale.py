"""Benchmark: ``centaur hyperopt`` on a shared PostgreSQL study against ``freqtrade hyperopt``.

    python -m bench.scale [--epochs 32] [--timerange 20250201-20250401] [--repeat 1] \\
        [--pairs BTC/USDT:USDT ETH/USDT:USDT] [--strategy SignalBollingerRsi]   (make bench-scale)
                                                            -> bench/results/scale.json

In one run, on the same strategy, spaces (``signals``), loss, epochs, data and random state,
each command a real process in a scratch folder (a copy of the thin strategy file, its own
``user_data``): the baseline ``freqtrade hyperopt -j 1`` and ``-j 2``; ``centaur hyperopt``
with 1 worker and with 2 worker processes (``-j 2``) sharing one study in a real PostgreSQL
(``dev_tools.postgres``, a fresh database per run); and 1 worker on the default SQLite file
(``--repeat`` rounds, interleaved; the fastest of each command is kept). Figures: wall seconds,
epochs per minute, the centaur/freqtrade time ratio for 1 and 2 workers (the goal: 2 workers
<= 1.1x ``freqtrade -j 2``), start-up seconds (process start to the first trial: the study's
first ``datetime_start``; for freqtrade the log line that opens its epoch loop), and the end
(the last trial's completion to the process's exit: the export, and any worker's wait).

Storage: the same ``Worker`` loop with a zero-cost objective (returning a real epoch of the
run, so the stored JSON has its real size) against a PostgreSQL study, in windows up to
``--overhead-trials``: the loop's overhead per trial ((wall - objective) / trials, and the
median trial), of it the sampler's (freqtrade's default NSGA-III) and the epoch store's share,
SQL statements per trial, the server's CPU per trial (its processes' /proc times), one
``study.get_trials()`` as the study grows (a worker's cached storage, and cold as a joining
worker's), the export's read of every epoch, and the server's round trips. ``model``: the
speed-up at 8 and 32 machines from those figures, its assumptions listed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import FloatDistribution
from optuna.samplers import BaseSampler, NSGAIIISampler
from optuna.trial import TrialState
from sqlalchemy import event

from bench.common import PROJECT_ROOT, every_signal, write_result
from dev_tools.postgres import PostgresServer, running_postgres
from dev_tools.study.epochs import EpochStore
from dev_tools.study.storage import StorageSettings, open_storage
from dev_tools.study.worker import DUPLICATE_ATTR, Worker, decode, encode

STUDY = "bench"
SEED = 7
LOSS = "SharpeHyperOptLoss"
GOAL_RATIO = 1.1  # issue 17: centaur with 2 workers <= 1.1x freqtrade -j 2's time
WINDOWS = (100, 200, 400, 600, 800, 1000)  # study sizes where the storage loop is read
FREQTRADE_LOOP_LINE = re.compile(r"^(\S+ \S+) - .*Effective number of parallel workers used")
FREQTRADE_SAVED_LINE = re.compile(r" - INFO - (\d+) epochs? saved to ")
POPULATION = 30  # freqtrade's INITIAL_POINTS: its NSGA-III population


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: Path
    strategies: Path


@dataclass(frozen=True)
class Run:
    label: str
    command: str
    workers: int
    storage: str
    wall_secs: float
    startup_secs: float | None
    epochs: int
    # centaur only: a trial's duration in the study; process end after the last trial; the
    # proposals that repeated a trial (told FAILED and asked again)
    trial_secs_p50: float | None = None
    tail_secs: float | None = None
    duplicates: int | None = None

    def figures(self) -> dict[str, Any]:
        shown = {k: v for k, v in vars(self).items() if k != "label" and v is not None}
        shown["wall_secs"] = round(self.wall_secs, 1)
        shown["epochs_per_min"] = round(self.epochs / self.wall_secs * 60, 1)
        if self.startup_secs is not None:
            shown["startup_secs"] = round(self.startup_secs, 1)
            loop = self.wall_secs - self.startup_secs
            shown["loop_secs_per_epoch"] = round(loop / self.epochs, 3)
        return shown


# ---- the workspace and the commands ---------------------------------------------------------

def workspace(root: Path, args: argparse.Namespace) -> Workspace:
    """A config with absolute data paths, FreqAI off, the pairs asked for, user_data here."""
    strategies = root / "strategies"
    strategies.mkdir()
    shutil.copy(PROJECT_ROOT / "user_data" / "strategies" / f"{args.strategy}.py", strategies)
    config = every_signal(json.loads((PROJECT_ROOT / args.config).read_text()))
    if "freqai" in config:
        config["freqai"]["enabled"] = False
    config["datadir"] = str((PROJECT_ROOT / config["datadir"]).resolve())
    offline = config.get("centaur", {}).get("exchange", {}).get("offline_markets")
    if offline:
        offline["recordings_dir"] = str((PROJECT_ROOT / offline["recordings_dir"]).resolve())
    config["exchange"]["pair_whitelist"] = list(args.pairs)
    config.update(user_data_dir=str(root / "user_data"), strategy_path=str(strategies))
    (root / "user_data").mkdir()
    path = root / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return Workspace(root, path, strategies)


def search(ws: Workspace, args: argparse.Namespace) -> list[str]:
    return ["-c", str(ws.config), "--strategy", args.strategy, "--strategy-path",
            str(ws.strategies), "--spaces", "signals", "--analyze-per-epoch", "--epochs",
            str(args.epochs), "--hyperopt-loss", LOSS, "--random-state", str(SEED),
            "--timerange", args.timerange, "--min-trades", "1"]


def timed(label: str, argv: list[str], ws: Workspace) -> tuple[float, float, str]:
    """Run ``argv`` in the scratch folder: (wall secs, start as epoch secs, its log)."""
    for exported in ws.strategies.glob("*.json"):
        exported.unlink()  # no run starts from the parameters the previous one exported
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    env["PYTHONUNBUFFERED"] = "1"
    log_path = ws.root / f"{label}.log"
    started_at, started = time.time(), time.perf_counter()
    with log_path.open("w") as log:
        done = subprocess.run([sys.executable, "-m", *argv], cwd=ws.root, env=env, stdout=log,
                              stderr=subprocess.STDOUT, timeout=3600)
    wall = time.perf_counter() - started
    text = log_path.read_text()
    if done.returncode != 0:
        raise RuntimeError(f"{label} failed ({done.returncode}):\n{text[-3000:]}")
    return wall, started_at, text


def freqtrade_run(jobs: int, ws: Workspace, args: argparse.Namespace) -> Run:
    label = f"freqtrade_j{jobs}"
    argv = ["freqtrade", "hyperopt", *search(ws, args), "-j", str(jobs)]
    wall, started_at, log = timed(label, argv, ws)
    loop = next((m.group(1) for m in map(FREQTRADE_LOOP_LINE.match, log.splitlines()) if m),
                None)
    startup = (datetime.strptime(loop, "%Y-%m-%d %H:%M:%S,%f").timestamp() - started_at
               if loop else None)
    saved = FREQTRADE_SAVED_LINE.search(log)  # fewer than --epochs if duplicates were skipped
    return Run(label, f"freqtrade hyperopt ... -j {jobs}", jobs, "memory", wall, startup,
               int(saved.group(1)) if saved else args.epochs)


def centaur_run(label: str, jobs: int, url: str | None, study: str, ws: Workspace,
                args: argparse.Namespace) -> Run:
    storage = ["--storage", url] if url else []
    argv = ["dev_tools.cli", "hyperopt", *search(ws, args), *storage, "--study-name", study,
            "-j", str(jobs)]
    wall, started_at, _ = timed(label, argv, ws)
    url = url or f"sqlite:///{ws.root / 'user_data' / 'hyperopt_results'}/centaur-studies.sqlite"
    trials = optuna.load_study(study_name=study, storage=url).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    first = min(t.datetime_start for t in trials if t.datetime_start)
    last = max(t.datetime_complete for t in complete)
    durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in complete]
    return Run(label, f"centaur hyperopt ... -j {jobs}", jobs,
               "postgresql" if url.startswith("postgresql") else "sqlite", wall,
               first.timestamp() - started_at, len(complete),
               round(statistics.median(durations), 3),
               round(started_at + wall - last.timestamp(), 1),
               sum(bool(t.user_attrs.get(DUPLICATE_ATTR)) for t in trials))


def hyperopt_round(server: PostgresServer, ws: Workspace, args: argparse.Namespace,
                   study: str) -> tuple[list[Run], str]:
    """Every command once, each centaur run beside its freqtrade peer, a fresh database each;
    the 1-worker study's URL (its epochs are the storage loop's payload)."""
    runs, urls = [], {jobs: server.database(f"centaur_j{jobs}") for jobs in (1, 2)}
    for jobs in (1, 2):
        runs.append(freqtrade_run(jobs, ws, args))
        runs.append(centaur_run(f"centaur_postgres_j{jobs}", jobs, urls[jobs], study, ws, args))
        print(f"  {jobs} worker(s): {runs[-2].wall_secs:.0f} s freqtrade, "
              f"{runs[-1].wall_secs:.0f} s centaur", flush=True)
    if not args.skip_sqlite:
        runs.append(centaur_run("centaur_sqlite_j1", 1, None, study, ws, args))
    return runs, urls[1]


def hyperopt_runs(server: PostgresServer, ws: Workspace, args: argparse.Namespace
                  ) -> tuple[dict[str, Run], str]:
    """``--repeat`` rounds; the fastest run of each command."""
    best: dict[str, Run] = {}
    payload = ""
    for number in range(args.repeat):
        runs, url = hyperopt_round(server, ws, args, f"{STUDY}-{number}")
        payload = payload or url
        for run in runs:
            if run.label not in best or run.wall_secs < best[run.label].wall_secs:
                best[run.label] = run
    return best, payload


# ---- the storage loop with a zero-cost objective --------------------------------------------

class TimedSampler(BaseSampler):
    """Another sampler, the time spent in it added up (its own reads of the trials included)."""

    def __init__(self, inner: BaseSampler):
        self.inner, self.secs = inner, 0.0

    def _timed(self, name: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return getattr(self.inner, name)(*args)
        finally:
            self.secs += time.perf_counter() - started

    def infer_relative_search_space(self, study, trial):
        return self._timed("infer_relative_search_space", study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._timed("sample_relative", study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._timed("sample_independent", study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        return self._timed("before_trial", study, trial)

    def after_trial(self, study, trial, state, values):
        return self._timed("after_trial", study, trial, state, values)


@dataclass
class Meter:
    """What a stretch of the loop cost: wall, objective, sampler, statements, server CPU; when
    each trial ended (the median trial is robust to another process's bursts)."""

    wall: float = 0.0
    objective: float = 0.0
    sampler: float = 0.0
    epoch_store: float = 0.0
    statements: int = 0
    server_cpu: float = 0.0
    ended: list[float] = field(default_factory=list)


def server_cpu_secs(server: PostgresServer) -> float:
    """CPU seconds of the server so far: the postmaster, its reaped children, its live ones."""
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def get_trials_ms(study: optuna.Study, url: str) -> dict[str, float]:
    """One ``get_trials()``: the worker's study (cached finished trials), and a new storage's
    (a worker that joins now); the median of a few."""
    def median_ms(call: Callable[[], Any], repeat: int) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 2)

    cold = [optuna.load_study(study_name=study.study_name, storage=open_storage(
        StorageSettings(url))) for _ in range(3)]
    fresh = iter(cold)
    return {"cached_ms": median_ms(lambda: study.get_trials(deepcopy=False), 5),
            "cold_ms": median_ms(lambda: next(fresh).get_trials(deepcopy=False), 3)}


def storage_loop(server: PostgresServer, template: dict[str, Any], names: list[str],
                 trials: int) -> dict[str, Any]:
    """The worker's loop on a new PostgreSQL study with a zero-cost objective."""
    url = server.database("storage_loop")
    settings = StorageSettings(url)
    storage = open_storage(settings)
    optuna.create_study(study_name=STUDY, storage=storage, direction="minimize")
    sampler = TimedSampler(NSGAIIISampler(seed=SEED, population_size=POPULATION))
    study = optuna.load_study(study_name=STUDY, storage=storage, sampler=sampler)
    epochs, meter = EpochStore(url), Meter()
    for engine in (storage.engine, epochs._engine):
        event.listen(engine, "before_cursor_execute",
                     lambda *_: setattr(meter, "statements", meter.statements + 1))

    def evaluate(params: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        epoch = {**template, "params_dict": params, "loss": -sum(params.values())}
        meter.objective += time.perf_counter() - started
        return epoch

    def store_epoch(number: int, text: str) -> None:
        started = time.perf_counter()
        epochs.put(STUDY, number, text)
        meter.epoch_store += time.perf_counter() - started

    distributions = {name: FloatDistribution(0.0, 1.0) for name in names}
    windows, done = [], 0
    for size in (s for s in WINDOWS if s <= trials):
        before = Meter(objective=meter.objective, sampler=sampler.secs,
                       epoch_store=meter.epoch_store, statements=meter.statements,
                       server_cpu=server_cpu_secs(server))
        started = time.perf_counter()
        meter.ended = [started]
        Worker(study, evaluate, store_epoch, distributions, size, settings.heartbeat_secs,
               settings.grace_secs,
               on_epoch=lambda number, epoch: meter.ended.append(time.perf_counter())).run()
        meter.wall, meter.sampler = time.perf_counter() - started, sampler.secs
        meter.server_cpu = server_cpu_secs(server)
        windows.append(_window(done, size, before, meter, get_trials_ms(study, url)))
        done = size
    epochs.close()
    return {"trials": done, "windows": windows, "epoch_json_bytes": len(encode(template)),
            "export_read": export_read(url), "round_trips": round_trips(server)}


def _window(start: int, end: int, before: Meter, after: Meter,
            get_trials: dict[str, float]) -> dict[str, Any]:
    def per_trial_ms(field: str) -> float:
        return (getattr(after, field) - getattr(before, field)) / (end - start) * 1000

    overhead_ms = after.wall / (end - start) * 1000 - per_trial_ms("objective")
    rest = overhead_ms - per_trial_ms("sampler") - per_trial_ms("epoch_store")
    cycles_ms = [(b - a) * 1000 for a, b in zip(after.ended, after.ended[1:])]
    p50_ms = statistics.median(cycles_ms) - per_trial_ms("objective")
    return {"trials": f"{start}-{end}", "overhead_ms_per_trial": round(overhead_ms, 2),
            "overhead_ms_per_trial_p50": round(p50_ms, 2),
            "sampler_ms_per_trial": round(per_trial_ms("sampler"), 2),
            "epoch_store_ms_per_trial": round(per_trial_ms("epoch_store"), 2),
            "optuna_storage_ms_per_trial": round(rest, 2),
            "statements_per_trial": round(per_trial_ms("statements") / 1000, 1),
            "server_cpu_ms_per_trial": round(per_trial_ms("server_cpu"), 2),
            f"get_trials_at_{end}": get_trials}


def export_read(url: str) -> dict[str, float]:
    """What the worker that completes the study reads to write the results file: every
    epoch's JSON."""
    store = EpochStore(url)
    started = time.perf_counter()
    texts = store.all(STUDY)
    secs = time.perf_counter() - started
    store.close()
    return {"epochs": len(texts), "secs": round(secs, 2),
            "mbytes": round(sum(map(len, texts.values())) / 1e6, 1)}


def _select_loop(port: int, secs: float) -> int:
    import pg8000.native

    connection = pg8000.native.Connection("centaur", host="127.0.0.1", port=port,
                                          database="postgres")
    count, deadline = 0, time.perf_counter() + secs
    while time.perf_counter() < deadline:
        connection.run("SELECT 1")
        count += 1
    connection.close()
    return count


def round_trips(server: PostgresServer, secs: float = 3.0) -> dict[str, float]:
    """``SELECT 1`` round trips: one client's latency, two client processes' throughput."""
    one = _select_loop(server.port, secs)
    with ProcessPoolExecutor(2) as pool:
        two = sum(pool.map(_select_loop, [server.port] * 2, [secs] * 2))
    return {"one_client_ms": round(secs / one * 1000, 3),
            "one_client_per_sec": round(one / secs), "two_clients_per_sec": round(two / secs)}


# ---- the model: 8 and 32 machines ------------------------------------------------------------

ASSUMPTIONS = [
    "every machine is this one (2 cores) running 2 workers; a worker's cycle per trial is the "
    "2-worker PostgreSQL run's measured (wall - start-up) x 2 / epochs (objective, storage, "
    "sampler and the two workers' contention included, at a study of a few dozen trials)",
    "the loop's overhead grows with the study (the trial list every loop reads, the sampler): "
    "the slope (if positive) of a line fitted to the zero-cost loop's median trial per window "
    "is added per trial already in the study",
    "a remote server adds (network RTT - the loopback round trip measured here) per SQL "
    "statement of the loop (SQLAlchemy's pre-ping per checkout not counted)",
    "each machine pays the measured 1-worker start-up once, all machines at once",
    "the PostgreSQL server is its own machine of server_cores; its ceiling in trials/s is "
    "server_cores / its CPU per trial (a line fitted to /proc CPU times of its processes in "
    "the zero-cost loop, slope floored at 0); its disk and locks are taken as no limit "
    "(fsync is off here)",
    "at the end one worker (the one whose trial completed the study) reads all the epochs' "
    "JSON to write the .fthypt file; every other worker reads only the best epoch "
    "(dev_tools/study/export.py): the measured bytes through the server's network "
    "(server_mbytes_per_sec), or the measured loopback read time if longer",
    "the study's time = start-up + sum over its trials of 1 / min(machines x 2 / cycle, "
    "ceiling) + the end's export read; freqtrade -j 2 cannot use other machines: its time is "
    "its measured start-up + study_epochs x its measured seconds per epoch",
]


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(intercept, slope) by least squares; one point: flat."""
    if len(points) < 2:
        return points[0][1], 0.0
    slope, intercept = statistics.linear_regression([x for x, _ in points],
                                                    [y for _, y in points])
    return intercept, slope


def _fits(loop: dict[str, Any]) -> dict[str, tuple[float, float]]:
    def midpoint(window: dict[str, Any]) -> float:
        start, end = map(int, window["trials"].split("-"))
        return (start + end) / 2

    fits = {}
    for name in ("overhead_ms_per_trial_p50", "server_cpu_ms_per_trial"):
        intercept, slope = linear_fit([(midpoint(w), w[name]) for w in loop["windows"]])
        fits[name] = (intercept, max(slope, 0.0))  # a cost that seems to fall is noise
    return fits


def model_inputs(runs: dict[str, Run], loop: dict[str, Any], args: argparse.Namespace
                 ) -> dict[str, Any]:
    fits = _fits(loop)
    two = runs["centaur_postgres_j2"]
    statements = statistics.mean(w["statements_per_trial"] for w in loop["windows"])
    network_ms = statements * max(args.rtt_ms - loop["round_trips"]["one_client_ms"], 0.0)
    read = loop["export_read"]
    return {
        "cycle_secs_per_worker": round((two.wall_secs - two.startup_secs) * 2 / two.epochs, 3),
        "startup_secs": runs["centaur_postgres_j1"].startup_secs,
        "workers_per_machine": 2, "study_epochs": args.model_epochs,
        "overhead_growth_ms_per_1000_trials": round(
            fits["overhead_ms_per_trial_p50"][1] * 1000, 2),
        "server_cpu_ms_per_trial": {"at_0": round(fits["server_cpu_ms_per_trial"][0], 3),
                                    "per_1000_trials": round(
                                        fits["server_cpu_ms_per_trial"][1] * 1000, 3)},
        "server_cores": args.server_cores, "network_rtt_ms": args.rtt_ms,
        "statements_per_trial": round(statements, 1),
        "network_ms_per_trial": round(network_ms, 1),
        "export_mbytes_one_reader": round(read["mbytes"] / read["epochs"] * args.model_epochs),
        "export_read_secs_one_reader": round(read["secs"] / read["epochs"] * args.model_epochs,
                                             1),
        "server_mbytes_per_sec": args.server_mbytes_per_sec,
    }


def study_secs(inputs: dict[str, Any], fits: dict[str, tuple[float, float]],
               machines: int) -> dict[str, float]:
    """The modelled time of one study on ``machines`` machines, by part."""
    workers = machines * inputs["workers_per_machine"]
    growth = fits["overhead_ms_per_trial_p50"][1]
    cpu_0, cpu_slope = fits["server_cpu_ms_per_trial"]
    trials_secs = 0.0
    for n in range(inputs["study_epochs"]):
        cycle = inputs["cycle_secs_per_worker"] + (growth * n + inputs["network_ms_per_trial"]
                                                   ) / 1000
        ceiling = inputs["server_cores"] * 1000 / max(cpu_0 + cpu_slope * n, 1e-6)
        trials_secs += 1 / min(workers / cycle, ceiling)
    export = max(inputs["export_read_secs_one_reader"],  # one reader of every epoch
                 inputs["export_mbytes_one_reader"] / inputs["server_mbytes_per_sec"])
    return {"startup": inputs["startup_secs"], "trials": trials_secs, "export": export}


def model(runs: dict[str, Run], loop: dict[str, Any], args: argparse.Namespace
          ) -> dict[str, Any]:
    inputs, fits = model_inputs(runs, loop, args), _fits(loop)
    ft = runs["freqtrade_j2"]
    freqtrade_secs = ft.startup_secs + args.model_epochs * (ft.wall_secs - ft.startup_secs
                                                            ) / ft.epochs
    one = sum(study_secs(inputs, fits, 1).values())
    machines = {}
    for count in (1, 8, 32):
        parts = study_secs(inputs, fits, count)
        total = sum(parts.values())
        machines[str(count)] = {
            "study_secs": round(total, 1),
            "of_which": {k: round(v, 1) for k, v in parts.items()},
            "speedup": round(one / total, 2), "efficiency": round(one / total / count, 2),
            "speedup_without_export": round(
                (one - study_secs(inputs, fits, 1)["export"]) / (total - parts["export"]), 2),
            "speedup_over_freqtrade_j2": round(freqtrade_secs / total, 2)}
    last = args.model_epochs
    ceiling = args.server_cores * 1000 / (fits["server_cpu_ms_per_trial"][0] +
                                          fits["server_cpu_ms_per_trial"][1] * last)
    return {"inputs": inputs, "machines": machines,
            "freqtrade_j2_study_secs": round(freqtrade_secs, 1),
            "server_ceiling_trials_per_sec_at_end": round(ceiling, 1),
            "machines_at_server_ceiling": round(ceiling * inputs["cycle_secs_per_worker"] / 2),
            "assumptions": ASSUMPTIONS}


# ---- the report ------------------------------------------------------------------------------

def figures(runs: dict[str, Run], loop: dict[str, Any], fitted: dict[str, Any],
            args: argparse.Namespace, llm_job: bool) -> dict[str, Any]:
    ratio = {jobs: runs[f"centaur_postgres_j{jobs}"].wall_secs /
             runs[f"freqtrade_j{jobs}"].wall_secs for jobs in (1, 2)}
    one, two = runs["centaur_postgres_j1"], runs["centaur_postgres_j2"]
    end_wait = two.tail_secs - one.tail_secs  # the idle worker's wait beyond the export
    first = loop["windows"][0]
    return {
        "workload": {"strategy": args.strategy, "spaces": "signals", "loss": LOSS,
                     "epochs": args.epochs, "random_state": SEED, "pairs": list(args.pairs),
                     "timerange": args.timerange, "analyze_per_epoch": True},
        "llm_job_running": llm_job,  # at the start or at the end of the bench
        "runs": {label: run.figures() for label, run in runs.items()},
        "centaur_over_freqtrade_ratio": {"1_worker": round(ratio[1], 3),
                                         "2_workers": round(ratio[2], 3),
                                         "goal_2_workers_max": GOAL_RATIO,
                                         "2_workers_minus_end_wait": round(
                                             (two.wall_secs - end_wait) /
                                             runs["freqtrade_j2"].wall_secs, 3),
                                         "end_wait_secs": round(end_wait, 1)},
        "repeat": args.repeat,
        "storage": {"overhead_ms_per_trial_first_window": first["overhead_ms_per_trial"],
                    **loop},
        "model": fitted,
    }


def print_table(runs: dict[str, Run], result: dict[str, Any]) -> None:
    print(f"{'run':<22}{'wall s':>8}{'epochs/min':>12}{'start-up s':>12}{'trial s p50':>13}"
          f"{'end s':>7}")
    for label, run in runs.items():
        shown = run.figures()
        print(f"{label:<22}{shown['wall_secs']:>8}{shown['epochs_per_min']:>12}"
              f"{shown.get('startup_secs', '-'):>12}{shown.get('trial_secs_p50', '-'):>13}"
              f"{shown.get('tail_secs', '-'):>7}")
    print("centaur/freqtrade:", result["centaur_over_freqtrade_ratio"])
    for window in result["storage"]["windows"]:
        print(f"  storage loop {window['trials']:>9}: {window['overhead_ms_per_trial']} ms/trial "
              f"(p50 {window['overhead_ms_per_trial_p50']}, sampler "
              f"{window['sampler_ms_per_trial']}, epoch store "
              f"{window['epoch_store_ms_per_trial']}), {window['statements_per_trial']} "
              f"statements, server CPU {window['server_cpu_ms_per_trial']} ms")
    for count, row in result["model"]["machines"].items():
        print(f"  model {count:>2} machines: {row}")


def llm_job_running() -> bool:
    """Another session's long local-LLM job (it takes a core of this 2-core machine)."""
    listed = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any("research.llm_report" in line for line in listed.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=32)
    parser.add_argument("--timerange", default="20250201-20250401")
    parser.add_argument("--pairs", nargs="+", default=["BTC/USDT:USDT", "ETH/USDT:USDT"])
    parser.add_argument("--strategy", default="SignalBollingerRsi")
    parser.add_argument("--config", default="config/backtest.json")
    parser.add_argument("--overhead-trials", type=int, default=WINDOWS[-1])
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the hyperopt runs (the fastest of each is kept)")
    parser.add_argument("--skip-sqlite", action="store_true")
    model_options = parser.add_argument_group("model (assumptions)")
    model_options.add_argument("--model-epochs", type=int, default=1000)
    model_options.add_argument("--server-cores", type=int, default=4)
    model_options.add_argument("--rtt-ms", type=float, default=0.5,
                               help="network round trip worker -> PostgreSQL server")
    model_options.add_argument("--server-mbytes-per-sec", type=float, default=125.0,
                               help="the server's network (125: 1 Gbit/s)")
    args = parser.parse_args()
    started, llm_job = time.perf_counter(), llm_job_running()
    with tempfile.TemporaryDirectory(prefix="centaur-bench-scale-") as tmp, \
            running_postgres() as server:
        ws = workspace(Path(tmp), args)
        runs, url = hyperopt_runs(server, ws, args)
        store = EpochStore(url)
        template = decode(next(iter(store.all(f"{STUDY}-0").values())))
        store.close()
        names = list(optuna.load_study(study_name=f"{STUDY}-0", storage=url)
                     .user_attrs["centaur_fingerprint"]["spaces"])
        loop = storage_loop(server, template, names, args.overhead_trials)
    result = figures(runs, loop, model(runs, loop, args), args, llm_job or llm_job_running())
    result["bench_secs"] = round(time.perf_counter() - started)
    write_result("scale", result)
    print_table(runs, result)


if __name__ == "__main__":
    main()
