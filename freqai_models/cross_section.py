"""Rule: a pair's universe features at candle t compare it only with other pairs at candle t.

Pairs are aligned on the candle date; a pair without a candle (not yet listed, or a hole) is
simply absent from that date's cross-section. Ranks are percentiles in (0, 1]; BTC context
columns are BTC's own features at the same candle (and correlation/beta of the pair's returns
with BTC's over the last 288 candles). Names and meanings: ``UNIVERSE_FEATURES``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BTC_PAIR = "BTC/USDT:USDT"
RANKED = ("logret_12", "logret_48", "logret_288", "rv_288", "volume_ratio_288", "funding_rate")
DEMEANED = ("logret_48", "logret_288")
BTC_COLUMNS = ("logret_12", "logret_48", "logret_288", "rv_288", "rsi_14")
CORR_WINDOW = 288


def universe_features(per_pair: dict[str, pd.DataFrame], dates: dict[str, pd.Series],
                      btc_pair: str = BTC_PAIR) -> dict[str, pd.DataFrame]:
    """Cross-sectional and BTC-context columns for every pair, same index as its features."""
    wide = {col: _wide(per_pair, dates, col) for col in {*RANKED, *DEMEANED, "logret_1"}}
    ranks = {col: wide[col].rank(axis=1, pct=True) for col in RANKED}
    means = {col: wide[col].mean(axis=1) for col in DEMEANED}
    btc = _btc_frame(per_pair, dates, btc_pair)
    return {pair: _columns_for(pair, dates[pair], ranks, means, wide, btc) for pair in per_pair}


def _wide(per_pair: dict[str, pd.DataFrame], dates: dict[str, pd.Series],
          column: str) -> pd.DataFrame:
    series = {pair: pd.Series(frame[column].to_numpy(), index=_index(dates[pair]))
              for pair, frame in per_pair.items()}
    return pd.DataFrame(series)


def _index(dates: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(dates, utc=True)).as_unit("ns")


def _btc_frame(per_pair: dict[str, pd.DataFrame], dates: dict[str, pd.Series],
               btc_pair: str) -> pd.DataFrame | None:
    if btc_pair not in per_pair:
        return None
    frame = per_pair[btc_pair]
    return pd.DataFrame({col: frame[col].to_numpy() for col in (*BTC_COLUMNS, "logret_1")},
                        index=_index(dates[btc_pair]))


def _columns_for(pair: str, dates: pd.Series, ranks: dict[str, pd.DataFrame],
                 means: dict[str, pd.Series], wide: dict[str, pd.DataFrame],
                 btc: pd.DataFrame | None) -> pd.DataFrame:
    index = _index(dates)
    out = {f"xs_rank_{col}": ranks[col][pair].reindex(index).to_numpy() for col in RANKED}
    for col in DEMEANED:
        own = wide[col][pair].reindex(index)
        out[f"xs_demeaned_{col}"] = (own - means[col].reindex(index)).to_numpy()
    out |= _btc_context(wide["logret_1"][pair].reindex(index), btc, index)
    return pd.DataFrame(out, index=dates.index)


def _btc_context(own_returns: pd.Series, btc: pd.DataFrame | None,
                 index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    names = [f"btc_{col}" for col in BTC_COLUMNS] + ["corr_btc_288", "beta_btc_288"]
    if btc is None:
        return {name: np.full(len(index), np.nan) for name in names}
    aligned = btc.reindex(index)
    btc_returns = aligned["logret_1"]
    cov = own_returns.rolling(CORR_WINDOW).cov(btc_returns)
    var = btc_returns.rolling(CORR_WINDOW).var()
    out = {f"btc_{col}": aligned[col].to_numpy() for col in BTC_COLUMNS}
    out["corr_btc_288"] = own_returns.rolling(CORR_WINDOW).corr(btc_returns).to_numpy()
    out["beta_btc_288"] = (cov / var.where(var > 0)).to_numpy()
    return out
