"""The gauges of the metrics endpoint, read from the bot at scrape time.

Rule: every value is read when Prometheus scrapes - nothing is cached between scrapes - from
the suite's own views: ``centaur_status()`` (equity, trading state, signals, denials, veto
decisions), the persisted risk state (halts, the day's anchor and R, leverage steps),
freqtrade's trades (open PnL, closed trades per entry tag, funding), the last analysed candle
(close, funding rate), the router's fills log (slippage against the arrival mid per venue) and
the exchange failures the risk layer counts. Each source is a section: one that fails is
counted in ``centaur_metrics_errors_total{section}`` and left out of that scrape; the others
still answer. Money is in the stake currency (USDT, named ``_usd`` as in the risk layer).

The halt series fail closed, never by going quiet: ``centaur_risk_state_readable`` is 1 when
the persisted risk state was read, 0 when it could not be; then ``centaur_halt_active`` holds
only ``{reason="UNKNOWN"} 1``. ``centaur_trading_state`` has one series per state plus
``UNKNOWN``, which is 1 (the others 0) unless both the status view and the risk state were read.

The builders (``*_families``) are pure functions of what was read and ``now``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from centaur.decision import ReasonCode
from centaur.settings.risk import BreakerSettings
from centaur.trade_stats import drawdown_ratio
from risk_protections import trading_state as ts
from risk_protections.daily_drawdown import daily_limit_usd, day_r_usd

logger = logging.getLogger(__name__)

# The halts the risk layer raises: always exported (0 or 1), so a panel has a stable series.
HALT_SOURCES = (ReasonCode.DAILY_DRAWDOWN, ReasonCode.MAX_DRAWDOWN,
                ReasonCode.EXCHANGE_ERROR_RATE, ReasonCode.KILL_SWITCH, ReasonCode.STATE_LOST,
                ReasonCode.STATE_CORRUPT)
UNKNOWN = "UNKNOWN"  # the trading state / halt reason when the risk state cannot be read
SIGNAL_STATUSES = ("probation", "live", "retired")
SHARPE_DAYS = 30
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class TradeBook:
    """freqtrade's trades as read for one scrape."""

    open: Sequence[Any]
    closed: Sequence[Any]


def _gauge(name: str, doc: str, value: float | None) -> list[Metric]:
    if value is None or not math.isfinite(value):
        return []
    family = GaugeMetricFamily(name, doc)
    family.add_metric([], value)
    return [family]


