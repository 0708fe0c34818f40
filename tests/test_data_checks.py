"""Bad candles from disk stop the run (or drop the pair), never change results silently.

Pure checks on slices of the real shared files with one planted fault each, then real
``freqtrade backtesting`` processes on a temporary datadir copied from the shared files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from centaur.data_checks import (
    PAIR_ATTR,
    ProblemKind,
    check_candles,
    drop_warning,
    failure_message,
    timeframe_secs,
)
from centaur.decision import ReasonCode
from centaur.funding import FundingAlignmentMixin
from centaur_plugins import data_hook
from centaur_plugins.hooks import is_hooked
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.data import DataSettings
from tests.support.freqtrade_run import backtest, run_freqtrade, strategy_path, write_config
from tests.support.paths import BINANCE_DATA, DATA


FUTURES = BINANCE_DATA / "futures"
DEFAULTS = DataSettings()
ETH, BTC = "ETH/USDT:USDT", "BTC/USDT:USDT"
OHLC = ["open", "high", "low", "close"]


def utc(value: str) -> pd.Timestamp:
    return pd.Timestamp(value, tz="UTC")


def stem(pair: str) -> str:
    return pair.replace("/", "_").replace(":", "_")


def real(pair: str, kind: str, start: str = "2025-02-25", end: str = "2025-03-10"
         ) -> pd.DataFrame:
    """Rows [start, end) of a shared futures file, as freqtrade reads it."""
    frame = pd.read_feather(FUTURES / f"{stem(pair)}-{kind}.feather")
    inside = (frame["date"] >= utc(start)) & (frame["date"] < utc(end))
    return frame[inside].reset_index(drop=True)


def with_duplicate(frame: pd.DataFrame, at: str, factor: float = 1.5) -> pd.DataFrame:
    """A second row for ``at``, right after the real one, at ``factor`` x its prices."""
    position = int(frame.index[frame["date"] == utc(at)][0])
    copy = frame.iloc[[position]].copy()
    copy[[c for c in OHLC if c in copy]] *= factor
    return pd.concat([frame.iloc[:position + 1], copy, frame.iloc[position + 1:]],
                     ignore_index=True)


def without(frame: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """The frame with the rows in [start, end) removed."""
    gone = (frame["date"] >= utc(start)) & (frame["date"] < utc(end))
    return frame[~gone].reset_index(drop=True)


def checked(frame: pd.DataFrame, timeframe: str = "5m", kind: str = "futures",
            settings: DataSettings = DEFAULTS, pair: str = ETH):
    return check_candles(frame, pair, timeframe, kind, settings)


# --- the checks, on real candles ----------------------------------------------------------------


def test_untouched_real_candles_mark_and_funding_have_no_problem():
    assert checked(real(ETH, "5m-futures")) == []
    assert checked(real(ETH, "1h-mark"), "1h", "mark") == []
    assert checked(real(ETH, "1h-funding_rate"), "1h", "funding_rate") == []


def test_a_duplicated_timestamp_at_one_and_a_half_times_the_price_is_data_invalid():
    (problem,) = checked(with_duplicate(real(ETH, "5m-futures"), "2025-03-02 12:00"))
    assert problem.kind is ProblemKind.DUPLICATED and problem.reason is ReasonCode.DATA_INVALID
    assert (problem.first, problem.last, problem.count) == (utc("2025-03-02 12:00"),) * 2 + (1,)
    assert (problem.pair, problem.timeframe, problem.candle_type) == (ETH, "5m", "futures")


def test_rows_out_of_order_are_non_monotonic_and_do_not_count_as_a_gap():
    frame = real(ETH, "5m-futures")
    position = int(frame.index[frame["date"] == utc("2025-03-02 12:00")][0])
    order = list(range(len(frame)))
    order[position], order[position + 1] = order[position + 1], order[position]
    (problem,) = checked(frame.iloc[order].reset_index(drop=True))
    assert problem.kind is ProblemKind.NON_MONOTONIC and problem.reason is ReasonCode.DATA_INVALID
    assert (problem.first, problem.count) == (utc("2025-03-02 12:00"), 1)


def test_a_row_with_nan_in_ohlc_is_data_invalid():
    frame = real(ETH, "5m-futures")
    frame.loc[frame["date"] == utc("2025-03-02 13:05"), "low"] = float("nan")
    (problem,) = checked(frame)
    assert problem.kind is ProblemKind.NAN and problem.reason is ReasonCode.DATA_INVALID
    assert (problem.first, problem.last, problem.count) == (utc("2025-03-02 13:05"),) * 2 + (1,)


def test_a_gap_above_the_limit_is_data_gap_with_its_missing_range():
    frame = without(real(BTC, "5m-futures"), "2025-03-03 06:00", "2025-03-03 12:00")
    (problem,) = checked(frame, pair=BTC)
    assert problem.kind is ProblemKind.GAP and problem.reason is ReasonCode.DATA_GAP
    assert (problem.first, problem.last) == (utc("2025-03-03 06:00"), utc("2025-03-03 11:55"))
    assert problem.count == 72


def test_a_gap_of_exactly_the_limit_passes_and_one_more_candle_fails():
    frame = real(BTC, "5m-futures")
    at_limit = without(frame, "2025-03-03 06:00", "2025-03-03 06:30")  # 6 candles
    assert checked(at_limit, pair=BTC) == []
    (problem,) = checked(without(frame, "2025-03-03 06:00", "2025-03-03 06:35"), pair=BTC)
    assert problem.count == 7
    raised = DataSettings(max_gap_candles=7)
    assert checked(without(frame, "2025-03-03 06:00", "2025-03-03 06:35"), settings=raised) == []


def test_funding_rows_8h_apart_under_a_1h_name_are_not_candle_gaps():
    funding = real(ETH, "1h-funding_rate")
    assert set(funding["date"].diff().dropna()) == {pd.Timedelta(hours=8)}
    assert checked(funding, "1h", "funding_rate") == []
    # The same rows read as candles would be one 7-candle gap per settlement.
    assert len(checked(funding, "1h", "mark", DataSettings(max_gap_candles=6))) == len(funding) - 1


def test_funding_on_1h_and_4h_intervals_passes():
    for pair in ("ORCA/USDT:USDT", "HYPE/USDT:USDT"):
        funding = pd.read_feather(FUTURES / f"{stem(pair)}-1h-funding_rate.feather")
        assert funding["date"].diff().min() < pd.Timedelta(hours=8)
        assert checked(funding, "1h", "funding_rate", pair=pair) == []


def test_a_missing_settlement_is_a_funding_gap_a_late_one_is_left_to_the_mark_check():
    funding = real(ETH, "1h-funding_rate")
    (problem,) = checked(without(funding, "2025-03-02 08:00", "2025-03-02 09:00"), "1h",
                         "funding_rate")
    assert problem.kind is ProblemKind.GAP and problem.reason is ReasonCode.DATA_GAP
    assert (problem.first, problem.last, problem.count) == (
        utc("2025-03-02 00:00"), utc("2025-03-02 16:00"), 1)
    late = funding.copy()
    late.loc[late["date"] == utc("2025-03-02 08:00"), "date"] = utc("2025-03-02 08:00:30")
    assert checked(late, "1h", "funding_rate") == []


def test_funding_duplicates_and_nan_rates_are_data_invalid():
    funding = real(ETH, "1h-funding_rate").rename(columns={"open": "funding_rate"})
    funding = funding[["date", "funding_rate"]]  # freqtrade 2026.9's funding layout
    kinds = [p.kind for p in checked(with_duplicate(funding, "2025-03-02 08:00"), "1h",
                                     "funding_rate")]
    assert kinds == [ProblemKind.DUPLICATED]
    funding.loc[3, "funding_rate"] = float("nan")
    assert [p.kind for p in checked(funding, "1h", "funding_rate")] == [ProblemKind.NAN]


def test_month_timeframes_are_not_gap_checked():
    assert timeframe_secs("5m") == 300 and timeframe_secs("1w") == 604800
    assert timeframe_secs("1M") is None


def test_the_defaults_pass_every_shared_file_the_project_backtests_on():
    """The measured facts of centaur/settings/data.py: no problem anywhere in binance/ and
    binance-2021-22q1/ with the defaults; the 2021 set's largest gap is 4 candles."""
    files = [*FUTURES.glob("*.feather"), *BINANCE_DATA.glob("*.feather"),
             *(DATA / "binance-2021-22q1").glob("*.feather")]
    assert len(files) > 200
    for path in files:
        pair, timeframe, kind = _parts(path)
        frame = pd.read_feather(path)
        assert check_candles(frame, pair, timeframe, kind, DEFAULTS) == [], path.name
    btc_2021 = pd.read_feather(DATA / "binance-2021-22q1" / "BTC_USDT-1h.feather")
    gaps = check_candles(btc_2021, "BTC/USDT", "1h", "spot", DataSettings(max_gap_candles=3))
    assert [(g.first, g.count) for g in gaps] == [(utc("2021-08-13 02:00"), 4)]


