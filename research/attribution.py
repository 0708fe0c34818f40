"""Attribution of trades to the signals that voted for them (from freqtrade's ``enter_tag``).

A trade tagged ``bb_rsi+ema_adx`` counts for both signals (each voted for it) and once for
its tag. Per group: trades, win rate, total and mean profit, and expectancy in R - the mean
of profit / R, so trades of different sizes and leverage compare. 1 R is the loss at the
hard stop: notional at entry x ``stop_ratio`` (the risk layer's ``hard_stop_ratio``, 2 % of
price by default; the chandelier can only tighten it). freqtrade's ``initial_stop_loss_abs``
is not used: it is the static ``stoploss`` safety net, not the stop the risk layer sets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from centaur import trade_stats
from strategies.signals import parse_tag

Trade = dict[str, Any]


def r_multiple(trade: Trade, stop_ratio: float) -> float | None:
    """Profit in R (see the module docstring); None for a trade without a notional.

    The notional is the largest stake the trade held x its leverage: ``amount`` in the
    export is what was left at the close, after any take-profit partial exit."""
    return trade_stats.r_multiple(float(trade["profit_abs"]),
                                  float(trade.get("max_stake_amount") or trade["stake_amount"]),
                                  float(trade.get("leverage") or 1.0), stop_ratio)


def summarise(trades: list[Trade], stop_ratio: float) -> dict[str, Any]:
    multiples = [r for r in (r_multiple(t, stop_ratio) for t in trades) if r is not None]
    wins = sum(t["profit_abs"] > 0 for t in trades)
    return {
        "trades": len(trades),
        "win_rate": round(wins / len(trades), 4) if trades else None,
        "profit_usd": round(sum(t["profit_abs"] for t in trades), 2),
        "mean_profit_ratio": round(sum(t["profit_ratio"] for t in trades) / len(trades), 5)
        if trades else None,
        "expectancy_r": round(sum(multiples) / len(multiples), 4) if multiples else None,
        "funding_usd": round(sum(t.get("funding_fees", 0.0) for t in trades), 2),
    }


def _grouped(trades: Iterable[Trade], keys: Callable[[Trade], Iterable[str]],
             stop_ratio: float) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Trade]] = defaultdict(list)
    for trade in trades:
        for key in keys(trade):
            groups[key].append(trade)
    return {key: summarise(group, stop_ratio) for key, group in
            sorted(groups.items(), key=lambda item: -len(item[1]))}


def by_signal(trades: Iterable[Trade], stop_ratio: float) -> dict[str, dict[str, Any]]:
    """Every signal that voted for a trade gets the trade."""
    return _grouped(trades, lambda t: parse_tag(t.get("enter_tag")) or ("(untagged)",),
                    stop_ratio)


def by_tag(trades: Iterable[Trade], stop_ratio: float) -> dict[str, dict[str, Any]]:
    """Each exact combination of voters."""
    return _grouped(trades, lambda t: (t.get("enter_tag") or "(untagged)",), stop_ratio)


def by_exit(trades: Iterable[Trade], stop_ratio: float) -> dict[str, dict[str, Any]]:
    return _grouped(trades, lambda t: (t.get("exit_reason") or "(none)",), stop_ratio)
