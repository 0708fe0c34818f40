"""Rule: model inputs outside the strategy dataframe are read with freqtrade's own loaders.

``DatadirSource`` reads candles, funding settlements and spot candles from a freqtrade data
directory with ``load_pair_history`` (gaps filled the way freqtrade fills them), so the
pooled ranker's panel, the report and the benchmark see exactly the candles a backtest sees.
Each pair's file is read once per process and sliced per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType

from freqai_models.candles import fill_gaps
from freqai_models.pair_features import PairInputs

FUNDING_TIMEFRAME = "1h"  # the shared funding files' (and freqtrade's) funding timeframe
SPOT_TIMEFRAME = "1h"


def spot_pair(pair: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC/USDT``: the spot market a perpetual settles against."""
    return pair.split(":")[0]


def futures_stem(pair: str) -> str:
    return pair.replace("/", "_").replace(":", "_")


@dataclass
class DatadirSource:
    """Reads a freqtrade datadir (``../shared/data/binance`` layout) once per pair."""

    datadir: Path
    timeframe: str = "5m"
    timeframe_secs: int = 300
    candle_type: CandleType = CandleType.FUTURES
    side_data: bool = True  # funding and spot candles (off for spot-only studies)
    _cache: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)

    def inputs(self, pair: str, start: pd.Timestamp | None = None,
               stop: pd.Timestamp | None = None) -> PairInputs:
        """Candles in [start, stop) with the side data known before ``stop``."""
        candles = _slice(self._load(pair, "candles"), start, stop).reset_index(drop=True)
        if candles.empty:
            raise ValueError(f"{pair}: no {self.timeframe} candles in {self.datadir} between "
                             f"{start} and {stop}. Fix: download the data or change the range.")
        if not self.side_data:
            return PairInputs(pair, candles)
        funding = _slice(self._load(pair, "funding"), None, stop)
        spot = _slice(self._load(pair, "spot"), None, stop)
        return PairInputs(pair, candles, None if funding.empty else funding,
                          None if spot.empty else spot)

    def available(self, pair: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        candles = self._load(pair, "candles")
        return None if candles.empty else (candles["date"].iloc[0], candles["date"].iloc[-1])

    def _load(self, pair: str, kind: str) -> pd.DataFrame:
        if (pair, kind) not in self._cache:
            self._cache[(pair, kind)] = self._read(pair, kind)
        return self._cache[(pair, kind)]

    def _read(self, pair: str, kind: str) -> pd.DataFrame:
        if kind == "candles":
            frame = load_pair_history(pair, self.timeframe, self.datadir,
                                      candle_type=self.candle_type)
            frame = fill_gaps(frame, self.timeframe_secs, pair)
        elif kind == "funding":
            frame = load_pair_history(pair, FUNDING_TIMEFRAME, self.datadir,
                                      candle_type=CandleType.FUNDING_RATE, fill_up_missing=False)
        else:
            frame = load_pair_history(spot_pair(pair), SPOT_TIMEFRAME, self.datadir,
                                      candle_type=CandleType.SPOT, fill_up_missing=False)
        if not frame.empty:
            frame["date"] = pd.to_datetime(frame["date"], utc=True).astype("datetime64[ns, UTC]")
        return frame


def _slice(frame: pd.DataFrame, start: pd.Timestamp | None,
           stop: pd.Timestamp | None) -> pd.DataFrame:
    if frame.empty:
        return frame
    mask = pd.Series(True, index=frame.index)
    if start is not None:
        mask &= frame["date"] >= start
    if stop is not None:
        mask &= frame["date"] < stop
    return frame.loc[mask]
