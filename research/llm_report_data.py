"""A temporary freqtrade datadir from the nautilus 1m BTC-perp bars (2021-12-31 -> 2022-02-01).

The shared set has real headlines for that month but no Binance futures candles; the nautilus
test file has 1m BTC-perp bars from an undocumented venue, and no funding or mark prices. What
this module assumes, stated in the report:

- timestamps are bar *close* times: shifted one minute, the hourly closes match Binance spot
  (``binance-2021-22q1``) better (median |diff| 15 USD against 24 as open times);
- the 5m and 1h futures candles are resampled from the 1m bars; volume is the file's unit;
- mark candles are the same 1h candles (mark ~ last price at 1h);
- funding per 8 h settlement follows Binance's USDT-M formula
  ``F = P + clamp(0.01 % - P, -0.05 %, 0.05 %)`` with ``P`` the mean hourly premium of the perp
  over Binance spot in the 8 hours before the settlement: a derived estimate, not a record.

The directory is built at report time under a temporary folder and never committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

INTEREST_RATE = 0.0001  # Binance USDT-M interest component per 8 h
PREMIUM_CLAMP = 0.0005
SETTLEMENT_HOURS = (0, 8, 16)
STEM = "BTC_USDT_USDT"


@dataclass(frozen=True)
class DerivedData:
    datadir: Path
    first_candle: pd.Timestamp
    last_candle: pd.Timestamp
    funding_mean: float
    funding_min: float
    funding_max: float


def read_bars(csv_path: Path) -> pd.DataFrame:
    """The 1m bars indexed by their open time (file timestamps are close times)."""
    bars = pd.read_csv(csv_path)
    opened = pd.to_datetime(bars["timestamp"], utc=True) - pd.Timedelta(minutes=1)
    return bars.drop(columns="timestamp").set_index(opened).sort_index()


def resample(bars: pd.DataFrame, rule: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "open": bars["open"].resample(rule).first(), "high": bars["high"].resample(rule).max(),
        "low": bars["low"].resample(rule).min(), "close": bars["close"].resample(rule).last(),
        "volume": bars["volume"].resample(rule).sum(),
    }).dropna(subset=["open"])
    out = out.rename_axis("date").reset_index().astype({c: "float64" for c in out.columns})
    out["date"] = out["date"].astype("datetime64[ns, UTC]")  # freqtrade's own resolution
    return out


def binance_funding(premium: pd.Series) -> pd.Series:
    """Funding at each settlement from the mean premium of the 8 h before it."""
    mean_premium = premium.rolling("8h").mean()
    settlements = mean_premium[mean_premium.index.hour.isin(SETTLEMENT_HOURS)]
    clamp = np.clip(INTEREST_RATE - settlements, -PREMIUM_CLAMP, PREMIUM_CLAMP)
    return settlements + clamp


def build_datadir(csv_path: Path, spot_1h_path: Path, target: Path) -> DerivedData:
    bars = read_bars(csv_path)
    five, hourly = resample(bars, "5min"), resample(bars, "1h")
    spot = pd.read_feather(spot_1h_path).set_index("date")["close"]
    perp = hourly.set_index("date")["close"]
    premium = (perp / spot.reindex(perp.index) - 1.0).dropna()
    funding = binance_funding(premium).rename("open").rename_axis("date").reset_index()
    funding["date"] = funding["date"].astype("datetime64[ns, UTC]")
    for column in ("high", "low", "close", "volume"):
        funding[column] = 0.0
    folder = target / "futures"
    folder.mkdir(parents=True, exist_ok=True)
    five.to_feather(folder / f"{STEM}-5m-futures.feather")
    hourly.to_feather(folder / f"{STEM}-1h-futures.feather")
    hourly.to_feather(folder / f"{STEM}-1h-mark.feather")
    funding.to_feather(folder / f"{STEM}-1h-funding_rate.feather")
    return DerivedData(target, five["date"].iloc[0], five["date"].iloc[-1],
                       float(funding["open"].mean()), float(funding["open"].min()),
                       float(funding["open"].max()))

