"""Rule: the carry's result is both legs together - freqtrade's perp trades plus the spot
hedge legs - marked to market every UTC day, against buy-and-hold, cash and its null.

Inputs are freqtrade's exported backtest trades (the perp leg: ``profit_abs`` after its fees
and the funding received) and the real candles. Each trade's spot leg is priced by the same
``SimulatedSpotHedge`` the strategy used in the backtest (the spot candle's open at each fill,
slippage and fee), so the two agree by construction.

Daily equity (the curve the Sharpe, the drawdown and the deflated Sharpe are read from):
``capital + closed trades' two-leg results + open trades marked at the day's last close``
(perp: short P&L at the perp close, funding settled so far, the entry fee; spot: the held base
at the spot close, its entry fee). The capital is ``dry_run_wallet``: perp margin and spot cash
together (``centaur.carry``: ``1 / (1 + leverage)`` of a pair's share is margin).

The null is the same trades with random directions (short or long the basis, a coin each),
after the same costs: funding and basis moves flip sign, fees do not. Its mean is minus the
costs; the report gives its 95 % interval and where the actual result falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType

from centaur.settings.carry import CarrySettings
from research.evidence.equity import buy_and_hold_equity, curve_metrics, day_index
from sor_exchange.hedge_leg import HedgeRequest
from sor_exchange.hedge_simulated import SimulatedSpotHedge
from strategies.signals.hourly import spot_pair

NULL_DRAWS = 4000


@dataclass(frozen=True)
class Candles:
    """One pair's 1h perp and spot candles and its funding settlements, indexed by UTC time."""

    perp_close: pd.Series
    spot_open: pd.Series
    spot_close: pd.Series
    funding: pd.Series  # rate per settlement, at the settlement time


def load_candles(datadir: Path, pair: str, timeframe: str = "1h") -> Candles:
    def series(name: str, kind: CandleType, column: str, frame_timeframe: str) -> pd.Series:
        frame = load_pair_history(pair=name, timeframe=frame_timeframe, datadir=datadir,
                                  candle_type=kind)
        if frame.empty:
            raise FileNotFoundError(
                f"{name}: no {kind.value} {frame_timeframe} candles in {datadir}. Fix: point "
                "--datadir at freqtrade data with the pair's spot, futures and funding files.")
        out = pd.Series(frame[column].to_numpy(dtype="float64"),
                        index=pd.DatetimeIndex(frame["date"]).tz_convert("UTC"))
        return out[~out.index.duplicated(keep="last")]

    spot = spot_pair(pair)
    return Candles(series(pair, CandleType.FUTURES, "close", timeframe),
                   series(spot, CandleType.SPOT, "open", timeframe),
                   series(spot, CandleType.SPOT, "close", timeframe),
                   series(pair, CandleType.FUNDING_RATE, "open", "1h"))


class _Clock:
    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        assert self.now is not None
        return self.now


def spot_legs(trades: pd.DataFrame, candles: dict[str, Candles], settings: CarrySettings
              ) -> pd.DataFrame:
    """Each trade's spot leg priced by ``SimulatedSpotHedge``: base, prices, fees, result."""
    clock = _Clock()

    def fill_price(pair: str, now: datetime) -> float | None:
        stamp = pd.Timestamp(now).floor("1h")
        price = candles[pair].spot_open.get(stamp)
        return float(price) if price is not None and np.isfinite(price) else None

    hedge = SimulatedSpotHedge(fill_price, clock, settings.spot_fee_ratio,
                               settings.slippage_ratio)
    rows = []
    for number, trade in enumerate(trades.itertuples(index=False)):
        clock.now = pd.Timestamp(trade.open_date).to_pydatetime()
        opened = hedge.execute(HedgeRequest(number, trade.pair, "open", float(trade.amount),
                                            float(trade.open_rate)))
        clock.now = pd.Timestamp(trade.close_date).to_pydatetime()
        closed = hedge.execute(HedgeRequest(number, trade.pair, "close", opened.filled_base,
                                            float(trade.close_rate))) \
            if opened.done else None
        filled = closed is not None and closed.done
        if opened.done and not filled:
            raise ValueError(
                f"{trade.pair}: no spot price to close the hedge leg at {trade.close_date} "
                "(a gap in the spot candles). Fix: complete the spot data, or choose a "
                "--timerange the spot candles cover.")
        rows.append({
            "spot_base": opened.filled_base,
            "spot_open_price": opened.average_price if opened.done else np.nan,
            "spot_close_price": closed.average_price if filled else np.nan,
            "spot_open_fee_usd": opened.fee_quote,
            "spot_fee_usd": opened.fee_quote + (closed.fee_quote if filled else 0.0),
            "spot_pnl_usd": (opened.filled_base * (closed.average_price - opened.average_price)
                             - opened.fee_quote - closed.fee_quote) if filled else 0.0,
            "hedged": bool(filled),
        })
    return pd.DataFrame(rows, index=trades.index)