def _parts(path: Path) -> tuple[str, str, str]:
    match = re.fullmatch(r"(.+?)-(\d+[mhdw])(?:-(\w+))?\.feather", path.name)
    assert match, path.name
    return match.group(1), match.group(2), match.group(3) or "spot"


# --- what the operator reads ------------------------------------------------------------------


def test_the_error_names_the_pair_the_range_and_the_fixes():
    frame = without(with_duplicate(real(ETH, "5m-futures"), "2025-03-02 12:00"),
                    "2025-03-03 06:00", "2025-03-03 12:00")
    message = failure_message(checked(frame), DEFAULTS)
    assert "[DATA_INVALID] ETH/USDT:USDT 5m futures: 1 duplicated timestamp at 2025-03-02 12:00" \
        in message
    assert "[DATA_GAP] ETH/USDT:USDT 5m futures: 72 missing candles from 2025-03-03 06:00 to " \
        "2025-03-03 11:55" in message
    assert "freqtrade download-data --erase --trading-mode futures --pairs ETH/USDT:USDT " \
        "--timeframes 5m" in message
    assert 'centaur.data.on_bad_pair: "drop"' in message
    assert "centaur.data.max_gap_candles: 72" in message


def test_many_gaps_are_listed_five_then_summed_up():
    frame = real(BTC, "5m-futures")
    for day in range(25, 29):
        for hour in (2, 14):  # one hour out, twice a day, four days
            frame = without(frame, f"2025-02-{day} {hour:02d}:00",
                            f"2025-02-{day} {hour + 1:02d}:00")
    problems = checked(frame, pair=BTC)
    assert len(problems) == 8 and {p.count for p in problems} == {12}
    lines = failure_message(problems, DEFAULTS).splitlines()
    assert sum(line.startswith("  [DATA_GAP] BTC/USDT:USDT 5m futures") for line in lines) == 6
    assert "... and 3 more problem(s) from 2025-02-27 14:00 to 2025-02-28 14:55" in lines[6]


