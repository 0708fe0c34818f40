"""Futures backtests on the shared data charge real funding, at the real 8 h settlements."""

from __future__ import annotations

import pandas as pd
import pytest

from centaur.funding import FundingAlignmentMixin, dropped_settlements
from centaur.settings import CentaurConfigError
from tests.support.freqtrade_run import backtest, write_config
from tests.support.paths import BINANCE_DATA


PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
TIMERANGE = "20250101-20250301"


def _futures_frame(pair: str, kind: str) -> pd.DataFrame:
    stem = pair.replace("/", "_").replace(":", "_")
    frame = pd.read_feather(BINANCE_DATA / "futures" / f"{stem}-1h-{kind}.feather")
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame


def amount_held(trade: dict, moment: pd.Timestamp) -> float:
    """The position at ``moment``, from the trade's filled orders (entries add, exits -
    the take-profit's partial exit too - remove); an order filled at ``moment`` counts."""
    held = 0.0
    for order in trade["orders"]:
        if pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC") <= moment:
            held += order["amount"] if order["ft_is_entry"] else -order["amount"]
    return held


def expected_funding(trade: dict) -> float:
    """Recomputed from the raw files: rate x mark open x amount held, at each settlement.

    Freqtrade's sign convention: a long pays a positive rate (negative funding_fees).
    """
    funding = _futures_frame(trade["pair"], "funding_rate")
    mark = _futures_frame(trade["pair"], "mark").set_index("date")["open"]
    opened = pd.Timestamp(trade["open_date"])
    closed = pd.Timestamp(trade["close_date"])
    held = funding[(funding["date"] >= opened) & (funding["date"] <= closed)]
    paid = sum(row.open * mark[row.date] * amount_held(trade, row.date)
               for row in held.itertuples())
    return paid if trade["is_short"] else -paid


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    directory = tmp_path_factory.mktemp("funding")
    config = write_config(directory, "backtest.json", {"exchange": {"pair_whitelist": PAIRS},
                                                       "max_open_trades": 3})
    return backtest(directory, config, timerange="20250101-20250201", strategy="FundingScenario")


@pytest.fixture(scope="module")
def flagship(tmp_path_factory):
    directory = tmp_path_factory.mktemp("funding_flagship")
    config = write_config(directory, "backtest.json", {"exchange": {"pair_whitelist": PAIRS}})
    return backtest(directory, config, timerange=TIMERANGE)


@pytest.mark.slow
def test_every_settlement_is_charged_once_at_its_rate(scenario):
    longs = [t for t in scenario.trades if not t["is_short"]]
    shorts = [t for t in scenario.trades if t["is_short"]]
    assert len(longs) >= 20 and len(shorts) >= 20
    for trade in scenario.trades:
        expected = expected_funding(trade)
        assert expected != 0, "each scenario trade spans two settlements"
        assert trade["funding_fees"] == pytest.approx(expected, rel=1e-9), trade["pair"]


@pytest.mark.slow
def test_flagship_backtest_trades_and_is_charged_funding(flagship):
    assert flagship.trades, "the flagship made no trade on two months of real candles"
    spanning = [t for t in flagship.trades if expected_funding(t) != 0]
    assert spanning, "no flagship trade held through a settlement: the period proves nothing"
    for trade in spanning:
        assert trade["funding_fees"] == pytest.approx(expected_funding(trade), rel=1e-9)


def test_shared_funding_rows_are_8h_apart_not_1h():
    funding = _futures_frame("BTC/USDT:USDT", "funding_rate")
    gaps = funding["date"].diff().dropna().value_counts()
    assert gaps.index[0] == pd.Timedelta(hours=8)


def test_a_settlement_off_the_mark_grid_is_an_error_not_a_silent_drop():
    mark = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=24, freq="1h", tz="UTC"),
                         "open": 100.0})
    funding = pd.DataFrame({
        "date": pd.to_datetime(["2025-01-01 00:00:00", "2025-01-01 08:00:30"], utc=True),
        "funding_rate": [0.0001, 0.0002],
    })
    assert list(dropped_settlements(funding, mark)) == [funding["date"][1]]
    with pytest.raises(CentaurConfigError, match="2025-01-01 08:00:30"):
        FundingAlignmentMixin.combine_funding_and_mark(funding, mark)
    aligned = funding.assign(date=pd.to_datetime(["2025-01-01 00:00", "2025-01-01 08:00"],
                                                 utc=True))
    combined = FundingAlignmentMixin.combine_funding_and_mark(aligned, mark)
    assert list(combined["open_fund"]) == [0.0001, 0.0002]
