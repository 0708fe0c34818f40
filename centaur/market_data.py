"""Joining the futures side data (funding rates) onto a strategy's candles, without look-ahead."""

from __future__ import annotations

import pandas as pd
from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds

FUNDING_TIMEFRAME = "1h"  # freqtrade's funding_fee_timeframe; the shared rows are 8h apart


def funding_informative(pair: str) -> tuple[str, str, str]:
    """The ``informative_pairs`` entry that makes freqtrade load/refresh a pair's funding."""
    return (pair, FUNDING_TIMEFRAME, CandleType.FUNDING_RATE.value)


def with_funding_rate(
    dataframe: pd.DataFrame, dp: DataProvider, pair: str, timeframe: str
) -> pd.DataFrame:
    """Add ``funding_rate``: the last settled rate known at each candle's close.

    Funding settles at discrete times (every 8 h on the shared data, sometimes 4 h or 1 h).
    A settlement at time T is known from T on; the 5m candle that *closes* at or after T sees
    it. ``merge_asof`` on the candle close time does that without look-ahead, whatever the
    settlement interval, and a pair without funding data gets NaN (never a made-up rate).
    """
    funding = dp.get_pair_dataframe(pair, FUNDING_TIMEFRAME, candle_type=CandleType.FUNDING_RATE)
    if funding.empty or "funding_rate" not in funding.columns:
        dataframe["funding_rate"] = float("nan")
        return dataframe
    settled = pd.DataFrame({
        "_settled_at": funding["date"].astype("datetime64[ns, UTC]"),
        "funding_rate": funding["funding_rate"].astype("float64"),
    }).sort_values("_settled_at")
    close_time = dataframe["date"].astype("datetime64[ns, UTC]") + pd.Timedelta(
        seconds=timeframe_to_seconds(timeframe)
    )
    merged = pd.merge_asof(
        pd.DataFrame({"_close": close_time}).reset_index(),
        settled,
        left_on="_close",
        right_on="_settled_at",
        direction="backward",
    ).set_index("index")
    dataframe["funding_rate"] = merged["funding_rate"].to_numpy()
    return dataframe