def test_funding_errors_offer_no_drop_and_name_the_candle_type_to_download():
    funding = without(real(ETH, "1h-funding_rate"), "2025-03-02 08:00", "2025-03-02 09:00")
    drop = DataSettings(on_bad_pair="drop")
    message = failure_message(checked(funding, "1h", "funding_rate", drop), drop)
    assert "--candle-types funding_rate" in message
    assert "on_bad_pair" not in message and "max_gap_candles" not in message


def test_the_drop_warning_is_one_line_with_the_reason_code_first():
    warning = drop_warning(checked(with_duplicate(real(ETH, "5m-futures"), "2025-03-02 12:00")))
    assert warning.startswith("[DATA_INVALID] ETH/USDT:USDT 5m futures: 1 duplicated timestamp "
                              "at 2025-03-02 12:00")
    assert warning.endswith("pair dropped (centaur.data.on_bad_pair: drop)")
    assert "\n" not in warning


def test_data_settings_reject_unknown_values_by_key():
    assert settings_from({}).data == DEFAULTS
    with pytest.raises(CentaurConfigError, match="centaur.data.on_bad_pair"):
        settings_from({"centaur": {"data": {"on_bad_pair": "skip"}}})
    with pytest.raises(CentaurConfigError, match="centaur.data.max_gap_candle: unknown key"):
        settings_from({"centaur": {"data": {"max_gap_candle": 3}}})


