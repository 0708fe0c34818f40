"""Joining the futures side data (funding rates) onto a strategy's candles, without look-ahead,
and saying so when a pair has none.

Funding is a data kind of perpetual futures only: a spot pair (a ccxt symbol without a settle
currency, ``BTC/USDT``) has none, and nothing asks freqtrade for it. A futures pair without
funding rows is never silent: a backtest stops at start-up naming the pairs, the data kind and
the fix (``MissingFundingData``); candles without a settled rate while trading, or in a backtest
whose funding covers only part of the candles, are one operator event per pair
(``FundingGaps``, code ``DATA_GAP``) - the entry pipeline's ``funding_known`` gate denies entries
on those candles.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings import CentaurConfigError

FUNDING_TIMEFRAME = "1h"  # freqtrade's funding_fee_timeframe; the shared rows are 8h apart
FUNDING_KIND = CandleType.FUNDING_RATE.value
# A settled rate older than this is not "known" any more: the longest Binance settlement
# interval is 8 h, so a rate a day old means the funding data ended, not that none settled.
STALE_AFTER = pd.Timedelta(hours=24)


def is_perpetual(pair: str) -> bool:
    """A derivatives market (ccxt's ``BASE/QUOTE:SETTLE``); spot pairs have no funding."""
    return ":" in pair


def funding_informative(pair: str) -> tuple[str, str, str]:
    """The ``informative_pairs`` entry that makes freqtrade load/refresh a pair's funding."""
    return (pair, FUNDING_TIMEFRAME, FUNDING_KIND)


def settled_funding(dp: DataProvider | None, pair: str) -> pd.DataFrame:
    """The pair's funding rows (``date``: settlement time, ``funding_rate``); empty for a spot
    pair, without asking the data provider (which would look for a file that cannot exist)."""
    if dp is None or not is_perpetual(pair):
        return pd.DataFrame()
    funding = dp.get_pair_dataframe(pair, FUNDING_TIMEFRAME, candle_type=CandleType.FUNDING_RATE)
    if funding.empty or "funding_rate" not in funding.columns:
        return pd.DataFrame()
    return funding


def with_funding_rate(
    dataframe: pd.DataFrame, dp: DataProvider, pair: str, timeframe: str
) -> pd.DataFrame:
    """Add ``funding_rate``: the last settled rate known at each candle's close.

    Funding settles at discrete times (every 8 h on the shared data, sometimes 4 h or 1 h).
    A settlement at time T is known from T on; the 5m candle that *closes* at or after T sees
    it. ``merge_asof`` on the candle close time does that without look-ahead, whatever the
    settlement interval. A pair without funding data (a spot pair, or a futures pair whose
    data is missing) gets NaN, and so does a candle more than ``STALE_AFTER`` past the last
    settlement (the data ended): never a made-up or stale rate.
    """
    funding = settled_funding(dp, pair)
    if funding.empty:
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
        tolerance=STALE_AFTER,
    ).set_index("index")
    dataframe["funding_rate"] = merged["funding_rate"].to_numpy()
    return dataframe


# --- a missing data kind: one clear error, or one decision per pair --------------------------


class MissingFundingData(CentaurConfigError):
    """Futures pairs without any funding rows: the backtest cannot charge funding, and the
    risk layer would deny every entry on them. Fix the data (or the pairs) and rerun."""

    reason = ReasonCode.DATA_GAP
    data_kind = FUNDING_KIND

    def __init__(self, pairs: Iterable[str], datadir: str | Path | None):
        self.pairs = tuple(pairs)
        where = Path(datadir) / "futures" if datadir else Path("<datadir>") / "futures"
        files = ", ".join(f"{_stem(p)}-{FUNDING_TIMEFRAME}-{FUNDING_KIND}.*" for p in self.pairs)
        super().__init__(
            f"[{self.reason}] no {self.data_kind} data for {', '.join(self.pairs)} "
            f"(looked for {files} in {where}): a futures backtest charges funding at each "
            "settlement, and the entry pipeline's funding_known gate would deny every entry "
            "on these pairs. Fix: freqtrade download-data --trading-mode futures "
            f"--candle-types {FUNDING_KIND} mark --pairs {' '.join(self.pairs)}, or remove "
            "the pairs from the whitelist, or run spot candles with the long-only spot "
            "variant (CentaurEnsembleSpot, config/backtest-spot.json).")


def check_funding_present(dp: DataProvider, pairs: Iterable[str],
                          datadir: str | Path | None) -> None:
    """Backtests and hyperopt, at start-up: every futures pair has funding rows."""
    missing = [p for p in pairs if is_perpetual(p) and settled_funding(dp, p).empty]
    if missing:
        raise MissingFundingData(missing, datadir)


def funding_gap_decision(dates: pd.Series, funding_rate: pd.Series) -> Decision:
    """DATA_GAP when some candles have no settled funding rate; the detail counts them."""
    unknown = ~np.isfinite(funding_rate.to_numpy(dtype=float, na_value=np.nan))
    if not unknown.any():
        return Decision.allow()
    gap = dates[unknown]
    return Decision(False, ReasonCode.DATA_GAP,
                    f"no settled {FUNDING_KIND} at {int(unknown.sum())} of {len(unknown)} "
                    f"candles ({gap.min():%Y-%m-%d %H:%M} to {gap.max():%Y-%m-%d %H:%M}): "
                    "the funding_known gate denies entries there")


class FundingGaps:
    """Futures: a pair's candles without a settled funding rate, said once per pair as an
    operator event (code ``DATA_GAP``, the pair, the count) instead of silent denials.

    Backtests look at every analysed candle; trading (``latest_only``) at the last one, the
    candle the next entry decision reads (older history without funding decides nothing).
    """

    def __init__(self, events: EventSink, latest_only: bool = False):
        self._events = events
        self._latest_only = latest_only
        self._reported: set[str] = set()

    def check(self, pair: str, dataframe: pd.DataFrame) -> Decision:
        if pair in self._reported or dataframe.empty:
            return Decision.allow()
        frame = dataframe.iloc[-1:] if self._latest_only else dataframe
        decision = funding_gap_decision(frame["date"], frame["funding_rate"])
        if not decision.allowed:
            self._reported.add(pair)
            self._events.emit(OperatorEvent(
                _as_datetime(dataframe["date"].iloc[-1]), Severity.WARNING, decision.reason,
                f"{decision.detail}. Fix: freqtrade download-data --trading-mode futures "
                f"--candle-types {FUNDING_KIND} mark --pairs {pair}",
                pair=pair, data={"data_kind": FUNDING_KIND}))
        return decision


def _stem(pair: str) -> str:
    return pair.replace("/", "_").replace(":", "_")


def _as_datetime(value) -> datetime:
    return pd.Timestamp(value).to_pydatetime()
