"""The verdict drives the defaults: the shipped configs trade only signals that the committed
evidence report passed, and a flagship with none stays flat and says so in its status."""

from __future__ import annotations

import json

import pytest
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.enums import RunMode
from freqtrade.optimize.backtesting import Backtesting

from strategies.pipeline_strategy import FLAT_REASON
from tests.support.freqtrade_run import load_project_config, write_config
from tests.support.paths import PROJECT_ROOT

SHIPPED = ("backtest.json", "dry-run.json", "live.json", "backtest-spot.json",
           "backtest-spot-2021.json")


def _verdict() -> dict:
    return json.loads((PROJECT_ROOT / "reports" / "evidence.json").read_text())["verdict"]


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_config_lists_only_signals_with_an_out_of_sample_edge(name):
    listed = load_project_config(name).get("centaur", {}).get("ensemble", {}).get("signals")
    assert listed is not None, f"config/{name} must list its signals (null trades every one)"
    assert set(listed) <= set(_verdict()["passing"]), (name, listed)


def test_the_verdict_counts_every_test_it_corrected_for():
    verdict = _verdict()
    horizons = sum(len(v["horizons"]) for v in verdict["signals"].values())
    assert verdict["tests"] == horizons
    for name, row in verdict["signals"].items():
        for horizon, figures in row["horizons"].items():
            if figures.get("calls"):
                excess = figures["excess_hit_rate"]
                assert figures["edge"] == (excess["lower"] > 0
                                           and figures["net_return_bps"]["mean"] > 0), name
                assert excess["estimate"] == pytest.approx(
                    figures["hit_rate"] - figures["null_hit_rate"], abs=2e-4)


@pytest.mark.slow
def test_a_flagship_without_signals_stays_flat_and_says_why(tmp_path):
    path = write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
        "centaur": {"ensemble": {"signals": []}}})
    engine = Backtesting(setup_optimize_configuration({
        "config": [str(path)], "strategy": "CentaurEnsemble", "timerange": "20250401-20250415",
        "strategy_path": str(PROJECT_ROOT / "user_data" / "strategies"), "export": "none",
        "backtest_cache": "none"}, RunMode.BACKTEST))
    data, timerange = engine.load_bt_data()
    engine.backtest_one_strategy(engine.strategylist[0], data, timerange)
    strategy = engine.strategy
    assert strategy.signals.signal_names == ()
    assert len(engine.all_bt_content["CentaurEnsemble"]["results"]) == 0
    assert strategy.centaur_status()["flat"] == FLAT_REASON


CARRY_CONFIGS = ("carry.json", "dry-run-carry.json", "live-carry.json")


@pytest.mark.parametrize("name", CARRY_CONFIGS)
def test_the_flagship_configs_run_the_carry_on_the_suite_exchange_class(name):
    from centaur.settings import settings_from
    from sor_exchange.selection import suite_exchange_class

    config = load_project_config(name)
    assert config["strategy"] == "CentaurCarry" and config["trading_mode"] == "futures"
    settings_from(config)  # the carry block parses
    assert suite_exchange_class(config) is not None  # spot candles from the spot market
    assert not config["exchange"].get("key") and not config["exchange"].get("secret")


def test_each_signal_that_did_not_pass_says_why_in_its_module():
    import importlib

    from strategies.signals import REGISTRY

    passing = set(_verdict()["passing"])
    for name, entry in REGISTRY.items():
        if name in passing:
            continue
        module = importlib.import_module(entry.signal.__module__)
        assert "Off by default" in (module.__doc__ or ""), module.__name__


def test_each_period_judges_the_news_signal_on_the_headlines_of_its_time(tmp_path):
    """The harness scores each period's own headline set into the candles (no other signal
    changes): the news signal is judged like any other, never on headlines of another time."""
    from research.evidence_report import period_config
    from research.news_sources import HEADLINE_SETS

    first = period_config(PROJECT_ROOT / "config" / "backtest.json", tmp_path / "a", None, None,
                          None, "2025-26")
    second = period_config(PROJECT_ROOT / "config" / "backtest-spot-2021.json", tmp_path / "b",
                           None, None, None, "2021-22")
    assert first["centaur"]["llm"]["news"]["csv_path"].endswith("crypto_headlines_2025-11_2026-02.csv")
    assert second["centaur"]["llm"]["news"]["time_format"] == "%d-%m-%Y %H:%M"
    assert first["centaur"]["llm"]["news"]["sentiment"] is True
    assert "news_sentiment" in first["centaur"]["ensemble"]["signals"]
    for headline_set in HEADLINE_SETS.values():
        from pathlib import Path

        assert Path(headline_set["csv_path"]).is_file()
    flat = period_config(PROJECT_ROOT / "config" / "backtest.json", tmp_path / "c", None, None,
                         None, "none")
    assert "news" not in flat["centaur"].get("llm", {})
    with pytest.raises(ValueError, match="headline set '2019'"):
        period_config(PROJECT_ROOT / "config" / "backtest.json", tmp_path / "d", None, None,
                      None, "2019")
