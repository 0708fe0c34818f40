"""Every report takes --datadir, --pairs, --timeframe and --timerange (defaults from
config/backtest.json) and stops with one clear error when a data kind is missing."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from research import drift_study, models_report
from research.report_options import (
    MissingDataError,
    add_data_options,
    config_with_data,
    data_options,
    read_config,
    require_data,
)

PAIR = "BTC/USDT:USDT"


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_data_options(parser)
    return parser.parse_args(list(argv))


def _write(datadir, name: str, start: str, periods: int, freq: str) -> None:
    folder = datadir / "futures"
    folder.mkdir(parents=True, exist_ok=True)
    dates = pd.date_range(start, periods=periods, freq=freq, tz="UTC")
    frame = pd.DataFrame({"date": dates, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0,
                          "volume": 1.0})
    frame.to_feather(folder / name)


def test_the_options_parse_and_win_over_the_config(tmp_path):
    options = data_options(_parse("--datadir", str(tmp_path), "--pairs", PAIR, "ETH/USDT:USDT",
                                  "--timeframe", "1h", "--timerange", "20250601-20250801"))
    assert options.datadir == tmp_path and options.pairs == (PAIR, "ETH/USDT:USDT")
    assert options.timeframe == "1h" and options.timeframe_secs == 3600
    assert options.start == pd.Timestamp("2025-06-01", tz="UTC")
    assert options.stop == pd.Timestamp("2025-08-01", tz="UTC")


def test_defaults_are_the_traded_universe_of_config_backtest_and_the_datas_span(tmp_path):
    config = read_config()
    _write(tmp_path, "BTC_USDT_USDT-5m-futures.feather", "2025-03-01 07:00", 288 * 3, "5min")
    config = {**config, "datadir": str(tmp_path),
              "exchange": {**config["exchange"], "pair_whitelist": [PAIR]}}
    options = data_options(_parse(), config)
    assert options.pairs == (PAIR,) and options.timeframe == config["timeframe"]
    assert options.timerange == "20250302-20250304"  # the whole days the candles cover
    assert len(read_config()["exchange"]["pair_whitelist"]) == 8  # 8 traded, not 12


def test_a_timerange_without_a_stop_is_refused():
    with pytest.raises(ValueError, match="--timerange"):
        data_options(_parse("--timerange", "20250601-"))


def test_a_missing_data_kind_is_one_error_naming_pair_kind_range_and_fix(tmp_path):
    options = data_options(_parse("--datadir", str(tmp_path), "--pairs", PAIR,
                                  "--timerange", "20250101-20250201"))
    with pytest.raises(MissingDataError) as caught:
        require_data(options, ("candles", "funding"))
    text = str(caught.value)
    assert "5m candles for BTC/USDT:USDT" in text and "1h funding for BTC/USDT:USDT" in text
    assert "2025-01-01 00:00 and 2025-02-01 00:00" in text and "Fix: download" in text


def test_present_kinds_pass_and_a_range_outside_the_data_fails(tmp_path):
    _write(tmp_path, "BTC_USDT_USDT-5m-futures.feather", "2025-01-01", 288 * 5, "5min")
    _write(tmp_path, "BTC_USDT_USDT-1h-funding_rate.feather", "2025-01-01", 15, "8h")
    inside = data_options(_parse("--datadir", str(tmp_path), "--pairs", PAIR,
                                 "--timerange", "20250102-20250104"))
    require_data(inside, ("candles", "funding"))
    outside = data_options(_parse("--datadir", str(tmp_path), "--pairs", PAIR,
                                  "--timerange", "20250601-20250701"))
    with pytest.raises(MissingDataError, match="5m candles for BTC/USDT:USDT"):
        require_data(outside, ("candles",))


def test_the_models_report_stops_before_any_work_on_an_empty_datadir(tmp_path):
    with pytest.raises(MissingDataError, match="no 5m candles"):
        models_report.main(["--datadir", str(tmp_path), "--timerange", "20250601-20250801",
                            "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_drift_study_dates_derive_from_the_timerange():
    start, stop = pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2025-05-01", tz="UTC")
    reference, test = drift_study.held_out_spans(start, stop)
    assert test == (stop - pd.Timedelta(days=7), stop)
    assert reference == (test[0] - pd.Timedelta(days=30), test[0])
    assert drift_study.events_within(start, stop) == {}
    whole = drift_study.events_within(pd.Timestamp("2025-01-01", tz="UTC"),
                                      pd.Timestamp("2026-02-19", tz="UTC"))
    assert list(whole) == ["crash_2025_10_10"]
    with pytest.raises(ValueError, match="--timerange"):
        drift_study.held_out_spans(start, start + pd.Timedelta(days=8))


def test_a_config_follows_the_options_data(tmp_path):
    config = json.loads(json.dumps(read_config()))
    options = data_options(_parse("--datadir", str(tmp_path), "--pairs", PAIR,
                                  "--timeframe", "1h", "--timerange", "20250101-20250201"))
    variant = config_with_data(config, options)
    assert variant["datadir"] == str(tmp_path) and variant["timeframe"] == "1h"
    assert variant["exchange"]["pair_whitelist"] == [PAIR]
    assert variant["centaur"]["models"]["ranker"]["universe"] == [PAIR]
    assert config["exchange"]["pair_whitelist"] != [PAIR]  # the original is untouched
