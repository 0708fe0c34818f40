"""The structured market state the veto sees, computed from the strategy's candles.

``add_market_features`` adds ``llm_*`` columns with fixed-length windows only, so a row's values
are the same whether computed over the whole backtest frame or over the last 1000 candles
freqtrade serves live: the prompt of a decision is reproducible. Each row uses data up to its
own candle's close, never after. Order-book skew exists only live; open interest is not in the
shared data and is reported as unavailable rather than invented.

Headline sentiment (``llm_layer.sentiment``'s ``news_sent_6h`` / ``news_count_6h`` / 24 h
columns, when the frame has them) enters as ``news_sentiment``; a frame without them gives the
same prompt as before, so records made without sentiment still replay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_minutes

SHORT_VOL_HOURS = 4
LONG_VOL_HOURS = 48  # within a 5m strategy's 720-candle start-up and freqtrade's 1000 rows
CALM_BELOW_RATIO = 0.7
ELEVATED_ABOVE_RATIO = 1.4
FEATURES = ("llm_ret_1h", "llm_ret_24h", "llm_vol_ratio", "llm_vol_24h", "llm_funding",
            "llm_funding_change_24h")
NEWS_WINDOWS_HOURS = (6, 24)  # llm_layer.sentiment adds news_sent_<h>h, news_count_<h>h


def _candles(hours: float, timeframe: str) -> int:
    return max(1, int(round(hours * 60 / timeframe_to_minutes(timeframe))))


def add_market_features(frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Add the ``llm_*`` columns (fixed windows; NaN until a window is full)."""
    close = frame["close"].astype("float64")
    log_ret = np.log(close).diff()
    per_day = _candles(24, timeframe)
    short_vol = log_ret.rolling(_candles(SHORT_VOL_HOURS, timeframe)).std()
    long_vol = log_ret.rolling(_candles(LONG_VOL_HOURS, timeframe)).std()
    frame["llm_ret_1h"] = close / close.shift(_candles(1, timeframe)) - 1.0
    frame["llm_ret_24h"] = close / close.shift(per_day) - 1.0
    frame["llm_vol_ratio"] = short_vol / long_vol
    frame["llm_vol_24h"] = log_ret.rolling(per_day).std() * math.sqrt(per_day)
    funding = frame["funding_rate"].astype("float64") if "funding_rate" in frame.columns \
        else pd.Series(np.nan, index=frame.index)
    frame["llm_funding"] = funding
    frame["llm_funding_change_24h"] = funding - funding.shift(per_day)
    return frame


def volatility_regime(vol_ratio: float | None) -> str:
    if vol_ratio is None:
        return "unknown"
    if vol_ratio < CALM_BELOW_RATIO:
        return "calm"
    return "elevated" if vol_ratio > ELEVATED_ABOVE_RATIO else "normal"


def book_skew(bids: list[list[float]], asks: list[list[float]], levels: int = 10) -> float | None:
    """(bid size - ask size) / total over the top ``levels``: > 0 means more resting bids."""
    bid = sum(float(level[1]) for level in bids[:levels])
    ask = sum(float(level[1]) for level in asks[:levels])
    return None if bid + ask <= 0 else (bid - ask) / (bid + ask)


@dataclass(frozen=True)
class MarketState:
    """What the prompt says about the market at the signal candle (rounded for stability)."""

    return_1h_ratio: float | None
    return_24h_ratio: float | None
    volatility_24h_ratio: float | None
    volatility_regime: str
    funding_rate: float | None
    funding_change_24h: float | None
    open_interest_change_24h_ratio: float | None = None  # not in the shared data
    order_book_skew: float | None = None  # live only
    # headline sentiment (mean score in [-1, 1], scored headlines) per window; None: not wired
    news_sentiment: tuple[tuple[int, float | None, int], ...] | None = None

    @classmethod
    def from_row(cls, row: pd.Series | dict[str, Any],
                 order_book_skew: float | None = None) -> MarketState:
        value = {name: _finite(row.get(name)) for name in FEATURES}
        return cls(
            return_1h_ratio=_round(value["llm_ret_1h"], 4),
            return_24h_ratio=_round(value["llm_ret_24h"], 4),
            volatility_24h_ratio=_round(value["llm_vol_24h"], 4),
            volatility_regime=volatility_regime(value["llm_vol_ratio"]),
            funding_rate=_round(value["llm_funding"], 6),
            funding_change_24h=_round(value["llm_funding_change_24h"], 6),
            order_book_skew=_round(order_book_skew, 3),
            news_sentiment=_news_sentiment(row),
        )

    def to_prompt(self) -> dict[str, Any]:
        return {
            "return_1h": self.return_1h_ratio, "return_24h": self.return_24h_ratio,
            "volatility_24h": self.volatility_24h_ratio,
            "volatility_regime": self.volatility_regime,
            "funding_rate_per_settlement": self.funding_rate,
            "funding_rate_change_24h": self.funding_change_24h,
            "open_interest_change_24h": self.open_interest_change_24h_ratio
            if self.open_interest_change_24h_ratio is not None else "unavailable",
            "order_book_skew": self.order_book_skew
            if self.order_book_skew is not None else "unavailable",
        } | self._news_prompt()

    def _news_prompt(self) -> dict[str, Any]:
        if self.news_sentiment is None:
            return {}  # the prompt (and its record key) as before sentiment existed
        return {"news_sentiment": {f"last_{hours}h": {"mean_score": mean, "headlines": count}
                                   for hours, mean, count in self.news_sentiment}}


def _news_sentiment(row: pd.Series | dict[str, Any]
                    ) -> tuple[tuple[int, float | None, int], ...] | None:
    windows = []
    for hours in NEWS_WINDOWS_HOURS:
        count = _finite(row.get(f"news_count_{hours}h"))
        if count is not None:
            mean = _round(_finite(row.get(f"news_sent_{hours}h")), 2)
            windows.append((hours, mean, int(count)))
    return tuple(windows) or None


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
