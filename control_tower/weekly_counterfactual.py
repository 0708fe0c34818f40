"""Rule: a vetoed entry's would-be outcome is the price move over a fixed horizon after it.

An approximation, said in the report: the skipped entry is priced at the open of the first
candle at or after the decision time (freqtrade enters on the candle after the signal), and
closed at the close of the last candle that starts before ``entry + horizon``. The horizon is the
median holding time of the week's closed trades (``DEFAULT_HORIZON`` without any). No stops,
no ROI, no exit signals, no funding; fees are ``fee_ratio`` on each side. The would-be profit
in USD applies that return to the week's median trade notional (stake x leverage). A veto
whose pair has no candles over the horizon has no counterfactual (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pandas as pd

DEFAULT_HORIZON = timedelta(hours=24)
DEFAULT_FEE_RATIO = 0.0005


def horizon_of(closed_trades: Sequence[Mapping[str, Any]]) -> timedelta:
    """The median holding time of the closed trades, or ``DEFAULT_HORIZON``."""
    held = [t["close_date"] - t["open_date"] for t in closed_trades
            if t.get("close_date") is not None]
    return pd.Series(held).median().to_pytimedelta() if held else DEFAULT_HORIZON


def notional_of(closed_trades: Sequence[Mapping[str, Any]]) -> float:
    """The median notional (stake x leverage) of the closed trades, 0 without any."""
    values = [float(t["stake_amount"] or 0) * float(t.get("leverage") or 1.0)
              for t in closed_trades]
    return float(pd.Series(values).median()) if values else 0.0


def counterfactual(veto: Mapping[str, Any], candles: pd.DataFrame | None,
                   horizon: timedelta, notional_usd: float,
                   fee_ratio: float = DEFAULT_FEE_RATIO) -> dict[str, Any] | None:
    """The skipped entry's entry/exit prices, return ratio after fees and would-be USD."""
    if candles is None or not len(candles):
        return None
    start = veto["decided_at"]
    after = candles[candles["date"] >= start]
    if not len(after):
        return None
    entry_row = after.iloc[0]
    inside = after[after["date"] < entry_row["date"] + horizon]
    exit_row = inside.iloc[-1]
    if exit_row["date"] + (candles["date"].diff().median() or timedelta(0)) \
            < entry_row["date"] + horizon:
        return None  # the candles end before the horizon: not enough data to price it
    entry, close = float(entry_row["open"]), float(exit_row["close"])
    move = close / entry - 1.0
    gross = -move if veto.get("side") == "short" else move
    ratio = gross - 2 * fee_ratio
    return {"entry_time": entry_row["date"], "entry_price": entry,
            "exit_time": exit_row["date"], "exit_price": close,
            "return_ratio": round(ratio, 6), "would_be_profit_usd": round(ratio * notional_usd, 2)}


def veto_outcomes(vetoes: Sequence[Mapping[str, Any]], candles: Mapping[str, pd.DataFrame],
                  closed_trades: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each denying veto with its counterfactual (``None`` where it cannot be priced)."""
    horizon, notional = horizon_of(closed_trades), notional_of(closed_trades)
    return [{**veto, "counterfactual": counterfactual(veto, candles.get(veto["pair"]),
                                                      horizon, notional)}
            for veto in vetoes if not veto.get("allowed")]
