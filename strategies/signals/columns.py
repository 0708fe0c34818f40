"""Indicator columns several signals read, computed once per analysis and named by their
parameters (``rsi_14``, ``bb_mid_20``), so two signals asking for the same one share it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas_ta as pta


def rsi(dataframe: pd.DataFrame, length: int) -> np.ndarray:
    name = f"rsi_{length}"
    if name not in dataframe:
        values = pta.rsi(dataframe["close"], length=length)
        dataframe[name] = values if values is not None else np.nan
    return dataframe[name].to_numpy(dtype=float, na_value=np.nan)


def bollinger(dataframe: pd.DataFrame, length: int, width_std: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, middle, upper): SMA(length) -/+ width_std population standard deviations."""
    mid_name, sd_name = f"bb_mid_{length}", f"bb_sd_{length}"
    if mid_name not in dataframe:
        close = dataframe["close"].rolling(length)
        dataframe[mid_name] = close.mean()
        dataframe[sd_name] = close.std(ddof=0)
    mid = dataframe[mid_name].to_numpy(dtype=float, na_value=np.nan)
    sd = dataframe[sd_name].to_numpy(dtype=float, na_value=np.nan)
    return mid - width_std * sd, mid, mid + width_std * sd


def rolling_mean(dataframe: pd.DataFrame, source: str, length: int) -> np.ndarray:
    name = f"{source}_mean_{length}"
    if name not in dataframe:
        dataframe[name] = dataframe[source].rolling(length).mean()
    return dataframe[name].to_numpy(dtype=float, na_value=np.nan)
