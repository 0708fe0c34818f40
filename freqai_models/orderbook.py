"""Rule: order-book imbalance is a live-only input: read in dry-run/live, never in a backtest,
never a training feature.

``ob_imbalance`` = (bid size - ask size) / (bid size + ask size) over the top ``LEVELS`` levels
of the book freqtrade's data provider fetches (``dp.orderbook``, a network call: only in
dry-run/live). The strategy gets it on the latest candle; every other candle, and every
candle of a backtest, has NaN, so nothing downstream can learn from it by accident.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.enums import RunMode

from centaur.modes import TRADE_MODES

logger = logging.getLogger(__name__)

LEVELS = 10
LIVE_MODES = TRADE_MODES


def imbalance(book: dict[str, Any], levels: int = LEVELS) -> float:
    """(bids - asks) / (bids + asks) in size over the top ``levels``; NaN for an empty book."""
    bids = sum(float(size) for _, size, *_ in book.get("bids", [])[:levels])
    asks = sum(float(size) for _, size, *_ in book.get("asks", [])[:levels])
    total = bids + asks
    return (bids - asks) / total if total > 0 else float("nan")


def add_live_orderbook(dataframe: pd.DataFrame, dp: Any, pair: str,
                       runmode: RunMode | str | None) -> pd.DataFrame:
    """``ob_imbalance`` on the latest candle live; NaN everywhere in backtests."""
    dataframe["ob_imbalance"] = np.nan
    if runmode not in LIVE_MODES or dp is None or dataframe.empty:
        return dataframe
    book = dp.orderbook(pair, LEVELS)
    dataframe.loc[dataframe.index[-1], "ob_imbalance"] = imbalance(book)
    return dataframe