def _labelled(kind: type, name: str, doc: str, label: str | Sequence[str],
              values: dict[Any, float]) -> Metric:
    labels = [label] if isinstance(label, str) else list(label)
    family = kind(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric([key] if isinstance(label, str) else list(key), float(value))
    return family


# --- centaur_status() ----------------------------------------------------------------------


def status_families(status: dict[str, Any]) -> list[Metric]:
    """Equity, signals, entry denials and veto decisions of the status view."""
    found: list[Metric] = []
    equity = status.get("equity_usd")
    peak = status.get("peak_equity_usd") or 0.0
    found += _gauge("centaur_equity_usd", "Equity, open positions included", equity)
    found += _gauge("centaur_peak_equity_usd", "Peak equity of the risk layer", peak or None)
    if equity is not None and peak:
        found += _gauge("centaur_drawdown_ratio", "Drawdown from the peak equity",
                        drawdown_ratio(peak, equity))
    signals = status.get("signals") or {}
    if signals:
        found.append(_labelled(GaugeMetricFamily, "centaur_signal_weight",
                               "Ensemble weight of each signal", "signal",
                               {n: s["weight"] for n, s in signals.items()}))
        found.append(_labelled(GaugeMetricFamily, "centaur_signal_excess_hit_ratio",
                               "Excess hit rate over a random-direction null", "signal",
                               {n: s["excess_hit_rate"] for n, s in signals.items()}))
        found.append(_labelled(GaugeMetricFamily, "centaur_signal_status",
                               "1 for each signal's tracker status", ("signal", "status"),
                               {(n, st): float(s["status"] == st) for n, s in signals.items()
                                for st in SIGNAL_STATUSES}))
    found.append(_labelled(CounterMetricFamily, "centaur_entry_denials",
                           "Entries denied by the pipeline, by reason code", "reason",
                           status.get("denials") or {}))
    veto = status.get("llm_veto")
    if veto is not None:
        found.append(_labelled(CounterMetricFamily, "centaur_veto_decisions",
                               "LLM veto decisions at entry confirmation, by reason code",
                               "reason", veto.get("decisions") or {}))
        found += _gauge("centaur_llm_in_flight", "LLM veto requests in flight",
                        veto.get("in_flight", 0))
    return found


# --- the trading state and the persisted risk state ----------------------------------------


def trading_state_families(state: str | None) -> list[Metric]:
    """1 for the risk layer's trading state; ``UNKNOWN`` when it is None (a view unread) or not
    a trading state."""
    known = {s.value for s in ts.TradingState}
    current = state if state in known else UNKNOWN
    return [_labelled(GaugeMetricFamily, "centaur_trading_state",
                      "1 for the trading state the risk layer is in (UNKNOWN: unreadable)",
                      "state", {s: float(s == current) for s in (*known, UNKNOWN)})]


def readable_families(readable: bool) -> list[Metric]:
    """Whether the risk state was read; when not, the unknown halt in its halts' place."""
    found = _gauge("centaur_risk_state_readable",
                   "1 when the persisted risk state was read, 0 when it could not be",
                   float(readable))
    if not readable:
        found.append(_labelled(GaugeMetricFamily, "centaur_halt_active", "1 while a halt of "
                               "this reason code is active", "reason", {UNKNOWN: 1.0}))
    return found


def risk_families(state: ts.RiskState, equity_usd: float | None, breakers: BreakerSettings,
                  now: datetime) -> list[Metric]:
    """Halts by reason code, leverage steps per pair, the daily drawdown in USD and in R."""
    active = {str(h.source) for h in state.active_halts(now)}
    found: list[Metric] = [
        _labelled(GaugeMetricFamily, "centaur_halt_active", "1 while a halt of this reason "
                  "code is active", "reason",
                  {code: float(code in active) for code in {*map(str, HALT_SOURCES), *active}}),
        _labelled(GaugeMetricFamily, "centaur_leverage_ratio",
                  "Leverage step of each pair (committed on the entry fill)", "pair",
                  {pair: step.value for pair, step in state.leverage.items()}),
    ]
    day = state.day
    if day is None or equity_usd is None:
        return found
    loss = day.start_equity_usd - equity_usd
    found += _gauge("centaur_day_start_equity_usd", "Equity at the start of the UTC day",
                    day.start_equity_usd)
    found += _gauge("centaur_daily_loss_usd", "Loss since the day's start (negative: gain)",
                    loss)
    if day.start_equity_usd > 0:
        found += _gauge("centaur_daily_return_ratio", "Return since the day's start",
                        equity_usd / day.start_equity_usd - 1.0)
    limit = daily_limit_usd(day, breakers)
    found += _gauge("centaur_daily_loss_limit_usd", "Daily loss kill-switch limit", limit)
    r_usd = day_r_usd(day, breakers)
    if r_usd:
        found += _gauge("centaur_daily_r_usd", "R of the day (first trade's initial risk)",
                        r_usd)
        found += _gauge("centaur_daily_drawdown_r", "Loss since the day's start, in R",
                        loss / r_usd)
        found += _gauge("centaur_daily_loss_limit_r", "Daily loss limit, in R",
                        None if limit is None else limit / r_usd)
    return found


# --- freqtrade's trades ------------------------------------------------------------------------


def daily_sharpe(closed: Iterable[Any], now: datetime, starting_balance_usd: float,
                 days: int = SHARPE_DAYS) -> float | None:
    """Annualised Sharpe of the realised daily returns (profit / starting balance) over the
    last ``days`` UTC days, today included; None without a spread of returns."""
    if starting_balance_usd <= 0:
        return None
    first = now.date() - timedelta(days=days - 1)
    pnl = dict.fromkeys((first + timedelta(days=i) for i in range(days)), 0.0)
    for trade in closed:
        day = trade.close_date_utc.date()
        if day in pnl:
            pnl[day] += float(trade.close_profit_abs or 0.0)
    returns = [v / starting_balance_usd for v in pnl.values()]
    mean = sum(returns) / days
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (days - 1))
    return mean / std * math.sqrt(DAYS_PER_YEAR) if std > 0 else None


