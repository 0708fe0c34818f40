"""A missing data kind is one clear error or one decision per pair, never silence.

Futures without funding files: a backtest stops at start-up naming every pair, the data kind
and the fix (``MissingFundingData``, exit status 2) instead of ``No trades made.`` with exit 0.
Funding that covers only part of the candles: one ``DATA_GAP`` operator event per pair. Funding
without mark candles: an error naming the pair. Spot pairs have no funding and nothing asks for
it. The slow tests run real freqtrade on copies of real files in a temporary datadir.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.enums import CandleType, RunMode
from freqtrade.exceptions import StrategyError
from freqtrade.optimize.backtesting import Backtesting

from centaur.data_checks import PAIR_ATTR
from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.funding import FundingAlignmentMixin
from centaur.market_data import (
    FUNDING_KIND,
    STALE_AFTER,
    FundingGaps,
    MissingFundingData,
    check_funding_present,
    funding_gap_decision,
    with_funding_rate,
)
from centaur.settings import CentaurConfigError
from centaur.state import StateStore
from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
TIMERANGE = "20250401-20250420"
FUNDING_ENDS = pd.Timestamp("2025-04-10 00:00", tz="UTC")


class FundingOnly:
    """The one DataProvider call the funding join makes; records what it was asked."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames
        self.asked: list[tuple[str, str, CandleType]] = []

    def get_pair_dataframe(self, pair, timeframe=None, candle_type=None):
        self.asked.append((pair, timeframe, candle_type))
        return self.frames.get(pair, pd.DataFrame())


def _candles(start: str, periods: int) -> pd.DataFrame:
    dates = pd.date_range(start, periods=periods, freq="5min", tz="UTC")
    return pd.DataFrame({"date": dates, "close": np.linspace(100, 101, periods)})


def _funding(start: str, periods: int) -> pd.DataFrame:
    return pd.DataFrame({"date": pd.date_range(start, periods=periods, freq="8h", tz="UTC"),
                         "funding_rate": np.full(periods, 1e-4)})


# --- the rules, with fakes ---------------------------------------------------------------------


def test_a_spot_pair_gets_no_funding_and_nothing_asks_for_it():
    dp = FundingOnly({})
    frame = with_funding_rate(_candles("2025-01-01", 10), dp, "BTC/USDT", "5m")
    assert frame["funding_rate"].isna().all()
    assert dp.asked == []


def test_a_rate_older_than_a_day_is_not_known():
    dp = FundingOnly({"BTC/USDT:USDT": _funding("2025-01-01", 3)})  # last: 01-01 16:00
    frame = with_funding_rate(_candles("2025-01-01", 12 * 48), dp, "BTC/USDT:USDT", "5m")
    close = frame["date"] + pd.Timedelta(minutes=5)
    last = pd.Timestamp("2025-01-01 16:00", tz="UTC")
    known = frame["funding_rate"].notna()
    assert known[close >= last].sum() > 0
    assert not known[close > last + STALE_AFTER].any()
    assert known[(close >= last) & (close <= last + STALE_AFTER)].all()


def test_gap_decision_counts_the_candles_without_a_rate():
    dates = pd.Series(pd.date_range("2025-01-01", periods=4, freq="5min", tz="UTC"))
    decision = funding_gap_decision(dates, pd.Series([1e-4, np.nan, np.nan, 1e-4]))
    assert (decision.allowed, decision.reason) == (False, ReasonCode.DATA_GAP)
    assert "2 of 4 candles" in decision.detail
    assert funding_gap_decision(dates, pd.Series([1e-4] * 4)).allowed


def test_every_pair_without_funding_is_named_in_one_error():
    dp = FundingOnly({"BTC/USDT:USDT": _funding("2025-01-01", 3)})
    with pytest.raises(MissingFundingData) as raised:
        check_funding_present(dp, ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT",
                                   "ADA/USDT"], "/data")
    error = raised.value
    assert error.pairs == ("ETH/USDT:USDT", "SOL/USDT:USDT")  # the spot pair needs none
    assert (error.reason, error.data_kind) == (ReasonCode.DATA_GAP, FUNDING_KIND)
    assert isinstance(error, CentaurConfigError)  # freqtrade exits with status 2
    assert "download-data --trading-mode futures" in str(error)
    assert "ETH_USDT_USDT-1h-funding_rate" in str(error)


def test_a_gap_is_one_event_per_pair():
    events = EventSink(StateStore())
    gaps = FundingGaps(events)
    frame = with_funding_rate(_candles("2025-01-02", 12 * 48),
                              FundingOnly({"BTC/USDT:USDT": _funding("2025-01-01", 3)}),
                              "BTC/USDT:USDT", "5m")
    assert not gaps.check("BTC/USDT:USDT", frame).allowed
    gaps.check("BTC/USDT:USDT", frame)  # the next analysis: said already
    recorded = events.recent()
    assert [(e["code"], e["pair"], e["data"]["data_kind"]) for e in recorded] == \
        [(ReasonCode.DATA_GAP, "BTC/USDT:USDT", FUNDING_KIND)]