def test_a_misaligned_settlement_names_the_pair_of_the_loaded_frame():
    mark = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=24, freq="1h", tz="UTC"),
                         "open": 100.0})
    funding = pd.DataFrame({"date": [utc("2025-01-01 00:00"), utc("2025-01-01 08:30")],
                            "funding_rate": [0.0001, 0.0002]})
    funding.attrs[PAIR_ATTR] = ETH
    with pytest.raises(CentaurConfigError) as err:
        FundingAlignmentMixin.combine_funding_and_mark(funding, mark)
    assert "[DATA_INVALID] ETH/USDT:USDT: 1 funding settlement at 2025-01-01 08:30:00" \
        in str(err.value)


# --- the hook, in this process ----------------------------------------------------------------


@pytest.fixture
def restore_activation(monkeypatch):
    monkeypatch.setattr(data_hook, "_active", data_hook.active_settings())


def test_only_the_disk_loader_is_checked_not_exchange_candles(restore_activation):
    from freqtrade.data import converter
    from freqtrade.data.history.datahandlers import idatahandler

    assert is_hooked(idatahandler.clean_ohlcv_dataframe)
    assert not is_hooked(converter.clean_ohlcv_dataframe)
    frame = with_duplicate(real(ETH, "5m-futures", "2025-03-02", "2025-03-03"), "2025-03-02 12:00")
    data_hook.activate({"centaur": {}})
    with pytest.raises(CentaurConfigError, match="ETH/USDT:USDT 5m futures"):
        idatahandler.clean_ohlcv_dataframe(frame, "5m", ETH, fill_missing=True,
                                           drop_incomplete=False, candle_type="futures")
    candles = [[int(d.timestamp() * 1000), o, h, lo, c, v] for d, o, h, lo, c, v
               in frame.itertuples(index=False)]
    live = converter.ohlcv_to_dataframe(candles, "5m", ETH, fill_missing=True,
                                        drop_incomplete=False)
    assert len(live) == len(frame) - 1  # freqtrade's own merge, untouched


def test_without_a_centaur_block_or_when_disabled_freqtrade_is_stock(restore_activation):
    frame = with_duplicate(real(ETH, "5m-futures", "2025-03-02", "2025-03-03"), "2025-03-02 12:00")
    for config in ({}, {"centaur": {"data": {"enabled": False}}}):
        data_hook.activate(config)
        assert data_hook.screen(frame, ETH, "5m", "futures") is None
    data_hook.activate({"centaur": {"data": {"on_bad_pair": "drop"}}})
    dropped = data_hook.screen(frame, ETH, "5m", "futures")
    assert dropped is not None and dropped.empty and list(dropped.columns) == list(frame.columns)
    with pytest.raises(CentaurConfigError):  # funding is never dropped alone
        data_hook.screen(with_duplicate(real(ETH, "1h-funding_rate"), "2025-03-02 08:00"),
                         ETH, "1h", "funding_rate")


# --- real freqtrade backtesting processes ------------------------------------------------------


PAIRS = [BTC, ETH]
TIMERANGE = "20250301-20250305"
KINDS = ("5m-futures", "1h-mark", "1h-funding_rate")
STRATEGY = "FundingScenario"  # one long or short per pair and day, 00:05 -> 20:00


def make_datadir(directory: Path, faults: dict | None = None) -> Path:
    """A freqtrade datadir of real shared rows, 2025-02-25 -> 03-10, with ``faults`` applied:
    {(pair, kind): function(frame) -> frame}."""
    folder = directory / "data" / "futures"
    folder.mkdir(parents=True)
    for pair in PAIRS:
        for kind in KINDS:
            frame = real(pair, kind)
            fault = (faults or {}).get((pair, kind))
            (fault(frame) if fault else frame).to_feather(folder / f"{stem(pair)}-{kind}.feather")
    return directory / "data"


def config_for(directory: Path, data: dict | None = None) -> Path:
    return write_config(directory, "backtest.json", {
        "exchange": {"pair_whitelist": PAIRS}, "max_open_trades": 2,
        "centaur": {"data": data or {}}})


def failing_run(directory: Path, faults: dict, data: dict | None = None):
    datadir = make_datadir(directory, faults)
    process = run_freqtrade(["backtesting", "-c", str(config_for(directory, data)),
                             "--datadir", str(datadir), "--timerange", TIMERANGE,
                             "--strategy", STRATEGY, "--strategy-path",
                             str(strategy_path(STRATEGY)), "--cache", "none"], timeout=300)
    return process, " ".join((process.stdout + process.stderr).split())  # console wraps lines


