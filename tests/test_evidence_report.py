"""``make report-evidence`` end to end on a small slice: the signals scored against their
null on real candles analysed by the flagship in freqtrade, the verdict, the ledger lines,
the Markdown and the plot - with every data option given explicitly."""

from __future__ import annotations

import json

import pytest

from research import evidence_report
from research.evidence.ledger import Ledger
from tests.support.paths import BINANCE_DATA

pytestmark = pytest.mark.slow


def test_the_report_scores_every_signal_against_its_null_and_records_each_look(tmp_path):
    ledger, out = tmp_path / "ledger.jsonl", tmp_path / "evidence"
    evidence_report.main([
        "--no-second", "--datadir", str(BINANCE_DATA), "--pairs", "BTC/USDT:USDT",
        "ETH/USDT:USDT", "--timeframe", "5m", "--timerange", "20250301-20250415",
        "--oos-start", "20250401", "--carry-pairs", "BTC/USDT:USDT", "ETH/USDT:USDT",
        "--ledger", str(ledger), "--out", str(out)])
    report = json.loads(out.with_suffix(".json").read_text())
    period = report["periods"][0]
    assert period["pairs"] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert (period["timeframe"], period["out_of_sample_from"]) == ("5m", "20250401")
    bb_rsi = period["signals"]["bb_rsi"]["1h"]
    for part in ("in_sample", "out_of_sample"):
        figures = bb_rsi[part]
        assert figures["calls"] > 20
        assert 0.3 < figures["null_hit_rate"] < 0.5  # after 10 bp a coin loses at 1 h
        assert figures["excess_hit_rate"]["estimate"] == pytest.approx(
            figures["hit_rate"] - figures["null_hit_rate"], abs=2e-4)
    assert "minimum_detectable_excess" in bb_rsi["tracker_power"]
    verdict = report["verdict"]
    assert verdict["tests"] == sum(len(v["horizons"]) for v in verdict["signals"].values())
    assert set(verdict["passing"]) <= set(verdict["signals"])
    looks = Ledger(ledger).entries()
    signal_looks = [look for look in looks if look["subject"] != "carry"]
    assert {look["subject"] for look in signal_looks} == {
        f"signal:{n}" for n in period["signals"]}
    assert {look["window"] for look in signal_looks} == {"20250401-20250415 futures 5m"}
    # the carry flagship: one look at its whole span, both legs, checked against its goal
    carry = report["carry"]
    assert [look["window"] for look in looks if look["subject"] == "carry"] == [
        "20250301-20250415 futures carry"]
    assert carry["data"]["pairs"] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert set(carry["goal"]) >= {"return_per_year", "max_drawdown", "deflated_sharpe", "met"}
    assert carry["figures"]["unhedged_trades"] == 0
    assert report["looks"] == {"20250401-20250415 futures 5m": 1,
                               "20250301-20250415 futures carry": 1}
    text = out.with_suffix(".md").read_text()
    assert text.startswith("# Evidence") and "delta-neutral funding carry" in text
    assert (tmp_path / "evidence_signals.png").stat().st_size > 5_000
