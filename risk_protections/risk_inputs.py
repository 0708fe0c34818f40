"""What the risk rules read, behind three small collaborators the strategy injects:

- ``CandleRows``: each pair's risk columns (``risk_columns``) by closed candle;
- ``StopModel``: the initial stop of an entry and the chandelier stop of a trade;
- ``Account``: equity (marked to the last closed candle), free stake, open exposure and the
  closed trades' profits, from freqtrade's wallets and trade list.

The same objects serve backtests and live; only freqtrade's data behind them differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from freqtrade.persistence import Trade

from centaur.modes import is_trading
from centaur.settings.risk import StopSettings
from risk_protections.exposure_caps import OpenExposure
from risk_protections.risk_columns import RiskRows
from risk_protections.stops import chandelier_stop_price, hard_stop_price, tighter_stop


def finite(row: dict[str, float] | None, column: str) -> float | None:
    value = row.get(column) if row else None
    return value if value is not None and math.isfinite(value) else None


class CandleRows:
    """Per pair, the risk columns of the last analysis; read at the candle closed at ``now``."""

    def __init__(self, step: timedelta):
        self.step = step
        self._rows: dict[str, RiskRows] = {}

    def update(self, pair: str, rows: RiskRows) -> None:
        self._rows[pair] = rows

    def row(self, pair: str, now: datetime) -> dict[str, float] | None:
        """The last candle closed at ``now`` - the same candle live and in backtests."""
        rows = self._rows.get(pair)
        return rows.at(now - self.step) if rows else None

    def log_returns(self, pair: str, window: int, now: datetime) -> np.ndarray:
        rows = self._rows.get(pair)
        if rows is None:
            return np.array([])
        closes = rows.closes(now - self.step, window + 1)
        return np.diff(np.log(closes)) if len(closes) > 1 else np.array([])


class StopModel:
    """The tighter of the hard stop and the chandelier (k x ATR from the extreme since
    entry, regime-widened)."""

    def __init__(self, settings: StopSettings):
        self.settings = settings

    def stop_distance(self, row: dict[str, float] | None, rate: float, is_short: bool
                      ) -> float:
        """Distance from ``rate`` to the initial stop, as a ratio of ``rate``."""
        stop = tighter_stop(is_short, hard_stop_price(rate, is_short,
                                                      self.settings.hard_stop_ratio),
                            self.chandelier(row, is_short, rate))
        return abs(rate - stop) / rate if rate > 0 else self.settings.hard_stop_ratio

    def chandelier(self, row: dict[str, float] | None, is_short: bool,
                   extreme_since_entry: float) -> float | None:
        """The extreme of the last N candles, never of candles before the entry
        (``extreme_since_entry``), minus (short: plus) k x ATR."""
        if row is None:
            return None
        window = finite(row, "risk_lowest_low" if is_short else "risk_highest_high")
        atr = finite(row, "risk_atr")
        if window is None or atr is None:
            return None
        extreme = max(window, extreme_since_entry) if is_short else min(window,
                                                                        extreme_since_entry)
        regime = finite(row, "regime_stop_multiplier") or 1.0
        return chandelier_stop_price(extreme, atr, is_short,
                                     self.settings.chandelier_atr_multiplier, regime)

    def trade_stop_price(self, row: dict[str, float] | None, open_rate: float, is_short: bool,
                         extreme_since_entry: float) -> float:
        hard = hard_stop_price(open_rate, is_short, self.settings.hard_stop_ratio)
        return tighter_stop(is_short, hard, self.chandelier(row, is_short, extreme_since_entry))


class Account:
    """Equity and exposure from freqtrade (``wallets``, ``Trade``, the exchange's options)."""

    def __init__(self, config: dict[str, Any], wallets: Callable[[], Any],
                 exchange: Callable[[], Any], rows: CandleRows):
        self._config = config
        self._wallets = wallets
        self._exchange = exchange
        self._rows = rows

    @property
    def exchange_name(self) -> str:
        return self._config["exchange"]["name"]

    def equity_usd(self, now: datetime) -> float:
        wallets = self._wallets()
        total = wallets.get_total(self._config["stake_currency"]) if wallets else 0.0
        exchange = self._exchange()
        mode = self._config.get("runmode")
        live = getattr(mode, "value", mode) == "live"
        if live and exchange is not None and exchange.get_option(
                "balance_includes_unrealized_pnl", False):
            return total
        unrealized = 0.0
        spot = self._config.get("trading_mode", "spot") == "spot"
        for trade in Trade.get_trades_proxy(is_open=True):
            # In spot the stake left the stake-currency wallet for the coins (futures keep it
            # as margin): the coins held are equity too, at their entry value plus the profit.
            if spot:
                unrealized += float(trade.stake_amount)
            row = self._rows.row(trade.pair, now)
            if row is not None and trade.amount:
                unrealized += trade.calc_profit(row["close"])
        return total + unrealized

    def available_usd(self, default: float) -> float:
        wallets = self._wallets()
        return wallets.get_available_stake_amount() if wallets else default

    def open_exposures(self) -> list[OpenExposure]:
        return [OpenExposure(t.pair, float(t.stake_amount), self.exchange_name, t.is_short)
                for t in Trade.get_trades_proxy(is_open=True)]

    def closed_profits(self, limit: int) -> list[float]:
        """Net profit ratios of the last ``limit`` closed trades, oldest first."""
        closed = Trade.get_trades_proxy(is_open=False)
        if is_trading(self._config):  # backtests keep close order already
            closed = sorted(closed, key=lambda t: t.close_date_utc)
        return [float(t.close_profit or 0.0) for t in closed[-limit:]]
