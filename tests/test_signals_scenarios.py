"""Each signal traded alone through freqtrade's real backtesting engine, on the real candles.

One ``freqtrade backtesting --strategy-list`` run of the eight research strategies (three
perpetuals, one month, spot and funding data loaded through freqtrade's DataProvider). For
every trade, the entry candle satisfies the signal's rule (and the candle before does not: a
call is the first candle of a vote), and every exit by signal satisfies the exit rule -
recomputed here from the raw data files with code independent of the strategy's.
"""

from __future__ import annotations

import json
import zipfile
from functools import cache
from typing import Any

import pandas as pd
import pandas_ta as pta
import pytest

from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
TIMERANGE = "20250310-20250410"
STRATEGIES = {"SignalBasis": "basis", "SignalBollingerRsi": "bb_rsi",
              "SignalRsiBounce": "rsi_bounce", "SignalSqueeze": "squeeze",
              "SignalEmaAdx": "ema_adx", "SignalBreakout": "breakout",
              "SignalFunding": "funding", "SignalRanker": "ranker"}
FIVE_MIN, HOUR = pd.Timedelta(minutes=5), pd.Timedelta(hours=1)


@pytest.fixture(scope="module")
def trades(tmp_path_factory) -> dict[str, list[dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("signals")
    config = write_config(directory, "backtest.json", {"exchange": {"pair_whitelist": PAIRS}})
    results = directory / "results"
    results.mkdir()
    process = run_freqtrade([
        "backtesting", "-c", str(config), "--timerange", TIMERANGE, "--cache", "none",
        "--export", "trades", "--backtest-directory", str(results),
        "--strategy-path", str(PROJECT_ROOT / "user_data" / "strategies"),
        "--strategy-list", *STRATEGIES])
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    with zipfile.ZipFile(next(results.glob("*.zip"))) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".json") and "_config" not in n)
        content = json.loads(zipped.read(name))
    return {strategy: stats["trades"] for strategy, stats in content["strategy"].items()}


# --- the rules, recomputed from the raw files --------------------------------------------------


def _stem(pair: str) -> str:
    return pair.replace("/", "_").replace(":", "_")


@cache
def candles(pair: str) -> pd.DataFrame:
    frame = pd.read_feather(BINANCE_DATA / "futures" / f"{_stem(pair)}-5m-futures.feather")
    frame = frame.set_index("date")
    close = frame["close"]
    bands = pta.bbands(close, length=20, std=2.0)
    frame["lower"], frame["mid"], frame["upper"] = (bands["BBL_20_2.0"], bands["BBM_20_2.0"],
                                                    bands["BBU_20_2.0"])
    frame["width"] = (frame["upper"] - frame["lower"]) / frame["mid"]
    frame["narrow"] = frame["width"].rolling(288).quantile(0.1)
    frame["rsi"] = pta.rsi(close, length=14)
    return frame


@cache
def hourly(pair: str) -> pd.DataFrame:
    perp = pd.read_feather(BINANCE_DATA / "futures" / f"{_stem(pair)}-1h-futures.feather")
    spot = pd.read_feather(BINANCE_DATA / f"{pair.split(':')[0].replace('/', '_')}-1h.feather")
    frame = perp.set_index("date")
    frame["spot"] = spot.set_index("date")["close"]
    basis = frame["close"] / frame["spot"] - 1
    frame["basis_z"] = (basis - basis.rolling(24).mean()) / basis.rolling(24).std()
    frame["ema21"] = pta.ema(frame["close"], length=21)
    frame["ema55"] = pta.ema(frame["close"], length=55)
    frame["adx"] = pta.adx(frame["high"], frame["low"], frame["close"], length=14)["ADX_14"]
    return frame


@cache
def funding(pair: str) -> pd.DataFrame:
    rates = pd.read_feather(BINANCE_DATA / "futures" / f"{_stem(pair)}-1h-funding_rate.feather")
    frame = rates.set_index("date")[["open"]].rename(columns={"open": "rate"})
    rolling = frame["rate"].rolling(90, min_periods=30)
    frame["z"] = (frame["rate"] - rolling.mean()) / rolling.std()
    return frame


def hour_seen(pair: str, candle: pd.Timestamp) -> pd.Series:
    """The 1h candle a 5m candle sees: the last one closed at or before the 5m close."""
    return hourly(pair).loc[(candle + FIVE_MIN).floor("1h") - HOUR]


def settlement_seen(pair: str, candle: pd.Timestamp) -> pd.Series:
    rates = funding(pair)
    return rates.loc[rates.index[rates.index <= candle + FIVE_MIN][-1]]


def row(pair: str, candle: pd.Timestamp, back: int = 0) -> pd.Series:
    return candles(pair).loc[candle - back * FIVE_MIN]


def _basis(pair, t, short):
    z = hour_seen(pair, t)["basis_z"]
    return z > 2.0 if short else z < -2.0


def _bb_rsi(pair, t, short):
    r = row(pair, t)
    return (r.close > r.upper and r.rsi > 70) if short else (r.close < r.lower and r.rsi < 30)


