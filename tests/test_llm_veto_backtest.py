"""The veto inside real freqtrade backtests of CentaurEnsemble on real candles and headlines.

A chat-completions server on 127.0.0.1 plays the model (a deterministic rule: skip on
alarming headlines, reduce when volatile); the real ``openai`` client talks to it from inside
the freqtrade process. Record, replay twice, invert; then the endpoint down under each policy.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from research.llm_report_metrics import candidate_of, denied_candidates, same_trades
from tests.fakes.openai_server import start_fake_openai
from tests.support.freqtrade_run import backtest, write_config
from tests.support.paths import DATA
from tests.support.processes import free_port


pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]
TIMERANGE = "20260206-20260213"  # dense real headlines on Feb 6-7
NEWS = {"source": "csv", "csv_path": str(DATA / "news" / "crypto_headlines_2025-11_2026-02.csv")}


def _config(directory, label: str, **llm):
    return write_config(directory, "backtest.json", {
        "exchange": {"pair_whitelist": PAIRS},
        "centaur": {"llm": {"store_path": str(directory / "record.sqlite"), "run_label": label,
                            "news": NEWS, **llm}},
    }, name=f"{label}.json")


def _decisions(directory, label: str) -> list[dict]:
    with sqlite3.connect(directory / "record.sqlite") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM decisions WHERE run_label=?", (label,))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("veto")
    fake, stop = start_fake_openai()
    try:
        out = {"off": backtest(directory, _config(directory, "off", mode="off"),
                               timerange=TIMERANGE, strategy="CentaurEnsemble")}
        out["record"] = backtest(directory, _config(directory, "record", mode="record",
                                                    base_url=fake.url),
                                 timerange=TIMERANGE, strategy="CentaurEnsemble")
        calls_after_record = len(fake.requests)
        for label, mode in (("replay1", "replay"), ("replay2", "replay"), ("invert", "invert")):
            out[label] = backtest(directory, _config(directory, label, mode=mode,
                                                     base_url=fake.url),
                                  timerange=TIMERANGE, strategy="CentaurEnsemble")
        out["calls"] = (calls_after_record, len(fake.requests))
    finally:
        stop()
    out["dir"] = directory
    return out


def test_two_replays_reproduce_the_recording_trade_for_trade(runs):
    record = runs["record"].trades
    assert record, "the scenario opened no trade"
    assert same_trades(runs["replay1"].trades, record)
    assert same_trades(runs["replay2"].trades, record)
    recorded_calls, total_calls = runs["calls"]
    assert recorded_calls > 0 and total_calls == recorded_calls, "a replay called the endpoint"
    codes = {d["reason_code"] for d in _decisions(runs["dir"], "replay1")}
    assert "LLM_REPLAY_MISS" not in codes


def test_the_veto_denied_entries_that_trade_without_it(runs):
    decisions = _decisions(runs["dir"], "record")
    assert {d["reason_code"] for d in decisions} >= {"LLM_PROCEED", "LLM_SKIP"}
    denied = denied_candidates(decisions)
    assert not [t for t in runs["record"].trades if candidate_of(t) in denied], \
        "a trade opened on a vetoed candidate"
    vetoed = [t for t in runs["off"].trades if candidate_of(t) in denied]
    assert vetoed, "no trade of the veto-off run was vetoed: the scenario proves nothing"


def test_reduce_shrinks_the_stake_the_risk_layer_computes(runs):
    reduced = {(d["pair"], d["side"], datetime.fromisoformat(d["decided_at"])): d["scale"]
               for d in _decisions(runs["dir"], "record") if d["reason_code"] == "LLM_REDUCE"}
    off = {candidate_of(t): t for t in runs["off"].trades}
    pairs = [(t, off[candidate_of(t)]) for t in runs["record"].trades
             if candidate_of(t) in reduced and candidate_of(t) in off]
    assert pairs, "no reduced trade to compare"
    for on_trade, off_trade in pairs:
        assert on_trade["stake_amount"] < off_trade["stake_amount"]


def test_the_inverted_run_takes_only_what_the_veto_denied(runs):
    denied = denied_candidates(_decisions(runs["dir"], "record"))
    inverted = runs["invert"].trades
    assert inverted and all(candidate_of(t) in denied for t in inverted)


@pytest.mark.parametrize("policy", ["skip", "proceed"])
def test_an_unreachable_endpoint_follows_the_policy_inside_freqtrade(runs, tmp_path, policy):
    down = f"http://127.0.0.1:{free_port()}/v1"
    result = backtest(tmp_path, _config(tmp_path, policy, mode="record", base_url=down,
                                        failure_policy=policy),
                      timerange=TIMERANGE, strategy="CentaurEnsemble")
    codes = {d["reason_code"] for d in _decisions(tmp_path, policy)}
    assert codes == {"LLM_CONNECTION_ERROR"}
    if policy == "skip":
        assert result.trades == [], "an entry went through without an opinion"
    else:
        assert same_trades(result.trades, runs["off"].trades)
