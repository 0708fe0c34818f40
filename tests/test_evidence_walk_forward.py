"""The flagship's rolling walk-forward (``research.evidence.walk_forward_runner``): trades to a
daily equity curve, the folds it runs, the random-entry control's draw - and, slow, the whole
runner end to end on a tiny slice of the real data."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from research.evidence import equity, stats
from research.evidence.ledger import Ledger
from research.evidence.walk_forward_runner import (
    RunSpec,
    _joined,
    epoch_daily_sharpe,
    parse_timerange,
)
from strategies.CentaurRandomEntry import randomise_entries, random_seed


def _trade(close: str, profit: float, **extra) -> dict:
    return {"close_date": close, "profit_abs": profit, **extra}


# --- trades -> daily equity ------------------------------------------------------------------


def test_daily_equity_counts_every_calendar_day_including_flat_ones():
    trades = [_trade("2025-03-02 10:00:00+00:00", 50.0),
              _trade("2025-03-02 23:55:00+00:00", -20.0),
              _trade("2025-03-05 01:00:00+00:00", 10.0)]
    curve = equity.daily_equity(trades, 1000.0, "2025-03-01", "2025-03-07")
    days = pd.date_range("2025-02-28", "2025-03-06", freq="1D", tz="UTC")
    assert list(curve.index) == list(days)  # the day before the start opens the curve
    assert curve.tolist() == [1000.0, 1000.0, 1030.0, 1030.0, 1030.0, 1040.0, 1040.0]
    returns = stats.daily_returns(curve)
    assert len(returns) == 6  # six days in [03-01, 03-07), flat ones included
    assert (returns == 0).sum() == 4


def test_daily_equity_uses_profit_abs_as_exported_after_fees_and_funding():
    # a long that gained 100 on price, paid 2 x 0.5 fees and 3 of funding: freqtrade's
    # profit_abs is 96; the curve must not rebuild profit from the rates
    trade = _trade("2025-03-02 12:00:00+00:00", 96.0, amount=1.0, open_rate=1000.0,
                   close_rate=1100.0, fee_open=0.0005, fee_close=0.0005 * 1000 / 1100,
                   funding_fees=-3.0)
    curve = equity.daily_equity([trade], 10_000.0, "2025-03-01", "2025-03-03")
    assert curve.iloc[-1] == pytest.approx(10_096.0)
    costs = equity.trade_costs([trade])
    assert costs["fees_usd"] == pytest.approx(1.0)
    assert costs["funding_fees_usd"] == pytest.approx(-3.0)


def test_daily_equity_window_edges():
    trades = [_trade("2025-02-27 12:00:00+00:00", 5.0),    # before: in the opening balance
              _trade("2025-03-01 00:00:00+00:00", 1.0),    # first day
              _trade("2025-03-03 00:00:00+00:00", 7.0),    # force exit at the end: last day
              _trade("2025-03-03 00:05:00+00:00", 100.0)]  # after the end: outside
    curve = equity.daily_equity(trades, 1000.0, "2025-03-01", "2025-03-03")
    assert curve.tolist() == [1005.0, 1006.0, 1013.0]
    empty = equity.daily_equity([], 1000.0, datetime(2025, 3, 1, tzinfo=UTC),
                                datetime(2025, 3, 4, tzinfo=UTC))
    assert empty.tolist() == [1000.0] * 4
    assert equity.curve_metrics(empty)["sharpe"] == 0.0


def test_curve_metrics_are_the_stats_modules_figures():
    rng = np.random.default_rng(3)
    profits = rng.normal(5, 20, 60)
    trades = [_trade(str(pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(days=i, hours=6)),
                     float(p)) for i, p in enumerate(profits)]
    curve = equity.daily_equity(trades, 10_000.0, "2025-01-01", "2025-03-02")
    figures = equity.curve_metrics(curve, trials=12, trials_variance=0.01)
    returns = stats.daily_returns(curve).to_numpy()
    assert figures["days"] == 60
    assert figures["sharpe"] == pytest.approx(stats.sharpe(returns), abs=1e-4)
    low, high = figures["sharpe_ci95"]
    assert low < figures["sharpe"] < high
    assert figures["deflated_sharpe"]["trials"] == 12
    assert figures["max_drawdown_ratio"] == pytest.approx(stats.max_drawdown(curve), abs=1e-4)
    assert figures["return_ratio"] == pytest.approx(profits.sum() / 10_000, abs=1e-4)


def test_buy_and_hold_is_equal_weight_from_the_last_close_before_the_window():
    index = pd.date_range("2025-03-01", "2025-03-05", freq="12h", tz="UTC")
    closes = {"A": pd.Series(np.linspace(100, 180, len(index)), index=index),
              "B": pd.Series(50.0, index=index)}
    curve = equity.buy_and_hold_equity(closes, 1000.0, "2025-03-02", "2025-03-04")
    # entry: A at 03-01 12:00 (110), B 50; 03-02 last close: A 130; 03-03: A 150
    assert curve.tolist() == pytest.approx([1000.0, 500 * 130 / 110 + 500,
                                            500 * 150 / 110 + 500])


def test_joined_curve_leaves_the_gaps_between_test_windows_out():
    first = pd.Series([10.0, 0.0], index=pd.date_range("2025-03-01", periods=2, tz="UTC"))
    second = pd.Series([-5.0], index=pd.date_range("2025-03-05", periods=1, tz="UTC"))
    curve = _joined([first, second], 100.0)
    assert curve.tolist() == [100.0, 110.0, 110.0, 105.0]
    assert equity.curve_metrics(curve)["days"] == 3


def test_epoch_daily_sharpe_reads_freqtrades_daily_profit():
    metrics = {"backtest_start": "2025-03-01 00:00:00", "backtest_end": "2025-03-05 00:00:00",
               "starting_balance": 1000.0,
               "daily_profit": [["2025-03-01", 10.0], ["2025-03-03", -5.0]]}
    curve = equity.daily_equity([_trade("2025-03-01 12:00", 10.0),
                                 _trade("2025-03-03 12:00", -5.0)], 1000.0,
                                "2025-03-01", "2025-03-05")
    expected = stats.sharpe(stats.daily_returns(curve).to_numpy(), periods_per_year=1)
    assert epoch_daily_sharpe(metrics) == pytest.approx(expected)
    assert math.isnan(epoch_daily_sharpe({"daily_profit": []}))


# --- folds --------------------------------------------------------------------------------


def test_default_folds_are_purged_embargoed_whole_days_on_the_futures_year():
    spec = RunSpec()
    folds = spec.fold_list()
    start, end = parse_timerange(spec.timerange)
    assert len(folds) >= 6
    assert folds[0].train_start == start and folds[-1].test_end == end
    for fold in folds:
        for moment in (fold.train_start, fold.train_end, fold.test_start, fold.test_end):
            assert moment == moment.replace(hour=0, minute=0)
        assert fold.train_end - fold.train_start == timedelta(days=spec.train_days)
        assert fold.test_start - fold.train_end == timedelta(days=spec.purge_days)
        assert fold.test_end > fold.test_start
    for before, after in zip(folds, folds[1:], strict=False):
        assert after.test_start - before.test_end == timedelta(days=spec.embargo_days)
    assert folds[2].timerange("train") == f"{folds[2].train_start:%Y%m%d}-" \
                                          f"{folds[2].train_end:%Y%m%d}"


def test_fold_timeranges_of_a_short_run():
    folds = RunSpec(timerange="20250301-20250320", folds=2, train_days=5).fold_list()
    assert [f.as_dict() for f in folds] == [
        {"fold": 0, "train": "20250301-20250306", "test": "20250307-20250313"},
        {"fold": 1, "train": "20250308-20250313", "test": "20250314-20250320"}]


# --- the random-entry control ---------------------------------------------------------------


def _entries_frame() -> pd.DataFrame:
    frame = pd.DataFrame({"date": pd.date_range("2025-03-01", periods=200, freq="5min",
                                                tz="UTC"), "volume": 1.0})
    frame["enter_long"] = 0
    frame["enter_short"] = 0
    frame["enter_tag"] = None
    frame.loc[[10, 11, 50], "enter_long"] = 1
    frame.loc[[10, 11, 50], "enter_tag"] = ["ema_adx", "ema_adx", "breakout+squeeze"]
    frame.loc[[120, 190], "enter_short"] = 1
    frame.loc[[120, 190], "enter_tag"] = ["funding", "basis"]
    return frame


def test_random_entries_keep_count_sides_and_tags_on_open_candles():
    open_candles = np.ones(200, dtype=bool)
    open_candles[150:] = False  # e.g. the drift gate: the entry at 190 is not counted
    out, moves = randomise_entries(_entries_frame(), open_candles, seed=5)
    assert sorted(origin for _, origin in moves) == [10, 11, 50, 120]
    for row, origin in moves:
        assert out["enter_tag"].iloc[row] == _entries_frame()["enter_tag"].iloc[origin]
    chosen = np.flatnonzero((out["enter_long"] == 1) | (out["enter_short"] == 1))
    assert len(chosen) == 4
    assert open_candles[chosen].all()
    assert int(out["enter_long"].sum()) == 3 and int(out["enter_short"].sum()) == 1
    assert sorted(out.loc[out["enter_long"] == 1, "enter_tag"]) == \
        ["breakout+squeeze", "ema_adx", "ema_adx"]
    assert out.loc[out["enter_short"] == 1, "enter_tag"].tolist() == ["funding"]
    assert list(chosen) != [10, 11, 50, 120]


def test_random_entries_are_seeded():
    open_candles = np.ones(200, dtype=bool)
    a, _ = randomise_entries(_entries_frame(), open_candles, seed=1)
    b, _ = randomise_entries(_entries_frame(), open_candles, seed=1)
    c, _ = randomise_entries(_entries_frame(), open_candles, seed=2)
    assert a[["enter_long", "enter_short"]].equals(b[["enter_long", "enter_short"]])
    assert not a[["enter_long", "enter_short"]].equals(c[["enter_long", "enter_short"]])
    assert random_seed({"random_entry": {"seed": 3}}, "BTC/USDT:USDT") != \
        random_seed({"random_entry": {"seed": 3}}, "ETH/USDT:USDT")
    assert random_seed({}, "BTC/USDT:USDT") == random_seed({}, "BTC/USDT:USDT")


# --- end to end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_runner_end_to_end_on_a_tiny_slice(tmp_path):
    from research.evidence.walk_forward_runner import run_walk_forward
    from tests.support.paths import BINANCE_DATA

    ledger = Ledger(tmp_path / "ledger.jsonl")
    result = run_walk_forward(
        datadir=BINANCE_DATA, pairs=["BTC/USDT:USDT", "ETH/USDT:USDT"],
        timerange="20250301-20250320", folds=2, epochs=2, jobs=2, ledger=ledger,
        models_cache=tmp_path / "models", workdir=tmp_path, train_days=5, min_trades=1)
    json.dumps(result)  # JSON-ready
    assert result["models_in_hyperopt"] is True
    assert result["precompute"]["windows"] >= 1
    assert [f["test"] for f in result["folds"]] == ["20250307-20250313", "20250314-20250320"]
    for fold in result["folds"]:
        assert {"signals", "ensemble"} <= set(fold["params"])
        assert fold["epochs"] == 2
        for part in ("out_of_sample", "random_entry"):
            assert {"trades", "sharpe", "sharpe_ci95", "deflated_sharpe",
                    "max_drawdown_ratio", "return_ratio", "fees_usd",
                    "funding_fees_usd"} <= set(fold[part])
    assert result["trials"]["epochs_evaluated"] == 4
    oos = result["out_of_sample"]
    assert oos["days"] == 12  # 6 + 6 test days, the embargo day left out
    assert oos["deflated_sharpe"]["trials"] == 4
    assert set(result["benchmarks"]) == {"buy_and_hold", "random_entry"}
    for comparison in result["differences_daily_return"].values():
        assert comparison["pairs"] == 12
    assert result["benchmarks"]["buy_and_hold"]["days"] == 12
    lines = ledger.entries()
    assert [e["window"] for e in lines] == ["20250307-20250313", "20250314-20250320"]
    assert {e["subject"] for e in lines} == {"flagship"}
    assert result["runtime_secs"] > 0


def test_a_fingerprint_mismatch_between_hyperopt_and_the_oos_backtest_fails():
    from research.evidence.walk_forward_runner import check_same_windows

    check_same_windows({"old"}, {"old", "read"}, "read")  # the windows hyperopt read: fine
    with pytest.raises(RuntimeError, match="out of step"):
        check_same_windows({"read"}, {"read", "other"}, "read")


@pytest.mark.slow
def test_the_folds_are_shared_studies_that_a_second_machine_joins(tmp_path, postgres_database):
    """Each fold's hyperopt is a study in PostgreSQL; a ``--join`` worker (another machine)
    works on the same studies; the report's folds hold every epoch of their study."""
    import subprocess
    import sys

    import optuna
    from optuna.trial import TrialState

    from dev_tools.study.worker import WORKER_ATTR
    from research.evidence.walk_forward_runner import RunSpec, run_walk_forward
    from tests.support.freqtrade_run import freqtrade_env
    from tests.support.paths import BINANCE_DATA, PROJECT_ROOT

    options = dict(pairs=["BTC/USDT:USDT", "ETH/USDT:USDT"], timerange="20250301-20250320",
                   folds=2, epochs=6, jobs=1, train_days=5, min_trades=1, models="off",
                   control=None)
    joiner = subprocess.Popen(
        [sys.executable, "-m", "research.evidence.walk_forward_runner", "--datadir",
         str(BINANCE_DATA), "--pairs", *options["pairs"], "--timerange", options["timerange"],
         "--folds", "2", "--epochs", "6", "--jobs", "1", "--train-days", "5",
         "--min-trades", "1", "--models", "off", "--control", "none", "--storage",
         postgres_database, "--join", "--models-cache", "none"],
        cwd=PROJECT_ROOT, env=freqtrade_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        result = run_walk_forward(datadir=BINANCE_DATA, ledger=Ledger(tmp_path / "l.jsonl"),
                                  models_cache=None, workdir=tmp_path,
                                  storage=postgres_database, **options)
        output, _ = joiner.communicate(timeout=900)
    finally:
        joiner.kill()
    assert joiner.returncode == 0, output[-3000:]
    spec = RunSpec(**{k: (tuple(v) if k == "pairs" else v) for k, v in options.items()},
                   datadir=str(BINANCE_DATA), storage=postgres_database)
    workers = set()
    for fold, reported in zip(spec.fold_list(), result["folds"], strict=True):
        study = optuna.load_study(study_name=spec.study_name(fold), storage=postgres_database)
        complete = study.get_trials(states=(TrialState.COMPLETE,))
        assert len(complete) >= 6
        assert reported["epochs"] == len(complete)
        workers |= {t.user_attrs[WORKER_ATTR] for t in complete}
    assert len(workers) >= 2  # both machines evaluated trials
    assert result["trials"]["epochs_evaluated"] == sum(f["epochs"] for f in result["folds"])
