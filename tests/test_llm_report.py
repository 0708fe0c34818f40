"""The counterfactual report's measurements and its 2022 datadir (real nautilus bars)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from research import llm_report_metrics as rm
from research.llm_report_data import (
    INTEREST_RATE,
    PREMIUM_CLAMP,
    binance_funding,
    build_datadir,
)
from tests.support.paths import DATA


def trade(pair="BTC/USDT:USDT", short=False, opened="2026-02-06 12:05:00+00:00", profit=10.0,
          stake=500.0, leverage=2.0):
    return {"pair": pair, "is_short": short, "open_date": opened,
            "close_date": "2026-02-06 14:00:00+00:00", "profit_abs": profit,
            "profit_ratio": profit / stake, "stake_amount": stake, "leverage": leverage,
            "amount": 1.0, "open_rate": 1.0, "close_rate": 1.0, "exit_reason": "x"}


def decision(pair, side, at, allowed):
    return {"pair": pair, "side": side, "decided_at": at, "allowed": int(allowed),
            "reason_code": "LLM_PROCEED" if allowed else "LLM_SKIP"}


def test_r_is_the_loss_at_the_hard_stop():
    assert rm.r_multiple(trade(profit=-20.0), 0.02) == pytest.approx(-1.0)
    assert rm.r_multiple(trade(profit=30.0, leverage=3.0), 0.02) == pytest.approx(1.0)


def test_vetoed_trades_are_off_run_trades_the_veto_denied():
    off = [trade(), trade(short=True, opened="2026-02-06 13:00:00+00:00", profit=-5.0),
           trade(pair="ETH/USDT:USDT")]
    on_decisions = [decision("BTC/USDT:USDT", "long", "2026-02-06T12:05:00+00:00", True),
                    decision("BTC/USDT:USDT", "short", "2026-02-06T13:00:00+00:00", False),
                    decision("ETH/USDT:USDT", "long", "2026-02-06T12:10:00+00:00", False)]
    vetoed = rm.vetoed_trades(off, on_decisions)
    assert vetoed == [off[1]]
    assert rm.trade_summary(vetoed, 0.02)["profit_usd"] == -5.0


def test_rates_count_failures_and_abstentions():
    rows = [{"reason_code": c} for c in
            ["LLM_PROCEED", "LLM_SKIP", "LLM_SKIP", "LLM_TIMEOUT", "LLM_REPLAY_MISS"]]
    rates = rm.decision_rates(rows)
    assert rates["abstain_rate"] == 0.4 and rates["failure_rate"] == 0.4
    assert rates["replay_misses"] == 1 and rates["consulted"] == 5


def test_an_intervention_is_judged_on_its_own_window_and_pair():
    action = {"decided_at": "2026-02-06T12:00:00+00:00", "detail": json.dumps(
        {"tool": "disable_asset", "pair": "BTC/USDT:USDT", "value": None, "hours": 2})}
    without = [trade(profit=-8.0), trade(pair="ETH/USDT:USDT", profit=4.0),
               trade(opened="2026-02-06 15:00:00+00:00", profit=50.0)]
    with_it = [trade(pair="ETH/USDT:USDT", profit=4.0),
               trade(opened="2026-02-06 15:00:00+00:00", profit=50.0)]
    effect, = rm.intervention_effects([action], with_it, without, 0.02)
    assert effect["without"]["trades"] == 1 and effect["with_intervention"]["trades"] == 0
    assert effect["profit_change_usd"] == 8.0


@given(st.lists(st.floats(-0.01, 0.01, allow_nan=False), min_size=8, max_size=80))
def test_funding_follows_binances_formula_bounds(premiums):
    index = pd.date_range("2022-01-01", periods=len(premiums), freq="1h", tz="UTC")
    funding = binance_funding(pd.Series(premiums, index=index))
    mean = pd.Series(premiums, index=index).rolling("8h").mean()
    for at, rate in funding.items():
        assert at.hour in (0, 8, 16)
        clamp = min(max(INTEREST_RATE - mean[at], -PREMIUM_CLAMP), PREMIUM_CLAMP)
        assert rate == pytest.approx(mean[at] + clamp, abs=1e-12)
        assert abs(rate - mean[at]) <= PREMIUM_CLAMP + 1e-12


def test_the_2022_datadir_from_the_real_nautilus_bars(tmp_path):
    derived = build_datadir(DATA / "orderbooks/nautilus/btc-perp-20211231-20220201_1m.csv",
                            DATA / "binance-2021-22q1/BTC_USDT-1h.feather", tmp_path)
    folder = tmp_path / "futures"
    five = pd.read_feather(folder / "BTC_USDT_USDT-5m-futures.feather")
    hourly = pd.read_feather(folder / "BTC_USDT_USDT-1h-futures.feather")
    funding = pd.read_feather(folder / "BTC_USDT_USDT-1h-funding_rate.feather")
    assert str(five["date"].dtype) == "datetime64[ns, UTC]"
    assert five["date"].diff().dropna().eq(pd.Timedelta(minutes=5)).all(), "gaps in the 5m bars"
    assert len(hourly) == pytest.approx(len(five) / 12, abs=2)
    assert set(funding["date"].dt.hour) == {0, 8, 16}
    assert derived.funding_min >= INTEREST_RATE - 1e-12  # contango month: premium above spot
    assert derived.first_candle.isoformat().startswith("2021-12-31T23:00")


@pytest.mark.slow
def test_the_135m_model_runs_every_arm_end_to_end_on_a_short_range(tmp_path):
    """The report on a week of 2021-22 (1h spot): the 135M model, the lexicon rule, a model
    that is not installed; random vetoes skip at the model's rate; intervals hold the estimate."""
    from research import llm_report

    pytest.importorskip("xllamacpp")
    llm_report.main(["--periods", "2021-22", "--timerange-2021", "20211012-20211019",
                     "--models", "smollm2-135m", "lexicon", "no-such-model",
                     "--random-seeds", "2", "--no-ledger", "--no-breaker",
                     "--store", str(tmp_path / "record.sqlite"), "--out", str(tmp_path)])
    report = json.loads((tmp_path / "veto.json").read_text())
    assert report["models"]["no-such-model"]["installed"] is False
    period, = report["periods"]
    assert set(period["models"]) == {"smollm2-135m", "lexicon"}
    for section in period["models"].values():
        difference = section["veto"]["on_minus_off_r"]
        if difference["total_lower"] is not None:
            assert difference["total_lower"] <= difference["total_r_difference"] <= \
                difference["total_upper"]
        for arm in section["random"]:
            assert arm["target_skip_rate"] == section["veto"]["skip_rate"]
            consulted = max(arm["consulted"], 1)
            # a Bernoulli skip at the target rate: within 4 standard deviations of it
            tolerance = 4 * (arm["target_skip_rate"] * (1 - arm["target_skip_rate"])
                             / consulted) ** 0.5 + 1 / consulted
            assert abs(arm["skip_rate"] - arm["target_skip_rate"]) <= tolerance
        assert section["against_random"]["seeds"] == 2
    assert period["models"]["smollm2-135m"]["veto"]["latency_ms"]["n"] > 0
    assert "not installed" in (tmp_path / "veto.md").read_text()