def perp_fees_usd(trades: pd.DataFrame) -> pd.Series:
    return trades["amount"] * (trades["open_rate"] * trades["fee_open"].fillna(0)
                               + trades["close_rate"] * trades["fee_close"].fillna(0))


def two_leg_daily_equity(trades: pd.DataFrame, legs: pd.DataFrame,
                         candles: dict[str, Candles], capital_usd: float,
                         start: datetime | str, end: datetime | str) -> pd.Series:
    """Capital plus both legs' results, marked at each UTC day's last close."""
    days = day_index(start, end)
    perp_day = {p: c.perp_close.resample("1D").last().reindex(days).ffill()
                for p, c in candles.items()}
    spot_day = {p: c.spot_close.resample("1D").last().reindex(days).ffill()
                for p, c in candles.items()}
    opens = pd.to_datetime(trades["open_date"], utc=True)
    closes = pd.to_datetime(trades["close_date"], utc=True)
    fees_open = trades["amount"] * trades["open_rate"] * trades["fee_open"].fillna(0)
    values = []
    for day in days:
        day_end = day + pd.Timedelta(days=1)
        total = capital_usd
        for i in trades.index[opens < day_end]:
            trade, leg = trades.loc[i], legs.loc[i]
            if closes[i] < day_end:
                total += float(trade["profit_abs"]) + float(leg["spot_pnl_usd"])
                continue
            pair = trade["pair"]
            perp, amount = float(perp_day[pair][day]), float(trade["amount"])
            total += amount * (float(trade["open_rate"]) - perp) - float(fees_open[i])
            total += _funding_received(candles[pair], amount, opens[i], day_end)
            if leg["spot_base"] > 0:
                total += leg["spot_base"] * (float(spot_day[pair][day])
                                             - float(leg["spot_open_price"]))
                total -= float(leg["spot_open_fee_usd"])  # the exit fee is not paid yet
        values.append(total)
    opening = pd.Series([capital_usd], index=[days[0] - pd.Timedelta(days=1)])
    return pd.concat([opening, pd.Series(values, index=days)]).rename("equity")


def _funding_received(candles: Candles, amount: float, opened: pd.Timestamp,
                      until: pd.Timestamp) -> float:
    """A short's funding from settlements in (opened, until): rate x notional at the hour."""
    settled = candles.funding[(candles.funding.index > opened) & (candles.funding.index < until)]
    if settled.empty:
        return 0.0
    # the price at hh:00 is the close of the candle that opened an hour before
    prices = candles.perp_close.reindex(settled.index - pd.Timedelta(hours=1), method="ffill")
    prices.index = settled.index
    return float((amount * prices * settled).sum())


