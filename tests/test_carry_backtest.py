"""The carry flagship backtested by freqtrade on the real candles (perp, spot and funding).

- every trade is a short perp at the configured leverage with its spot leg priced from the
  real spot candles: no trade is left unhedged, and the two legs together move a fraction of
  the perp leg alone;
- the 2025-10-10 cascade: the positions held through it are neither liquidated nor stopped,
  and the two-leg book loses little on the day while buy-and-hold crashes;
- a funding flip: each ``CARRY_FUNDING_FLIP`` exit happens on the first candle whose closed
  predecessor meets the rule, recomputed here from the raw funding and spot files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from freqtrade.data.btanalysis import load_backtest_data

from centaur.settings.carry import CarrySettings
from research.carry_result import carry_result, load_candles
from strategies.carry_rule import funding_forecast
from tests.support.freqtrade_run import backtest, write_config
from tests.support.paths import BINANCE_DATA

pytestmark = pytest.mark.slow

TIMERANGE = "20250901-20251101"
PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT",
         "BNB/USDT:USDT", "DOGE/USDT:USDT"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("carry_backtest")
    config = write_config(directory, "carry.json",
                          {"exchange": {"pair_whitelist": PAIRS}})
    result = backtest(directory, config, timerange=TIMERANGE)
    trades = load_backtest_data(directory / "backtest_results")
    candles = {pair: load_candles(BINANCE_DATA, pair) for pair in PAIRS}
    report = carry_result(trades, candles, CarrySettings(), 10_000.0, "2025-09-01",
                          "2025-11-01")
    return {"result": result, "trades": trades, "candles": candles, "report": report}


def test_every_trade_is_a_hedged_short(run):
    trades, report = run["trades"], run["report"]
    assert len(trades) >= 5
    assert trades["is_short"].all()
    assert np.allclose(trades["leverage"], CarrySettings().leverage)
    figures = report["figures"]
    assert figures["unhedged_trades"] == 0
    assert set(trades["exit_reason"]) <= {"CARRY_FUNDING_FLIP", "CARRY_DELEVERAGE",
                                          "CARRY_BASIS_BLOWOUT", "force_exit"}
    # the hedge: both legs together move far less than the perp leg alone
    perp = trades["profit_abs"].abs().sum()
    assert abs(figures["perp_leg_usd"] + figures["spot_leg_usd"]) < 0.2 * perp
    assert figures["funding_received_usd"] > 0


def test_the_2025_10_10_cascade_neither_liquidates_nor_hurts_the_book(run):
    trades, report = run["trades"], run["report"]
    spike = pd.Timestamp("2025-10-10 21:00", tz="UTC")
    held = trades[(trades["open_date"] < spike) & (trades["close_date"] > spike)]
    assert len(held) >= 2, "the test needs positions held through the cascade"
    assert not (trades["exit_reason"].str.contains("liquidation|stop", case=False)).any()
    equity = report["curves"]["two_legs"]
    day = equity.pct_change()[pd.Timestamp("2025-10-10", tz="UTC")]
    held_spot = report["curves"]["buy_and_hold"].pct_change()[pd.Timestamp("2025-10-10",
                                                                            tz="UTC")]
    assert held_spot < -0.05  # the market crashed that day
    assert abs(day) < 0.005  # the two-leg book moved less than half a percent
    assert report["figures"]["two_legs"]["max_drawdown_ratio"] < 0.02


def test_funding_flip_exits_on_the_first_candle_the_rule_calls_for(run):
    settings = CarrySettings()
    flips = run["trades"][run["trades"]["exit_reason"] == "CARRY_FUNDING_FLIP"]
    assert len(flips) >= 1
    for trade in flips.itertuples():
        rule = _rule_columns(run["candles"][trade.pair], settings)
        decided = pd.Timestamp(trade.close_date) - pd.Timedelta(hours=1)  # last closed candle
        assert rule.loc[decided, "flip"], f"{trade.pair} exit at {trade.close_date}"
        window = rule.loc[pd.Timestamp(trade.open_date):decided - pd.Timedelta(hours=1)]
        assert not window["flip"].any(), f"{trade.pair} should have exited earlier"


def _rule_columns(candles, settings: CarrySettings) -> pd.DataFrame:
    """The exit rule from the raw files: the last settled rate at each candle's close, its
    exit-window mean, and the forecast from the last funding interval's basis."""
    perp = candles.perp_close
    close_time = perp.index + pd.Timedelta(hours=1)
    settled = candles.funding.sort_index()
    rate = settled.reindex(settled.index.union(close_time)).ffill().reindex(close_time)
    rate.index = perp.index
    spot = candles.spot_close.reindex(perp.index)
    basis = perp / spot - 1
    mean_exit = rate.rolling(settings.exit_window_hours).mean()
    forecast = funding_forecast(basis.rolling(settings.forecast_window_hours).mean())
    floor = -settings.entry_hurdle_per_settlement()
    return pd.DataFrame({"flip": (mean_exit < floor) & (forecast < floor)})