def test_trading_looks_only_at_the_candle_the_next_entry_reads():
    funding = FundingOnly({"BTC/USDT:USDT": _funding("2025-01-02", 3)})  # from 01-02 on
    frame = with_funding_rate(_candles("2025-01-01 12:00", 12 * 24), funding,
                              "BTC/USDT:USDT", "5m")
    assert frame["funding_rate"].isna().iloc[0] and frame["funding_rate"].notna().iloc[-1]
    trading = FundingGaps(EventSink(StateStore()), latest_only=True)
    assert trading.check("BTC/USDT:USDT", frame).allowed  # old candles decide nothing
    backtest = FundingGaps(EventSink(StateStore()))
    assert not backtest.check("BTC/USDT:USDT", frame).allowed


def test_funding_without_mark_candles_is_an_error_naming_the_pair():
    funding = _funding("2025-01-01", 3)
    funding.attrs[PAIR_ATTR] = "BTC/USDT:USDT"
    mark = pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns, UTC]"),
                         "open": pd.Series([], dtype=float)})
    with pytest.raises(CentaurConfigError, match=r"\[DATA_GAP\].*mark"):
        FundingAlignmentMixin.combine_funding_and_mark(funding, mark)


# --- real freqtrade on real files without funding ----------------------------------------------


def _datadir(root: Path, funding_until: pd.Timestamp | None) -> Path:
    """Real futures candles, mark and spot 1h of PAIRS; funding none, or cut at a time."""
    datadir = root / "data"
    (datadir / "futures").mkdir(parents=True)
    for pair in PAIRS:
        stem = pair.replace("/", "_").replace(":", "_")
        for kind in ("5m-futures", "1h-futures", "1h-mark"):
            shutil.copy(BINANCE_DATA / "futures" / f"{stem}-{kind}.feather", datadir / "futures")
        shutil.copy(BINANCE_DATA / f"{pair.split(':')[0].replace('/', '_')}-1h.feather", datadir)
        if funding_until is not None:
            funding = pd.read_feather(BINANCE_DATA / "futures" / f"{stem}-1h-funding_rate.feather")
            funding = funding[pd.to_datetime(funding["date"], utc=True) < funding_until]
            funding.reset_index(drop=True).to_feather(
                datadir / "futures" / f"{stem}-1h-funding_rate.feather")
    return datadir


def _config(root: Path, datadir: Path) -> Path:
    path = write_config(root, "backtest.json", {"exchange": {"pair_whitelist": PAIRS},
                                                "max_open_trades": 2})
    config = json.loads(path.read_text())
    config["datadir"] = str(datadir)
    path.write_text(json.dumps(config, indent=2))
    return path


def _backtesting(config: Path) -> Backtesting:
    return Backtesting(setup_optimize_configuration({
        "config": [str(config)], "strategy": "CentaurEnsemble", "timerange": TIMERANGE,
        "strategy_path": str(PROJECT_ROOT / "user_data" / "strategies"), "export": "none",
        "backtest_cache": "none"}, RunMode.BACKTEST))


@pytest.mark.slow
def test_futures_without_funding_files_stops_with_the_pairs_and_the_fix(tmp_path):
    config = _config(tmp_path, _datadir(tmp_path, funding_until=None))
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", TIMERANGE,
                             "--cache", "none", "--export", "none"])
    output = process.stdout + process.stderr
    assert process.returncode == 2, output[-3000:]
    assert "No trades made" not in output
    error = next(line for line in output.splitlines()
                 if " - freqtrade - ERROR - [DATA_GAP]" in line)
    assert all(pair in error for pair in PAIRS) and FUNDING_KIND in error

    engine = _backtesting(config)  # the same start-up in-process: the error as a value
    data, timerange = engine.load_bt_data()
    with pytest.raises(StrategyError) as raised:
        engine.backtest_one_strategy(engine.strategylist[0], data, timerange)
    cause = raised.value.__cause__
    assert isinstance(cause, MissingFundingData)
    assert (cause.pairs, cause.data_kind, cause.reason) == \
        (tuple(PAIRS), FUNDING_KIND, ReasonCode.DATA_GAP)


@pytest.mark.slow
def test_funding_ending_inside_the_backtest_is_one_decision_per_pair(tmp_path):
    engine = _backtesting(_config(tmp_path, _datadir(tmp_path, funding_until=FUNDING_ENDS)))
    data, timerange = engine.load_bt_data()
    engine.backtest_one_strategy(engine.strategylist[0], data, timerange)
    strategy = engine.strategy
    gaps = [e for e in strategy.events.recent(100) if e["code"] == ReasonCode.DATA_GAP]
    assert sorted(e["pair"] for e in gaps) == PAIRS  # once per pair
    assert all(e["data"]["data_kind"] == FUNDING_KIND for e in gaps)
    last_known = FUNDING_ENDS + STALE_AFTER
    trades = engine.all_bt_content["CentaurEnsemble"]["results"]
    assert (pd.to_datetime(trades["open_date"], utc=True) <= last_known).all()