def trades_of(result, pair: str) -> list[tuple]:
    return [(t["open_date"], t["close_date"], t["is_short"], t["profit_abs"])
            for t in result.trades if t["pair"] == pair]


@pytest.fixture(scope="module")
def untouched(tmp_path_factory):
    directory = tmp_path_factory.mktemp("untouched")
    datadir = make_datadir(directory)
    return backtest(directory, config_for(directory), timerange=TIMERANGE, strategy=STRATEGY,
                    extra_args=["--datadir", str(datadir)])


@pytest.mark.slow
def test_an_untouched_copy_of_the_real_data_runs_with_every_pair(untouched):
    assert untouched.process.returncode == 0
    assert len(trades_of(untouched, BTC)) == 4 and len(trades_of(untouched, ETH)) == 4


@pytest.mark.slow
def test_a_duplicated_timestamp_stops_the_backtest_naming_the_pair(tmp_path):
    process, output = failing_run(tmp_path, {
        (ETH, "5m-futures"): lambda f: with_duplicate(f, "2025-03-02 12:00")})
    assert process.returncode == 2, output[-3000:]
    assert "[DATA_INVALID] ETH/USDT:USDT 5m futures: 1 duplicated timestamp at 2025-03-02 12:00" \
        in output
    assert "BTC/USDT:USDT 5m" not in output


@pytest.mark.slow
def test_six_hours_missing_stop_the_backtest_naming_the_range(tmp_path):
    process, output = failing_run(tmp_path, {
        (BTC, "5m-futures"): lambda f: without(f, "2025-03-03 06:00", "2025-03-03 12:00")})
    assert process.returncode == 2, output[-3000:]
    assert "[DATA_GAP] BTC/USDT:USDT 5m futures: 72 missing candles from 2025-03-03 06:00 to " \
        "2025-03-03 11:55" in output


@pytest.mark.slow
def test_drop_runs_without_the_bad_pair_and_leaves_the_others_unchanged(tmp_path, untouched):
    datadir = make_datadir(tmp_path, {
        (ETH, "5m-futures"): lambda f: with_duplicate(f, "2025-03-02 12:00")})
    result = backtest(tmp_path, config_for(tmp_path, {"on_bad_pair": "drop"}),
                      timerange=TIMERANGE, strategy=STRATEGY,
                      extra_args=["--datadir", str(datadir)])
    assert trades_of(result, ETH) == []
    assert ETH not in {row["key"] for row in result.stats["results_per_pair"]}
    assert trades_of(result, BTC) == trades_of(untouched, BTC)
    # the behaviour is asserted above from the export; the operator's message is a product too
    output = " ".join((result.process.stdout + result.process.stderr).split())
    assert "[DATA_INVALID] ETH/USDT:USDT 5m futures: 1 duplicated timestamp at 2025-03-02 12:00" \
        in output and "pair dropped" in output


@pytest.mark.slow
def test_a_missing_settlement_stops_the_backtest_even_with_drop(tmp_path):
    process, output = failing_run(tmp_path, {
        (ETH, "1h-funding_rate"): lambda f: without(f, "2025-03-02 08:00", "2025-03-02 09:00")},
        {"on_bad_pair": "drop"})
    assert process.returncode == 2, output[-3000:]
    assert "[DATA_GAP] ETH/USDT:USDT 1h funding_rate: no funding settlement for 16 h from " \
        "2025-03-02 00:00 to 2025-03-02 16:00" in output


@pytest.mark.slow
def test_a_settlement_off_the_mark_grid_stops_the_backtest_naming_the_pair(tmp_path):
    def late(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["date"] == utc("2025-03-02 08:00"), "date"] = utc("2025-03-02 08:30")
        return frame

    process, output = failing_run(tmp_path, {(ETH, "1h-funding_rate"): late})
    assert process.returncode == 2, output[-3000:]
    assert "[DATA_INVALID] ETH/USDT:USDT: 1 funding settlement at 2025-03-02 08:30:00" in output
