"""Settings of the candle checks at load (``centaur.data``): what bad data stops a run.

``max_gap_candles`` = 6, for a structural reason: freqtrade fills a gap with flat, zero-volume
candles at the last close, and the shortest windows the suite reads are 12-14 candles (RSI(14)
of rsi_bounce, the stops' ATR(14) of 1h candles, the ranker's ``indicator_periods_candles`` =
12). A gap of more than 6 candles is more than half such a window made of fill: the indicator
describes freqtrade's fill-up, not the market. It is 30 min of 5m candles, 6 h of 1h candles.

Measured on the shared data (every file, whole span, largest number of missing candles between
two consecutive rows):

- ``binance/futures`` 5m and 1h futures candles and 1h mark candles, 20 pairs, and the spot
  files at 5m, 1h, 4h and 1d, 37 pairs: no gap at all (0), no duplicated or out-of-order
  timestamp, no NaN price.
- ``binance-2021-22q1`` (spot 1h, 34 pairs): largest gap 4 candles (2021-08-13 02:00-05:00
  UTC), then 2 (2021-09-29 07:00-08:00), the same hours in all 34 pairs (exchange-wide
  outages): below the limit, so backtests there run unchanged.
- ``binance/futures/*-1h-funding_rate``: not candles. One row per settlement, 8 h apart on the
  majors, 4 h or 1 h on pairs whose interval Binance changed; the longest step in any file is
  8 h. Funding rows follow their own rule: no duplicated or out-of-order settlement, no NaN
  rate, and no step above ``max_funding_interval_hours`` (Binance never settles less often
  than every 8 h, so a longer step is a settlement missing from the file, whose funding would
  silently not be charged). Steps are measured on the hour grid; a settlement off the mark
  candles' grid is ``centaur.funding``'s check.
- For reference, not used by suite backtests: ``freqtrade-testdata/ADA_BTC-5m`` (2018) has a
  33-candle gap and would fail with the default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from centaur.settings.base import Section


class DataSettings(Section):
    """Candles loaded from disk are checked before freqtrade merges duplicates or fills gaps."""

    enabled: bool = True
    max_gap_candles: int = Field(default=6, ge=0)
    max_funding_interval_hours: float = Field(default=8.0, gt=0)
    on_bad_pair: Literal["fail", "drop"] = "fail"

    def short_desc(self) -> str:
        if not self.enabled:
            return "candle checks at load: off"
        return (f"candle checks at load: duplicates, order, NaN, gaps above "
                f"{self.max_gap_candles} candles, funding steps above "
                f"{self.max_funding_interval_hours:g} h; bad pair: {self.on_bad_pair}")
