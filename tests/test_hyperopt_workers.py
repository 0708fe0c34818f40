"""Hyperopt with 2 worker processes loads and applies the suite protection in each worker.

Freqtrade builds protections inside joblib's fresh worker interpreters (never in the parent),
so a registration done only in the parent would fail there with "Impossible to load
Protection". Two identical seeded runs, protections on and off: the same parameter sets must
trade less with the suite protection on - it acted inside the workers.
"""

from __future__ import annotations

import json

import pytest

from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import TEST_STRATEGIES


pytestmark = pytest.mark.slow

TIMERANGE = "20250301-20250305"


def _hyperopt(directory, enable_protections: bool) -> dict[int, int]:
    config = write_config(directory, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT"]},
        "max_open_trades": 1,
        "enable_protections": enable_protections,
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
    }, name=f"hyperopt-{enable_protections}.json")
    args = ["hyperopt", "-c", str(config), "--strategy", "LossStreakScenario",
            "--strategy-path", str(TEST_STRATEGIES), "--timerange", TIMERANGE,
            "--spaces", "buy", "--epochs", "6", "-j", "2", "--random-state", "7",
            "--hyperopt-loss", "SharpeHyperOptLoss", "--min-trades", "1",
            "--disable-param-export"]
    if enable_protections:
        args.append("--enable-protections")
    process = run_freqtrade(args)
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    results = directory / "user_data" / "hyperopt_results"
    (result_file,) = [p for p in results.glob("*.fthypt")]
    trades = {}
    for line in result_file.read_text().splitlines():
        epoch = json.loads(line)
        trades[epoch["params_dict"]["entry_every"]] = epoch["results_metrics"]["total_trades"]
    return trades


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    protected = _hyperopt(tmp_path_factory.mktemp("hyperopt_on"), True)
    unprotected = _hyperopt(tmp_path_factory.mktemp("hyperopt_off"), False)
    return protected, unprotected


def test_two_worker_hyperopt_runs_with_the_suite_protection(runs):
    protected, _ = runs
    assert protected, "no epoch finished"


def test_the_protection_acted_inside_the_workers(runs):
    protected, unprotected = runs
    common = sorted(set(protected) & set(unprotected))
    assert common, "the two seeded runs sampled no common parameters"
    assert all(protected[k] <= unprotected[k] for k in common)
    assert any(protected[k] < unprotected[k] for k in common), (
        f"protections changed nothing: {protected} vs {unprotected}")