def trade_families(book: TradeBook, close_of: Callable[[str], float | None], now: datetime,
                   starting_balance_usd: float) -> list[Metric]:
    """Open positions (PnL at the last close, notional, leverage), closed trades per entry
    tag, funding per pair, the realised 30-day Sharpe."""
    open_pnl: Tally[str] = Tally()
    notional: Tally[tuple[str, str]] = Tally()
    leverage: dict[str, float] = {}
    for trade in book.open:
        close = close_of(trade.pair)
        if close is not None and trade.amount:
            open_pnl[trade.pair] += float(trade.calc_profit(close))
        notional[(trade.pair, "short" if trade.is_short else "long")] += (
            float(trade.stake_amount) * float(trade.leverage or 1.0))
        leverage[trade.pair] = float(trade.leverage or 1.0)
    closed: Tally[str] = Tally()
    wins: Tally[str] = Tally()
    realised: Tally[str] = Tally()
    for trade in book.closed:
        tag = trade.enter_tag or "none"
        closed[tag] += 1
        wins[tag] += float(trade.close_profit_abs or 0.0) > 0
        realised[tag] += float(trade.close_profit_abs or 0.0)
    received: Tally[str] = Tally()
    paid: Tally[str] = Tally()
    for trade in (*book.open, *book.closed):
        fees = float(trade.funding_fees or 0.0)  # freqtrade: positive = received
        received[trade.pair] += max(fees, 0.0)
        paid[trade.pair] += max(-fees, 0.0)
    return [
        *_gauge("centaur_open_trades", "Open trades", len(book.open)),
        _labelled(GaugeMetricFamily, "centaur_open_pnl_usd",
                  "Unrealised PnL of open trades at the last analysed close", "pair", open_pnl),
        _labelled(GaugeMetricFamily, "centaur_position_notional_usd",
                  "Open notional (stake x leverage)", ("pair", "side"), notional),
        _labelled(GaugeMetricFamily, "centaur_position_leverage_ratio",
                  "Leverage of the open trade", "pair", leverage),
        _labelled(CounterMetricFamily, "centaur_closed_trades", "Closed trades per entry tag",
                  "enter_tag", closed),
        _labelled(CounterMetricFamily, "centaur_winning_trades",
                  "Closed trades with a positive profit, per entry tag", "enter_tag", wins),
        _labelled(GaugeMetricFamily, "centaur_realized_pnl_usd",
                  "Realised profit of closed trades per entry tag", "enter_tag", realised),
        _labelled(GaugeMetricFamily, "centaur_funding_received_usd",
                  "Funding received (trades whose net funding is positive)", "pair", received),
        _labelled(GaugeMetricFamily, "centaur_funding_paid_usd",
                  "Funding paid (trades whose net funding is negative)", "pair", paid),
        *_gauge("centaur_sharpe_30d_ratio", "Annualised Sharpe of realised daily returns, "
                "last 30 UTC days", daily_sharpe(book.closed, now, starting_balance_usd)),
    ]


def market_families(funding_rates: dict[str, float]) -> list[Metric]:
    return [_labelled(GaugeMetricFamily, "centaur_funding_rate_ratio",
                      "Funding rate of the last analysed candle", "pair", funding_rates)]


# --- the router's fills log and the exchange failures ------------------------------------------


def router_families(by_venue: Sequence[dict[str, Any]]) -> list[Metric]:
    """Fills per venue from ``FillsLog.summary("venue")``: counts, notional, fees, slippage
    against the parent's arrival mid (volume-weighted bps, and its cost in USD)."""
    rows = {r["venue"]: r for r in by_venue}
    return [
        _labelled(CounterMetricFamily, "centaur_router_fills", "Child fills per venue", "venue",
                  {v: r["fills"] for v, r in rows.items()}),
        _labelled(CounterMetricFamily, "centaur_router_filled_notional_usd",
                  "Filled notional per venue", "venue",
                  {v: r["notional_quote"] or 0.0 for v, r in rows.items()}),
        _labelled(CounterMetricFamily, "centaur_router_fees_usd", "Fees paid per venue",
                  "venue", {v: r["fees_quote"] or 0.0 for v, r in rows.items()}),
        _labelled(GaugeMetricFamily, "centaur_router_slippage_bps",
                  "Volume-weighted slippage against the arrival mid (positive: worse)",
                  "venue", {v: r["slippage_bps"] or 0.0 for v, r in rows.items()}),
        _labelled(GaugeMetricFamily, "centaur_router_slippage_cost_usd",
                  "Slippage against the arrival mid, in money (bps x notional / 1e4)", "venue",
                  {v: (r["slippage_bps"] or 0.0) * (r["notional_quote"] or 0.0) / 1e4
                   for v, r in rows.items()}),
    ]