def _rsi_bounce(pair, t, short):
    before, now = row(pair, t, 1).rsi, row(pair, t).rsi
    return (before > 70 >= now) if short else (before < 30 <= now)


def _squeeze(pair, t, short):
    frame = candles(pair)
    window = frame.loc[t - 12 * FIVE_MIN:t - FIVE_MIN]
    squeezed = bool((window["width"] <= window["narrow"]).any())
    r = row(pair, t)
    return squeezed and (r.close < r.lower if short else r.close > r.upper)


def _ema_adx(pair, t, short):
    h = hour_seen(pair, t)
    return h.adx >= 25 and (h.ema21 < h.ema55 if short else h.ema21 > h.ema55)


def _breakout(pair, t, short):
    frame = candles(pair)
    before = frame.loc[t - 48 * FIVE_MIN:t - FIVE_MIN]
    r = row(pair, t)
    loud = r.volume >= 2.0 * before["volume"].mean()
    return loud and (r.close < before["low"].min() if short else r.close > before["high"].max())


def _funding(pair, t, short):
    s = settlement_seen(pair, t)
    return (s.z > 2.0 and s.rate > 0) if short else (s.z < -2.0 and s.rate < 0)


ENTRY_RULES = {"basis": _basis, "bb_rsi": _bb_rsi, "rsi_bounce": _rsi_bounce,
               "squeeze": _squeeze, "ema_adx": _ema_adx, "breakout": _breakout,
               "funding": _funding}

EXIT_RULES = {
    "basis": lambda p, t, short: (hour_seen(p, t).basis_z <= 0.5) if short
    else (hour_seen(p, t).basis_z >= -0.5),
    "bb_rsi": lambda p, t, short: (row(p, t).close <= row(p, t).mid) if short
    else (row(p, t).close >= row(p, t).mid),
    "rsi_bounce": lambda p, t, short: row(p, t).rsi <= 45 if short else row(p, t).rsi >= 55,
    "squeeze": lambda p, t, short: (row(p, t).close > row(p, t).mid) if short
    else (row(p, t).close < row(p, t).mid),
    "ema_adx": lambda p, t, short: (hour_seen(p, t).ema21 > hour_seen(p, t).ema55) if short
    else (hour_seen(p, t).ema21 < hour_seen(p, t).ema55),
    "breakout": lambda p, t, short: _outside_channel_middle(p, t, short),
    "funding": lambda p, t, short: (settlement_seen(p, t).z <= 0) if short
    else (settlement_seen(p, t).z >= 0),
}


def _outside_channel_middle(pair, t, short):
    before = candles(pair).loc[t - 48 * FIVE_MIN:t - FIVE_MIN]
    middle = (before["high"].max() + before["low"].min()) / 2
    return row(pair, t).close > middle if short else row(pair, t).close < middle


# --- the scenarios ------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "SignalRanker"])
def test_every_entry_is_a_call_of_the_signal(trades, strategy):
    signal = STRATEGIES[strategy]
    entries = trades[strategy]
    assert entries, f"{strategy} never traded in {TIMERANGE}"
    rule = ENTRY_RULES[signal]
    for trade in entries:
        candle = pd.Timestamp(trade["open_date"]) - FIVE_MIN
        assert trade["enter_tag"] == signal
        assert rule(trade["pair"], candle, trade["is_short"]), (strategy, trade["open_date"])
        assert not rule(trade["pair"], candle - FIVE_MIN, trade["is_short"]), (
            f"{strategy} entered on a continuing vote at {trade['open_date']}")


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "SignalRanker"])
def test_every_signal_exit_meets_the_signals_exit_rule(trades, strategy):
    signal = STRATEGIES[strategy]
    exits = [t for t in trades[strategy] if t["exit_reason"] == "exit_signal"]
    assert exits, f"{strategy} never exited on its own rule in {TIMERANGE}"
    for trade in exits:
        candle = pd.Timestamp(trade["close_date"]) - FIVE_MIN
        assert EXIT_RULES[signal](trade["pair"], candle, trade["is_short"]), (
            strategy, trade["close_date"])


def test_both_sides_are_traded(trades):
    sides = {s: {t["is_short"] for t in trades[s]} for s in STRATEGIES if s != "SignalRanker"}
    assert sum(sides[s] == {True, False} for s in sides) >= 5, sides


def test_the_ranker_abstains_without_the_models_columns(trades):
    assert trades["SignalRanker"] == []


def test_a_call_needs_a_quiet_horizon_before_it(trades):
    """bb_rsi's horizon is 12 candles: two calls of one pair and side are never closer."""
    by_key: dict[tuple, list[pd.Timestamp]] = {}
    for trade in trades["SignalBollingerRsi"]:
        by_key.setdefault((trade["pair"], trade["is_short"]), []).append(
            pd.Timestamp(trade["open_date"]))
    gaps = [b - a for times in by_key.values() for a, b in zip(times, times[1:], strict=False)]
    assert gaps and min(gaps) >= 12 * FIVE_MIN
