"""Daily drawdown kill switch: equity (open positions included) against the day's start.

The limit is in R - the initial risk of the day's first trade, default 3 R, with R at least
``daily_r_floor_ratio`` (0.25 %) of the day's starting equity - or a ratio of the day's
starting equity (default 5 %); whichever is tighter binds. A breach halts entries until
the next UTC day (or for 24 h) and flattens the strategy's positions; 80 % of the limit warns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from centaur.decision import Decision, ReasonCode
from centaur.settings.risk import BreakerSettings


@dataclass(frozen=True)
class DayAnchor:
    day: date
    start_equity_usd: float
    first_trade_risk_usd: float | None = None
    warned: bool = False
    breached: bool = False


def roll_day(anchor: DayAnchor | None, now: datetime, equity_usd: float) -> DayAnchor:
    """The anchor for ``now``'s UTC day: a new day starts from the equity seen at its start."""
    if anchor is None or anchor.day != now.date():
        return DayAnchor(day=now.date(), start_equity_usd=equity_usd)
    return anchor


def record_first_trade_risk(anchor: DayAnchor, risk_usd: float) -> DayAnchor:
    if anchor.first_trade_risk_usd is not None or risk_usd <= 0:
        return anchor
    return replace(anchor, first_trade_risk_usd=risk_usd)


def day_r_usd(anchor: DayAnchor, settings: BreakerSettings) -> float | None:
    """R of the day: the first trade's initial risk, floored; None before the first trade."""
    if not anchor.first_trade_risk_usd:
        return None
    return max(anchor.first_trade_risk_usd,
               settings.daily_r_floor_ratio * anchor.start_equity_usd)


def daily_limit_usd(anchor: DayAnchor, settings: BreakerSettings) -> float | None:
    limits = []
    if settings.daily_loss_limit_ratio is not None:
        limits.append(settings.daily_loss_limit_ratio * anchor.start_equity_usd)
    r_usd = day_r_usd(anchor, settings)
    if settings.daily_loss_limit_r is not None and r_usd:
        limits.append(settings.daily_loss_limit_r * r_usd)
    return min(limits) if limits else None


def lock_end(now: datetime, settings: BreakerSettings) -> datetime:
    if settings.daily_lock == "24h":
        return now + timedelta(hours=24)
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)


def daily_drawdown_decision(anchor: DayAnchor, equity_usd: float, now: datetime,
                            settings: BreakerSettings) -> Decision:
    """DAILY_DRAWDOWN (deny) on breach, DAILY_DRAWDOWN_WARNING (allow) from the warning level."""
    limit = daily_limit_usd(anchor, settings)
    loss = anchor.start_equity_usd - equity_usd
    if limit is None or loss <= 0:
        return Decision.allow()
    r_usd = day_r_usd(anchor, settings)
    detail = (f"day loss {loss:.2f} USD of limit {limit:.2f} USD "
              f"(start equity {anchor.start_equity_usd:.2f} USD"
              + (f", R {r_usd:.2f} USD)" if r_usd else ")"))
    if loss >= limit:
        return Decision(False, ReasonCode.DAILY_DRAWDOWN, detail, until=lock_end(now, settings))
    if loss >= settings.daily_warning_fraction * limit:
        return Decision(True, ReasonCode.DAILY_DRAWDOWN_WARNING, detail)
    return Decision.allow()