def exchange_families(error_times: Iterable[datetime], now: datetime,
                      breakers: BreakerSettings) -> list[Metric]:
    """The failures the exchange-error-rate breaker counts, its window and limit."""
    window = timedelta(seconds=breakers.error_window_secs)
    recent = sum(1 for t in error_times if now - window < t <= now)
    return [*_gauge("centaur_exchange_errors_in_window",
                    "Failed exchange requests in the breaker's window", recent),
            *_gauge("centaur_exchange_error_window_seconds", "The breaker's window",
                    window.total_seconds()),
            *_gauge("centaur_exchange_error_limit", "Failures in the window that halt entries",
                    breakers.error_max_count)]


def venue_call_families(calls: dict[tuple[str, str], Any]) -> list[Metric]:
    """Venue API requests, failures and their summed duration per (venue, method): mean
    latency is rate(seconds) / rate(requests), error rate rate(failures) / rate(requests)."""
    families = []
    for name, doc, field_name in (
            ("centaur_venue_api_requests", "Exchange requests on the order path", "requests"),
            ("centaur_venue_api_failures", "Exchange requests that failed", "failures"),
            ("centaur_venue_api_seconds", "Summed duration of exchange requests", "seconds")):
        family = CounterMetricFamily(name, doc, labels=["venue", "method"])
        for (venue, method), stats in sorted(calls.items()):
            family.add_metric([venue, method], float(getattr(stats, field_name)))
        families.append(family)
    return families


# --- the collector -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """How the collector reads the bot: each a callable, asked at scrape time."""

    status: Callable[[], dict[str, Any]]
    risk_state: Callable[[], ts.RiskState]
    trades: Callable[[], AbstractContextManager[TradeBook]]  # the trades, while in scope
    last_rows: Callable[[], dict[str, dict[str, float]]]  # pair -> close, funding_rate
    starting_balance_usd: Callable[[], float]
    router_summary: Callable[[], Sequence[dict[str, Any]]] | None
    error_times: Callable[[], Iterable[datetime]]
    venue_calls: Callable[[], dict[tuple[str, str], Any]] = dict


class HostCollector(Collector):
    """The scrape-time gauges, section by section (see the module rules)."""

    def __init__(self, sources: Sources, breakers: BreakerSettings,
                 clock: Callable[[], datetime]):
        self._sources = sources
        self._breakers = breakers
        self._clock = clock
        self.errors: Tally[str] = Tally()

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        src = self._sources
        status = self._section("status", src.status) or {}
        equity = status.get("equity_usd")
        yield from status_families(status) if status else []
        state = self._section("risk", src.risk_state)
        yield from trading_state_families(status.get("trading_state") if state is not None
                                          else None)
        yield from readable_families(state is not None)
        if state is not None:
            yield from risk_families(state, equity, self._breakers, now)
        rows = self._section("candles", src.last_rows) or {}
        yield from market_families({p: r["funding_rate"] for p, r in rows.items()
                                    if math.isfinite(r.get("funding_rate", math.nan))})
        balance = self._section("wallets", src.starting_balance_usd) or 0.0
        yield from self._section("trades", lambda: self._trade_families(rows, now, balance)) \
            or []
        if src.router_summary is not None:
            summary = self._section("router", src.router_summary)
            if summary is not None:
                yield from router_families(summary)
        times = self._section("exchange", src.error_times)
        if times is not None:
            yield from exchange_families(times, now, self._breakers)
        calls = self._section("venue_calls", src.venue_calls)
        if calls is not None:
            yield from venue_call_families(calls)
        yield _labelled(CounterMetricFamily, "centaur_metrics_errors",
                        "Scrape sections that failed (left out of their scrape)", "section",
                        self.errors)

    def _trade_families(self, rows: dict[str, dict[str, float]], now: datetime,
                        balance: float) -> list[Metric]:
        with self._sources.trades() as book:
            return trade_families(book, lambda pair: rows.get(pair, {}).get("close"), now,
                                  balance)

    def _section(self, name: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except Exception:  # noqa: BLE001 - one source down must not blank the endpoint
            self.errors[name] += 1
            logger.exception("[%s] metrics: the %s section failed", ReasonCode.RISK_CHECK_FAILED,
                             name)
            return None
