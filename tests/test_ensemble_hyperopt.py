"""Hyperopt of the flagship's signal and ensemble parameters over the shared data, with the
suite's protections on, in two worker processes - and the clear error when the signal space
is optimised without re-analysing each epoch."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import PROJECT_ROOT


pytestmark = pytest.mark.slow

TIMERANGE = "20250305-20250312"
EPOCHS = 5


def _hyperopt(directory, *extra: str):
    """Hyperopt writes the best parameters beside the strategy file: a scratch copy of the
    resolver files keeps them out of the project's ``user_data/strategies``."""
    strategies = directory / "strategies"
    strategies.mkdir()
    shutil.copy(PROJECT_ROOT / "user_data" / "strategies" / "CentaurEnsemble.py", strategies)
    config = write_config(directory, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"]}})
    return run_freqtrade([
        "hyperopt", "-c", str(config), "--strategy", "CentaurEnsemble",
        "--strategy-path", str(strategies),
        "--timerange", TIMERANGE, "--spaces", "signals", "ensemble", "--epochs", str(EPOCHS),
        "-j", "2", "--random-state", "11", "--hyperopt-loss", "SharpeHyperOptLoss",
        "--min-trades", "1", "--enable-protections", *extra])


@pytest.fixture(scope="module")
def epochs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hyperopt")
    process = _hyperopt(directory, "--analyze-per-epoch")
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    (results,) = (directory / "user_data" / "hyperopt_results").glob("*.fthypt")
    return [json.loads(line) for line in results.read_text().splitlines()]


def test_every_epoch_ran_in_the_workers_with_protections(epochs):
    assert len(epochs) == EPOCHS
    assert any(e["results_metrics"]["total_trades"] >= 1 for e in epochs)


def test_signal_and_ensemble_parameters_were_searched_and_mattered(epochs):
    params = [e["params_dict"] for e in epochs]
    assert {"basis_z_entry", "bb_rsi_oversold", "ensemble_vote_threshold"} <= set(params[0])
    assert len({json.dumps(p, sort_keys=True) for p in params}) == EPOCHS
    trades = {e["results_metrics"]["total_trades"] for e in epochs}
    assert len(trades) > 1, "every parameter set traded the same: the parameters were ignored"
    assert not (PROJECT_ROOT / "user_data" / "strategies" / "CentaurEnsemble.json").exists()


def test_optimising_signals_without_analyze_per_epoch_fails_with_the_fix(tmp_path):
    process = _hyperopt(tmp_path)
    assert process.returncode == 2
    assert "--analyze-per-epoch" in process.stdout + process.stderr
