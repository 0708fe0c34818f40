"""``centaur hyperopt`` on a shared Optuna study, run as an operator runs it (subprocesses).

- One worker on a SQLite study equals ``freqtrade hyperopt -j 1`` epoch for epoch for the same
  random state (same parameters, same losses), and its exported parameters equal freqtrade's.
- A second run continues the study up to the new ``--epochs``; a worker with another search
  is refused by name.
- Two workers, each in its own network namespace (a stand-in for a machine), share a study in
  a real PostgreSQL; one is SIGKILLed in the middle of a trial; the study completes, the dead
  trial is FAILED and retried with its parameters.
- The exported parameters run in plain ``freqtrade backtesting`` and give the best epoch's
  trades.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from dev_tools.postgres import PostgresServer, PostgresUnavailable
from dev_tools.study.epochs import EpochStore
from dev_tools.study.worker import WORKER_ATTR
from tests.support.freqtrade_run import backtest, freqtrade_env, run_freqtrade, write_config
from tests.support.netns import Machine, machines
from tests.support.paths import PROJECT_ROOT
from tests.support.processes import wait_until

pytestmark = pytest.mark.slow

STRATEGY = "SignalBollingerRsi"
SHORT = "20250301-20250315"


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(PROJECT_ROOT / "user_data" / "strategies" / f"{STRATEGY}.py", strategies)
    config = write_config(tmp_path, "backtest.json", {
        "strategy_path": str(strategies),
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
    })
    return {"root": tmp_path, "strategies": strategies, "config": config}


def _search(ws: dict[str, Path], epochs: int, timerange: str = SHORT) -> list[str]:
    return ["-c", str(ws["config"]), "--strategy", STRATEGY, "--strategy-path",
            str(ws["strategies"]), "--spaces", "signals", "--analyze-per-epoch",
            "--epochs", str(epochs), "--hyperopt-loss", "SharpeHyperOptLoss",
            "--random-state", "7", "--timerange", timerange, "--min-trades", "1"]


def _centaur(args: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dev_tools.cli", "hyperopt", *args],
                          cwd=PROJECT_ROOT, env=freqtrade_env(), capture_output=True, text=True,
                          timeout=timeout)


def _ok(process: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process


def _fthypt_epochs(folder: Path, pattern: str) -> list[dict]:
    (path,) = folder.glob(pattern)
    return [json.loads(line) for line in path.read_text().splitlines()]


def _sqlite(ws: dict[str, Path]) -> str:
    return f"sqlite:///{ws['root'] / 'studies.sqlite'}"


def test_one_worker_equals_freqtrade_and_exports_the_same_parameters(workspace):
    ws = workspace
    _ok(run_freqtrade(["hyperopt", *_search(ws, 6), "-j", "1"]))
    freqtrade_params = json.loads((ws["strategies"] / f"{STRATEGY}.json").read_text())
    (ws["strategies"] / f"{STRATEGY}.json").unlink()
    results = ws["root"] / "user_data" / "hyperopt_results"
    ours_expected = _fthypt_epochs(results, f"strategy_{STRATEGY}_2*.fthypt")

    _ok(_centaur([*_search(ws, 6), "--storage", _sqlite(ws), "--study-name", "one", "-j", "1"]))
    ours = _fthypt_epochs(results, f"strategy_{STRATEGY}_one.fthypt")
    assert [(e["params_dict"], e["loss"], e["is_best"]) for e in ours] == \
        [(e["params_dict"], e["loss"], e["is_best"]) for e in ours_expected]
    exported = json.loads((ws["strategies"] / f"{STRATEGY}.json").read_text())
    assert exported["params"] == freqtrade_params["params"]
    # freqtrade's own reader shows the study's best (.last_result.json points at its file).
    shown = _ok(run_freqtrade(["hyperopt-show", "--best", "-c", str(ws["config"])]))
    best_loss = min(e["loss"] for e in ours)
    assert f"Objective: {best_loss:.5f}" in shown.stdout, shown.stdout[-2000:]


def test_a_second_run_continues_the_study_and_another_search_is_refused(workspace):
    ws = workspace
    storage = ["--storage", _sqlite(ws), "--study-name", "resume", "-j", "1"]
    _ok(_centaur([*_search(ws, 3), *storage]))
    study = optuna.load_study(study_name="resume", storage=_sqlite(ws))
    first = [(t.number, t.params) for t in study.get_trials(states=(TrialState.COMPLETE,))]
    assert len(first) == 3

    _ok(_centaur([*_search(ws, 5), *storage]))
    study = optuna.load_study(study_name="resume", storage=_sqlite(ws))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 5
    assert [(t.number, t.params) for t in complete][:3] == first  # kept, not rerun
    assert set(EpochStore(_sqlite(ws)).all("resume")) == {t.number for t in complete}
    epochs = _fthypt_epochs(ws["root"] / "user_data" / "hyperopt_results",
                            f"strategy_{STRATEGY}_resume.fthypt")
    assert len(epochs) == 5

    refused = _centaur([*_search(ws, 6, timerange="20250315-20250330"), *storage])
    assert refused.returncode == 2
    assert "timerange" in refused.stderr and "20250301-20250315" in refused.stderr
    assert len(optuna.load_study(study_name="resume", storage=_sqlite(ws)).get_trials(
        states=(TrialState.COMPLETE,))) == 5


def _running_trial_of(storage: optuna.storages.RDBStorage, name: str, pid: int
                      ) -> optuna.trial.FrozenTrial | None:
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None
    return next((t for t in study.get_trials(states=(TrialState.RUNNING,))
                 if t.user_attrs.get(WORKER_ATTR, "").endswith(f":{pid}")), None)


def test_two_machines_share_a_postgres_study_and_survive_a_kill(workspace):
    """Each worker runs in its own network namespace (a stand-in for a machine: its own
    loopback, one link to the host) and reaches PostgreSQL only over that link; where
    namespaces cannot be made (not root), plain processes on loopback."""
    ws = workspace
    with machines(2) as hosts:
        listen = ("127.0.0.1", *(h.host_ip for h in hosts or ()))
        try:
            server = PostgresServer(listen=listen, trusted_networks=("10.231.0.0/16",)).start()
        except PostgresUnavailable as missing:
            pytest.skip(f"needs PostgreSQL: {missing}")
        try:
            url = server.database("shared")
            _kill_one_of_two(ws, url, hosts)
        finally:
            server.stop()


def _kill_one_of_two(ws: dict[str, Path], url: str, hosts: list[Machine] | None) -> None:
    args = [*_search(ws, 10, timerange="20250201-20250401"), "--study-name", "shared",
            "--heartbeat-secs", "1", "--grace-secs", "4", "-j", "1"]
    commands = []
    for index in range(2):
        worker_url = url if hosts is None else url.replace("127.0.0.1", hosts[index].host_ip)
        argv = [sys.executable, "-m", "dev_tools.cli", "hyperopt", *args, "--storage", worker_url]
        commands.append(argv if hosts is None else hosts[index].command(argv))
    logs = [open(ws["root"] / f"worker{i}.log", "w") for i in range(2)]  # noqa: SIM115
    workers = [subprocess.Popen(command, cwd=PROJECT_ROOT, env=freqtrade_env(), stdout=log,
                                stderr=subprocess.STDOUT) for command, log in zip(commands, logs)]
    try:
        victim = workers[0]
        storage = optuna.storages.RDBStorage(url)
        killed = wait_until(lambda: _running_trial_of(storage, "shared", victim.pid), 600,
                            "the first worker to run a trial", interval=0.2)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert workers[1].wait(timeout=900) == 0, (ws["root"] / "worker1.log").read_text()[-3000:]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
        for log in logs:
            log.close()
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) >= 10
    dead = next(t for t in trials if t.number == killed.number)
    assert dead.state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retried and retried[0].params == killed.params
    assert retried[0].state == TrialState.COMPLETE
    # Both workers evaluated trials; in namespaces their own 127.0.0.1 has no server, so each
    # reached PostgreSQL over its link to the host.
    by_worker = {t.user_attrs.get(WORKER_ATTR, "").rsplit(":", 1)[-1] for t in trials}
    assert {str(victim.pid), str(workers[1].pid)} <= by_worker
    # The exported best runs in plain freqtrade backtesting and trades as the best epoch did.
    exported = json.loads((ws["strategies"] / f"{STRATEGY}.json").read_text())
    best = min(complete, key=lambda t: (t.value, t.number))
    assert exported["params"]["signals"] == {k: best.params[k]
                                             for k in exported["params"]["signals"]}
    run = backtest(ws["root"], ws["config"], timerange="20250201-20250401", strategy=STRATEGY,
                   extra_args=["--strategy-path", str(ws["strategies"])])
    assert "Loading parameters from file" in run.process.stdout + run.process.stderr
    best_epoch = json.loads(EpochStore(url).all("shared")[best.number])
    assert len(run.trades) == best_epoch["results_metrics"]["total_trades"]


def test_an_unreachable_storage_is_a_clear_error_without_its_password(workspace):
    refused = _centaur([*_search(workspace, 2), "--storage",
                        "postgresql+pg8000://centaur:S3cretPW@127.0.0.1:1/studies"])
    assert refused.returncode == 2
    assert "cannot open the study storage" in refused.stderr
    assert "Fix: start the database or correct --storage" in refused.stderr
    assert "S3cretPW" not in refused.stdout + refused.stderr
