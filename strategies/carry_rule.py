"""The carry rule: when to hold a short perpetual hedged by spot, and when to close both legs.

Inputs per candle (``carry_columns``): the trailing mean funding settlement over the entry and
exit windows, the perp-spot basis, and the forecast of the next settlement from Binance's
published formula, ``F = P + clamp(I - P, -0.05 %, +0.05 %)`` with the interest component
``I = 0.01 %`` per 8 h and ``P`` the premium (here: the mean perp-over-spot basis of the last
funding interval). Every column reads closed candles only.

- enter (``entry_mask``): both the entry-window mean and the forecast are above the hurdle
  (a round trip paid back within ``amortise_days``), and the basis is within
  ``entry_basis_max_ratio``;
- exit (``exit_decision``), first match wins: the basis blew out (the hedge no longer hedges),
  the price is ``deleverage_move_ratio`` above the entry (the short's margin is half-way to
  liquidation), or funding flipped: the exit-window mean and the forecast are both below
  minus the hurdle. The band between +hurdle (enter) and -hurdle (exit) is the cost of a round
  trip: holding through a short spell of slightly negative funding costs less than closing and
  reopening both legs. (The first design exited below zero; its look at the shared year -
  48 trades, costs 79 % of the funding received - is in the ledger and ``reports/carry.md``.)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from centaur.decision import Decision, ReasonCode
from centaur.settings.carry import CarrySettings

INTEREST_PER_SETTLEMENT = 0.0001  # Binance's interest component, per 8 h
PREMIUM_CLAMP = 0.0005  # Binance clamps (I - P) to +-0.05 %
# The rule's version, part of its design in the look ledger: 1 exited below zero funding;
# 2 exits below minus the hurdle (the cost band).
RULE_VERSION = 2
COLUMNS = ("carry_funding_entry", "carry_funding_exit", "carry_basis", "carry_forecast")


def funding_forecast(premium: np.ndarray | float) -> np.ndarray | float:
    """The next settlement from the premium, by Binance's funding formula."""
    return premium + np.clip(INTEREST_PER_SETTLEMENT - premium, -PREMIUM_CLAMP, PREMIUM_CLAMP)


def carry_columns(dataframe: pd.DataFrame, spot_close: np.ndarray, candle_hours: float,
                  settings: CarrySettings) -> pd.DataFrame:
    """Add the rule's inputs. ``funding_rate`` is the last settled rate at each candle's
    close; ``spot_close`` the spot close of the same candle (NaN where unknown)."""
    funding = dataframe["funding_rate"].astype("float64")

    def mean(series: pd.Series, hours: int) -> pd.Series:
        window = max(int(round(hours / candle_hours)), 1)
        return series.rolling(window, min_periods=window).mean()

    basis = dataframe["close"].to_numpy(dtype="float64") / spot_close - 1.0
    dataframe["carry_basis"] = basis
    dataframe["carry_funding_entry"] = mean(funding, settings.entry_window_hours)
    dataframe["carry_funding_exit"] = mean(funding, settings.exit_window_hours)
    premium = mean(pd.Series(basis, index=dataframe.index), settings.forecast_window_hours)
    dataframe["carry_forecast"] = funding_forecast(premium.to_numpy())
    return dataframe


def entry_mask(dataframe: pd.DataFrame, settings: CarrySettings) -> np.ndarray:
    """Candles whose close calls for a carry entry (NaN inputs never enter)."""
    hurdle = settings.entry_hurdle_per_settlement()
    trailing = dataframe["carry_funding_entry"].to_numpy(dtype="float64")
    forecast = dataframe["carry_forecast"].to_numpy(dtype="float64")
    basis = dataframe["carry_basis"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return (trailing > hurdle) & (forecast > hurdle) & (
            np.abs(basis) <= settings.entry_basis_max_ratio)


def exit_decision(funding_exit: float | None, forecast: float | None, basis: float | None,
                  adverse_move_ratio: float, settings: CarrySettings) -> Decision:
    """Close both legs, or stay (``allowed``: stay). Unknown inputs never force an exit on
    their own: the funding-known and data-gap rules of the risk layer cover missing data."""
    if _known(basis) and abs(basis) > settings.blowout_basis_ratio:
        return Decision(False, ReasonCode.CARRY_BASIS_BLOWOUT,
                        f"basis {basis:+.2%} beyond {settings.blowout_basis_ratio:.1%}")
    if adverse_move_ratio >= settings.deleverage_move_ratio:
        return Decision(False, ReasonCode.CARRY_DELEVERAGE,
                        f"price {adverse_move_ratio:+.1%} above entry "
                        f"(limit {settings.deleverage_move_ratio:.0%})")
    floor = -settings.entry_hurdle_per_settlement()
    if _known(funding_exit) and _known(forecast) and funding_exit < floor and forecast < floor:
        return Decision(False, ReasonCode.CARRY_FUNDING_FLIP,
                        f"{settings.exit_window_hours} h mean {funding_exit:+.4%}, forecast "
                        f"{forecast:+.4%} per settlement, both below {floor:+.4%}")
    return Decision.allow()


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
