"""The shared-study worker's loop on a real Optuna RDB storage (a SQLite file), with a plain
objective in place of freqtrade's backtest and an injected clock and sleep."""

from __future__ import annotations

from datetime import datetime, timedelta

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from dev_tools.study import export, fingerprint
from dev_tools.study.storage import StorageSettings, open_storage
from dev_tools.study.epochs import EpochStore
from dev_tools.study.worker import Worker, counts, plain, register

SPACE = {"x": FloatDistribution(-2.0, 2.0, step=0.01), "n": IntDistribution(1, 9)}


def _epoch(params: dict) -> dict:
    loss = (params["x"] - 0.5) ** 2 + params["n"] / 10
    return {"loss": loss, "params_dict": params, "results_metrics": {"total_trades": 3},
            "results_explanation": "", "total_profit": -loss}


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 's.sqlite'}"


@pytest.fixture
def study(url):
    storage = open_storage(StorageSettings(url, 1, 5))
    return optuna.create_study(study_name="s", storage=storage, direction="minimize",
                               sampler=optuna.samplers.RandomSampler(seed=3))


@pytest.fixture
def stored(url):
    store = EpochStore(url)
    yield store
    store.close()


def _worker(study, epochs, store: EpochStore | None = None, **kwargs) -> Worker:
    def put(number: int, text: str) -> None:
        if store is not None:
            store.put(study.study_name, number, text)

    return Worker(study, _epoch, put, SPACE, epochs, heartbeat_secs=1, grace_secs=5, name="w",
                  **kwargs)


def test_a_worker_fills_the_study_up_to_its_epochs_and_a_rerun_adds_nothing(study, stored):
    worker = _worker(study, 4, stored)
    assert worker.run() == 4
    assert worker.completed_study  # its trial was the 4th complete one
    assert counts(study).complete == 4
    assert set(stored.all("s")) == {t.number for t in study.get_trials()}
    assert _worker(study, 4).run() == 0
    assert _worker(study, 6).run() == 2


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_failed_and_retried(study):
    orphan = study.ask(SPACE)  # asked by a worker that was killed at once: RUNNING, no beat
    started = study.get_trials()[0].datetime_start
    sleeps = []
    worker = _worker(study, 3, sleep=sleeps.append,
                     clock=lambda: started + timedelta(seconds=2))
    # Inside the grace period the orphan counts as running elsewhere: the worker fills the rest
    # and then waits for it.
    worker.sleep = lambda secs: (sleeps.append(secs), setattr(
        worker, "clock", lambda: started + timedelta(seconds=6)))
    assert worker.run() == 3
    trials = study.get_trials()
    assert trials[orphan.number].state == TrialState.FAIL
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == orphan.number]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].params == orphan.params
    assert sleeps and counts(study).complete == 3


def test_a_worker_waits_while_the_last_trial_runs_elsewhere(study):
    _worker(study, 2).run()
    elsewhere = study.ask(SPACE)
    study._storage.record_heartbeat(elsewhere._trial_id)
    study.set_user_attr("noop", 1)
    elsewhere.set_user_attr("worker", "other:1")

    def finish_elsewhere(_secs: float) -> None:
        study.tell(elsewhere, 1.0)

    worker = _worker(study, 3, sleep=finish_elsewhere, clock=datetime.now)
    assert worker.run() == 0  # it did not evaluate a fourth trial
    assert counts(study).complete == 3


def test_an_exhausted_space_stops_the_worker_instead_of_spinning(tmp_path):
    storage = open_storage(StorageSettings(f"sqlite:///{tmp_path / 'e.sqlite'}", 1, 5))
    study = optuna.create_study(study_name="e", storage=storage,
                                sampler=optuna.samplers.RandomSampler(seed=1))
    tiny = {"x": CategoricalDistribution([0.0, 1.0]), "n": CategoricalDistribution([1])}
    worker = Worker(study, _epoch, lambda n, t: None, tiny, 5, heartbeat_secs=1, grace_secs=5)
    assert worker.run() == 2
    assert worker.duplicates >= 1
    assert counts(study).complete == 2


def test_workers_take_positions_in_arrival_order(study):
    assert register(study, 100.0) == 0
    assert register(study, 101.0) == 1
    assert register(study, 99.0) == 0  # an earlier start (clocks differ): sorted by time


def test_another_search_is_refused_naming_what_differs(study):
    config = {"timerange": "20250101-20250201", "timeframe": "5m"}
    values = fingerprint.fingerprint(config, "S", ["BTC/USDT:USDT"], SPACE)
    fingerprint.check_or_store(study, values)
    fingerprint.check_or_store(study, values)  # the same search joins
    other = fingerprint.fingerprint({**config, "timerange": "20250201-20250301"}, "S",
                                    ["BTC/USDT:USDT"], SPACE)
    with pytest.raises(ValueError, match="timerange.*20250101-20250201.*20250201-20250301"):
        fingerprint.check_or_store(study, other)


def test_exported_epochs_flag_the_best_as_freqtrade_does(study, stored):
    _worker(study, 6, stored).run()
    found = export.epochs(study, stored.all("s"))
    assert [e["current_epoch"] for e in found] == [1, 2, 3, 4, 5, 6]
    running_best = []
    for epoch in found:
        best_so_far = min([e["loss"] for e in running_best], default=100)
        assert epoch["is_best"] == (epoch["loss"] < best_so_far)
        running_best.append(epoch)
    number, index = export.best_trial(study)
    assert found[index - 1]["optuna_trial"] == number
    assert found[index - 1]["loss"] == min(e["loss"] for e in found)
    assert found[index - 1]["is_best"]


def test_freqtrades_distributions_become_optunas_own():
    from freqtrade.optimize.space import SKDecimal, ft_IntDistribution

    converted = plain({"a": SKDecimal(1.5, 3.0, decimals=1, name="a"),
                       "b": ft_IntDistribution(20, 35, name="b")})
    assert converted == {"a": FloatDistribution(1.5, 3.0, step=0.1),
                         "b": IntDistribution(20, 35)}
    assert type(converted["a"]) is FloatDistribution


def test_storage_settings_reject_a_grace_shorter_than_the_heartbeat():
    with pytest.raises(ValueError, match="--grace-secs 5 must exceed --heartbeat-secs 10"):
        StorageSettings("sqlite:///x.sqlite", 10, 5)
    with pytest.raises(ValueError, match="not an RDB URL"):
        StorageSettings("redis://x", 1, 5)
