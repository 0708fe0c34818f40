"""The walk-forward command: in-sample hyperopt, then backtests in and out of sample with the
best parameters, and the OOS/IS Sharpe verdict - run for real on a small slice."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from research.walk_forward import MIN_OOS_SHARPE, MIN_OOS_TO_IS_RATIO, verdict
from tests.support.freqtrade_run import freqtrade_env, write_config
from tests.support.paths import PROJECT_ROOT


@pytest.mark.parametrize(("in_sample", "out_of_sample", "fit"), [
    (2.0, 1.2, True),      # 0.6 of in sample, above 0.3
    (2.0, 0.9, False),     # 0.45 of in sample
    (0.5, 0.29, False),    # above half, but under 0.3 absolute
    (-1.0, 0.8, False),    # nothing to carry forward
    (1.0, 0.5, True),      # exactly at both bars
])
def test_verdict_rule(in_sample, out_of_sample, fit):
    result = verdict(in_sample, out_of_sample)
    assert result.fit is fit, result.reason
    if in_sample > 0:
        assert result.oos_to_is_ratio == pytest.approx(out_of_sample / in_sample)
    assert MIN_OOS_TO_IS_RATIO == 0.5 and MIN_OOS_SHARPE == 0.3


@pytest.mark.slow
def test_the_command_optimises_in_sample_and_judges_out_of_sample(tmp_path):
    config = write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"]}})
    output = tmp_path / "walk_forward"
    process = subprocess.run(
        [sys.executable, "-m", "research.walk_forward", "--in-sample", "20250305-20250312",
         "--out-of-sample", "20250312-20250317", "--epochs", "3", "--jobs", "2",
         "--min-trades", "1", "--ledger", str(tmp_path / "ledger.jsonl"),
         "--config", str(config), "--output", str(output)],
        cwd=PROJECT_ROOT, env=freqtrade_env(), capture_output=True, text=True, timeout=900)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    report = json.loads(output.with_suffix(".json").read_text())
    assert report["in_sample"]["timerange"] == "20250305-20250312"
    assert report["out_of_sample"]["timerange"] == "20250312-20250317"
    expected = verdict(report["in_sample"]["sharpe"], report["out_of_sample"]["sharpe"])
    assert report["verdict"]["fit"] is expected.fit
    assert {"basis_z_entry", "ensemble_vote_threshold"} <= {
        name for space in report["params"].values() for name in space}
    assert output.with_suffix(".md").read_text().startswith("# Walk-forward")
    looks = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    assert [look["window"] for look in looks] == ["20250312-20250317 futures 5m"]
    assert not (PROJECT_ROOT / "user_data" / "strategies" / "CentaurEnsemble.json").exists()