def random_direction_null(gross_usd: np.ndarray, costs_usd: np.ndarray, capital_usd: float,
                          seed: int = 11, draws: int = NULL_DRAWS) -> dict[str, float]:
    """Total return of the same trades with a random side each, after the same costs."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(draws, len(gross_usd)))
    totals = (signs @ gross_usd - costs_usd.sum()) / capital_usd
    actual = (gross_usd.sum() - costs_usd.sum()) / capital_usd
    return {"null_mean_return_ratio": round(float(totals.mean()), 5),
            "null_ci95": [round(float(np.quantile(totals, 0.025)), 5),
                          round(float(np.quantile(totals, 0.975)), 5)],
            "actual_return_ratio": round(float(actual), 5),
            "p_value": round(float((totals >= actual).mean()), 4), "draws": draws}


def carry_result(trades: pd.DataFrame, candles: dict[str, Candles], settings: CarrySettings,
                 capital_usd: float, start: datetime | str, end: datetime | str,
                 trials: int = 1) -> dict[str, Any]:
    """The two-leg figures, the benchmarks and the null (JSON-ready), plus the curves."""
    trades = trades.reset_index(drop=True)
    legs = spot_legs(trades, candles, settings) if len(trades) else pd.DataFrame(
        columns=["spot_base", "spot_open_price", "spot_close_price", "spot_open_fee_usd",
                 "spot_fee_usd", "spot_pnl_usd", "hedged"])
    equity = two_leg_daily_equity(trades, legs, candles, capital_usd, start, end)
    held = buy_and_hold_equity({spot_pair(p): c.spot_close for p, c in candles.items()},
                               capital_usd, start, end)
    perp_fees = perp_fees_usd(trades) if len(trades) else pd.Series(dtype=float)
    funding = trades["funding_fees"].fillna(0) if len(trades) else pd.Series(dtype=float)
    costs = (perp_fees + legs["spot_fee_usd"]).to_numpy(dtype=float) if len(trades) \
        else np.array([])
    net = (trades["profit_abs"] + legs["spot_pnl_usd"]).to_numpy(dtype=float) if len(trades) \
        else np.array([])
    days = day_index(start, end)
    in_market = _days_in_market(trades, days)
    years = len(days) / 365.0
    metrics = curve_metrics(equity, trials=trials)
    return {
        "figures": {
            "two_legs": metrics,
            "return_per_year_ratio": round(float(metrics["return_ratio"] or 0) / years, 5)
            if years else None,
            "funding_received_usd": round(float(funding.sum()), 2),
            "perp_fees_usd": round(float(perp_fees.sum()), 2),
            "spot_fees_usd": round(float(legs["spot_fee_usd"].sum()), 2) if len(trades) else 0.0,
            "perp_leg_usd": round(float(trades["profit_abs"].sum()), 2) if len(trades) else 0.0,
            "spot_leg_usd": round(float(legs["spot_pnl_usd"].sum()), 2) if len(trades) else 0.0,
            "trades": int(len(trades)),
            "unhedged_trades": int((~legs["hedged"].astype(bool)).sum()) if len(trades) else 0,
            "days": int(len(days)), "days_in_market": int(in_market),
            "exit_reasons": trades["exit_reason"].value_counts().to_dict() if len(trades)
            else {},
            "funding_per_year_of_notional_ratio": _funding_yield(trades, funding),
            "mean_notional_per_capital_ratio": round(float(
                _notional_days(trades).sum() / max(len(days), 1) / capital_usd), 4)
            if len(trades) else 0.0,
            "mean_hold_days": round(float(((pd.to_datetime(trades["close_date"])
                                            - pd.to_datetime(trades["open_date"]))
                                           .dt.total_seconds() / 86400).mean()), 2)
            if len(trades) else None,
        },
        "buy_and_hold": curve_metrics(held),
        "cash": {"return_ratio": 0.0, "max_drawdown_ratio": 0.0, "sharpe": None},
        "null_random_direction": random_direction_null(net + costs, costs, capital_usd)
        if len(trades) else None,
        "curves": {"two_legs": equity, "buy_and_hold": held},
    }


def _notional_days(trades: pd.DataFrame) -> pd.Series:
    """Each trade's notional (perp, at entry) times the days it was held."""
    held = (pd.to_datetime(trades["close_date"]) - pd.to_datetime(trades["open_date"])
            ).dt.total_seconds() / 86400
    return trades["amount"] * trades["open_rate"] * held


def _funding_yield(trades: pd.DataFrame, funding: pd.Series) -> float | None:
    """Funding received per year of notional held: what the carry paid while in."""
    exposure = float(_notional_days(trades).sum()) if len(trades) else 0.0
    return round(float(funding.sum()) / exposure * 365, 5) if exposure > 0 else None


def _days_in_market(trades: pd.DataFrame, days: pd.DatetimeIndex) -> int:
    if not len(trades):
        return 0
    opens = pd.to_datetime(trades["open_date"], utc=True)
    closes = pd.to_datetime(trades["close_date"], utc=True)
    count = 0
    for day in days:
        end = day + pd.Timedelta(days=1)
        if ((opens < end) & (closes > day)).any():
            count += 1
    return count
