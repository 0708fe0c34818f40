"""RiskEngine: the risk layer as one object the strategy shell calls (no mixin).

It owns the risk state (halts, daily anchor, peak equity, leverage steps), persisted in the
suite's state store, and answers for the risk rules:

- every loop (``on_loop``; every candle in backtests): the equity breakers - daily drawdown
  kill switch, max drawdown, exchange error rate - become halts, shown as freqtrade locks and
  announced; halts that ended release their locks; live, a removed halt lock comes back;
- entries: its gates and sizer (``entry_gates``) go into the entry pipeline; ``leverage``
  proposes a step that is committed only when the entry fills (``on_entry_filled``);
- trades: the initial and trailing stop, the exits (halt flattening, funding trap, time
  exit) and the take-profit rung, committed when its order fills;
- the operator's commands (kill switch, resume, state reset) and the status lines.

The same code runs in backtests and live; only the state store differs (in memory for
backtests). Start-up in trading modes checks the stored state (``state_integrity``): an
untrustworthy one starts HALTED.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from freqtrade.persistence import PairLocks, Trade

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.exchange_health import HEALTH
from centaur.interventions import InterventionBook, InterventionKind
from centaur.modes import is_trading
from centaur.settings.risk import RiskSettings
from centaur.state import StateCorrupt, StateStore
from centaur.trade_stats import consecutive_losses, drawdown_ratio, win_rate_payoff
from risk_protections import entry_gates as gates
from risk_protections import state_integrity as integrity
from risk_protections import trading_state as ts
from risk_protections.daily_drawdown import (
    daily_drawdown_decision,
    record_first_trade_risk,
    roll_day,
)
from risk_protections.dynamic_leverage import (
    LeverageInputs,
    LeverageState,
    rate_limited,
    rounded_down,
    target_leverage,
)
from risk_protections.exchange_error_rate import error_rate_decision
from risk_protections.funding_trap import bleeding_decision
from risk_protections.max_drawdown import max_drawdown_decision
from risk_protections.risk_inputs import Account, CandleRows, StopModel, finite
from risk_protections.stops import take_profit_due, time_exit_due
from risk_protections.trade_record import TradeRecord

logger = logging.getLogger(__name__)

_FOREVER = timedelta(days=3650)
STATE_NS, STATE_KEY = "risk", "state"
TAKE_PROFIT_DONE_KEY = "risk_take_profit_done"


@dataclass(frozen=True)
class RiskCollaborators:
    """What the engine reads from freqtrade, injected by the strategy shell."""

    config: dict[str, Any]
    store: StateStore
    events: EventSink
    interventions: InterventionBook
    rows: CandleRows
    account: Account
    order_book: Callable[[str, int], dict[str, Any]]
    candles_per_day: int


class RiskEngine:
    """Sizing, leverage, gates, breakers, stops; persisted; the last word on every entry."""

    def __init__(self, settings: RiskSettings, parts: RiskCollaborators):
        self.settings = settings
        self.parts = parts
        self.rows = parts.rows
        self.stops = StopModel(settings.stops)
        self.account = parts.account
        self.lock = threading.RLock()
        self._trading = is_trading(parts.config)
        self.state = ts.RiskState()
        self._pending_leverage: dict[str, LeverageState] = {}
        self.sizing = gates.SizingTally()  # risk basis and binding cap of every sizing

    # Hyperopt pickles the strategy (and so the engine) into worker processes: a lock does
    # not travel, each process makes its own.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()

    # --- start-up and state --------------------------------------------------------------

    def start(self, now: datetime) -> None:
        """Trading: the stored state, checked; backtests: a fresh in-memory state."""
        if not self._trading:
            self.state = ts.RiskState()
            return
        self.state = self._checked_start_state(now)
        if self.state.halts:
            logger.warning("Risk state restored with halts: %s",
                           [h.lock_reason for h in self.state.halts])

    def _checked_start_state(self, now: datetime) -> ts.RiskState:
        """The stored risk state, checked against the file's health and freqtrade's locks;
        an untrustworthy one starts HALTED (STATE_LOST / STATE_CORRUPT) - never ACTIVE."""
        store = self.parts.store
        raw, read_error = None, None
        try:
            raw = store.get(STATE_NS, STATE_KEY)
        except StateCorrupt as err:
            read_error = str(err)
        facts = integrity.StartFacts(
            path=store.path, health=store.health, moved_aside=store.moved_aside, raw=raw,
            read_error=read_error,
            freqtrade_has_history=bool(Trade.get_trades([]).first() or PairLocks.get_all_locks()),
            locks=tuple(self.suite_locks(now)))
        state, verdict = integrity.checked_start(facts, now)
        if verdict.allowed:
            store.backup()  # the last state checked good
            return state
        halt = ts.Halt(verdict.reason, now, None, verdict.detail, False)
        state, added = ts.with_halt(state, halt, now)
        if added:
            PairLocks.lock_pair("*", now + _FOREVER, halt.lock_reason, now=now)
        fix = integrity.fix_text(store.path, store.backup_path())
        self.parts.events.emit(OperatorEvent(now, Severity.CRITICAL, verdict.reason,
                                             f"{verdict.detail}. Trading is HALTED. {fix}"))
        self.state = state
        store.put(STATE_NS, STATE_KEY, ts.to_json(state))
        return state

    def restart_backtest_run(self) -> None:
        self.state = ts.RiskState()
        self._pending_leverage.clear()
        self.sizing.clear()
        self.parts.store.clear(STATE_NS)

    def _save(self, state: ts.RiskState) -> None:
        if state != self.state:
            self.state = state
            self.parts.store.put(STATE_NS, STATE_KEY, ts.to_json(state))

    # --- the pipeline's gates and sizer --------------------------------------------------

    def entry_gates(self, futures: bool) -> list[Any]:
        """The risk rules in order (halts first, the order book last)."""
        settings, rows = self.settings, self.rows
        found: list[Any] = [gates.HaltGate(lambda: self.state),
                            gates.InterventionGate(self.parts.interventions)]
        if futures:
            found.append(gates.FundingKnownGate(rows))
        found += [gates.PredictionGate(rows, settings.gates.prediction_bounds),
                  gates.EntryFundingGate(rows, self.stops, settings),
                  gates.CorrelationGate(rows, settings)]
        if self._trading:
            found.append(gates.BookGate(self.parts.order_book, settings))
        return found

    def sizer(self) -> gates.PositionSizer:
        """Kelly from the entry tag's realised trades; every decision counted (``sizing``)."""
        sizing = self.settings.sizing
        lookback = (timedelta(days=sizing.kelly_lookback_days)
                    if sizing.kelly_lookback_days is not None else None)
        return gates.PositionSizer(self.settings, self.rows, self.stops, self.account,
                                   self.parts.interventions, self.parts.candles_per_day,
                                   TradeRecord(self.settings.stops.hard_stop_ratio, lookback),
                                   on_sized=self.sizing)

    # --- every loop: breakers --------------------------------------------------------------

    def on_loop(self, now: datetime) -> None:
        with self.lock:
            self._evaluate_breakers(now)
            self._sync_intervention_locks(now)
            if self._trading:
                self._reassert_halt_locks(now)

    def _reassert_halt_locks(self, now: datetime) -> None:
        """A halt's lock removed outside the suite (FreqUI, DELETE /api/v1/locks) comes back,
        with a WARNING: the halt ends only by its time or the operator's /resume."""
        locked = {lock.source for lock in self.suite_locks(now)}
        for halt in self.state.active_halts(now):
            if halt.source in locked:
                continue
            PairLocks.lock_pair("*", halt.until or now + _FOREVER, halt.lock_reason, now=now)
            self.parts.events.emit(OperatorEvent(
                now, Severity.WARNING, ReasonCode.LOCK_REASSERTED,
                f"the lock of halt [{halt.source}] was removed outside the suite; re-asserted. "
                "Fix: /resume (Telegram) or POST /api/v1/centaur/resume ends the halt and its "
                "lock together" + (" - /state_reset for a state halt"
                                   if halt.source in ts.STATE_HALTS else "")))

    @staticmethod
    def suite_locks(now: datetime) -> list[integrity.SuiteLock]:
        found = (integrity.suite_lock(lk.reason, _aware(lk.lock_time), _aware(lk.lock_end_time))
                 for lk in PairLocks.get_pair_locks("*", now))
        return [lock for lock in found if lock is not None]

    def _unlock(self, sources: set[ReasonCode], now: datetime) -> None:
        """Release freqtrade's locks of these halts, whatever their exact text."""
        for lock in self.suite_locks(now):
            if lock.source in sources:
                PairLocks.unlock_reason(lock.reason, now=now)

    def active_halt_reasons(self, now: datetime) -> list[str]:
        return [h.lock_reason for h in self.state.active_halts(now)]

    def active_halt_codes(self, now: datetime) -> list[str]:
        return [str(h.source) for h in self.state.active_halts(now)]

    def _evaluate_breakers(self, now: datetime) -> None:
        settings = self.settings.breakers
        equity = self.account.equity_usd(now)
        state = ts.expired_removed(self.state, now)
        ended = {h.source for h in self.state.halts if h not in state.halts}
        if ended and self._trading:
            # freqtrade ends a lock at the candle after the halt's end: the halt is the truth
            self._unlock(ended, now)
        day = roll_day(state.day, now, equity)
        peak = max(state.peak_equity_usd or equity, equity)
        state = replace(state, day=day, peak_equity_usd=peak)
        daily = daily_drawdown_decision(day, equity, now, settings)
        if daily.reason is ReasonCode.DAILY_DRAWDOWN_WARNING and not day.warned:
            self.parts.events.emit(OperatorEvent(now, Severity.WARNING, daily.reason,
                                                 daily.detail))
            state = replace(state, day=replace(day, warned=True))
        checks = [
            (daily, True, Severity.CRITICAL),
            (max_drawdown_decision(peak, equity, settings.max_drawdown_ratio), False,
             Severity.CRITICAL),
            (error_rate_decision(HEALTH.error_times(), now, settings.error_max_count,
                                 timedelta(seconds=settings.error_window_secs)), False,
             Severity.WARNING),
        ]
        for decision, flatten, severity in checks:
            if not decision.allowed:
                state = self._halt(state, now, decision, flatten, severity)
        self._save(state)

    def _halt(self, state: ts.RiskState, now: datetime, decision: Decision, flatten: bool,
              severity: Severity) -> ts.RiskState:
        halt = ts.Halt(decision.reason, now, decision.until, decision.detail, flatten)
        state, added = ts.with_halt(state, halt, now)
        if added:
            PairLocks.lock_pair("*", decision.until or now + _FOREVER, halt.lock_reason, now=now)
            self.parts.events.emit(OperatorEvent(now, severity, decision.reason,
                                                 decision.detail + (" - flattening positions"
                                                                    if flatten else "")))
        return state

    def _sync_intervention_locks(self, now: datetime) -> None:
        for intervention in self.parts.interventions.active(now):
            if intervention.pair is None:
                continue
            if intervention.kind is InterventionKind.DISABLE_ASSET:
                PairLocks.lock_pair(intervention.pair, intervention.expires_at,
                                    f"[{ReasonCode.ASSET_DISABLED}] {intervention.reason}", now=now)
            elif intervention.kind is InterventionKind.DISABLE_SHORTS:
                PairLocks.lock_pair(intervention.pair, intervention.expires_at,
                                    f"[{ReasonCode.SHORTS_DISABLED}] {intervention.reason}",
                                    now=now, side="short")

    # --- operator commands (Telegram /killswitch, /resume and REST) -------------------------

    def kill_switch(self, now: datetime, by: str) -> ts.Halt:
        """Halt with flattening until the operator resumes; the caller cancels orders."""
        with self.lock:
            decision = Decision(False, ReasonCode.KILL_SWITCH, f"operator kill switch ({by})")
            self._save(self._halt(self.state, now, decision, True, Severity.CRITICAL))
            return next(h for h in self.state.active_halts(now)
                        if h.source is ReasonCode.KILL_SWITCH)

    def resume(self, now: datetime, by: str, include_timed: bool = False) -> list[ts.Halt]:
        with self.lock:
            state, cleared = ts.resumed(self.state, include_timed)
            if cleared:
                state = replace(state, peak_equity_usd=self.account.equity_usd(now))
            self._unlock({h.source for h in cleared}, now)
            self._save(state)
        if cleared:
            self.parts.events.emit(OperatorEvent(now, Severity.WARNING,
                                                 ReasonCode.OPERATOR_RESUME,
                                                 f"{by} resumed trading; cleared "
                                                 f"{', '.join(str(h.source) for h in cleared)}"))
        return cleared

    def halt_entries(self, now: datetime, decision: Decision) -> bool:
        """Halt entries under ``decision.reason`` (open positions stay: no flattening) until
        ``decision.until`` or ``clear_halt``; the caller announces it. True: a new halt."""
        with self.lock:
            halt = ts.Halt(decision.reason, now, decision.until, decision.detail, False)
            state, added = ts.with_halt(self.state, halt, now)
            if added:
                PairLocks.lock_pair("*", decision.until or now + _FOREVER, halt.lock_reason,
                                    now=now)
            self._save(state)
            return added

    def clear_halt(self, now: datetime, code: ReasonCode, by: str) -> list[ts.Halt]:
        """End the halts of ``code`` and their locks (``by``: who ended them, for the log);
        the caller announces it. Returns what was cleared."""
        with self.lock:
            cleared = [h for h in self.state.halts if h.source is code]
            if cleared:
                self._unlock({code}, now)
                self._save(replace(self.state, halts=tuple(
                    h for h in self.state.halts if h.source is not code)))
                logger.info("[%s] halt cleared by %s", code, by)
            return cleared

    def state_reset(self, now: datetime, by: str) -> list[ts.Halt]:
        """The operator's explicit fresh start after STATE_LOST / STATE_CORRUPT: the state
        halts end (with their locks); the other halts stay until /resume or their time."""
        with self.lock:
            cleared = [h for h in self.state.halts if h.source in ts.STATE_HALTS]
            state = replace(self.state, halts=tuple(
                h for h in self.state.halts if h not in cleared))
            self._unlock(set(ts.STATE_HALTS), now)
            self._save(state)
            backup = self.parts.store.backup()
        self.parts.events.emit(OperatorEvent(
            now, Severity.WARNING, ReasonCode.STATE_RESET,
            f"{by} started a fresh risk state"
            + (f" (cleared {', '.join(str(h.source) for h in cleared)})" if cleared else "")
            + (f"; still halted by {', '.join(str(h.source) for h in state.halts)}"
               if state.halts else "") + (f"; backup {backup}" if backup else "")))
        return cleared

    def trading_state(self, now: datetime) -> ts.TradingState:
        breakers = self.settings.breakers
        losses = consecutive_losses(self.account.closed_profits(breakers.pause_after_losses + 1))
        return ts.trading_state(self.state, now, losses >= breakers.reduce_after_losses)

    # --- leverage: proposed at the callback, committed on fill ------------------------------

    def leverage(self, pair: str, now: datetime, max_leverage: float) -> float:
        """The rate-limited target leverage for an entry now. The step is remembered as
        pending and becomes the pair's state only when the entry fills."""
        with self.lock:
            settings = self.settings.leverage
            row = self.rows.row(pair, now)
            win_rate, payoff = win_rate_payoff(self.account.closed_profits(
                settings.perf_window_trades), minimum=settings.perf_window_trades // 2)
            inputs = LeverageInputs(
                normal_vol_ratio=finite(row, "risk_vol_normal") or 0.0,
                current_vol_ratio=finite(row, "risk_vol_daily") or 0.0,
                drawdown_ratio=drawdown_ratio(self.state.peak_equity_usd or 0.0,
                                              self.account.equity_usd(now)),
                win_rate=win_rate, payoff_ratio=payoff, exchange_max=max_leverage,
                intervention_ceiling=self.parts.interventions.leverage_ceiling(pair, now))
            step = rate_limited(target_leverage(inputs, settings), self.state.leverage.get(pair),
                                now, settings)
            step = replace(step, value=rounded_down(step.value))  # what the trade will carry
            self._pending_leverage[pair] = step
            return step.value

    # --- fills -----------------------------------------------------------------------------

    def on_entry_filled(self, pair: str, trade: Trade, now: datetime) -> None:
        """The entry is true now: commit its leverage step and (first trade of the day) the
        day's R."""
        with self.lock:
            state = self.state
            step = self._pending_leverage.pop(pair, None)
            if step is not None:
                state = replace(state, leverage={**state.leverage, pair: step})
            day = state.day
            if day is not None and day.first_trade_risk_usd is None:
                distance = self.stops.stop_distance(self.rows.row(pair, now),
                                                    float(trade.open_rate), trade.is_short)
                risk_usd = float(trade.stake_amount) * float(trade.leverage) * distance
                state = replace(state, day=record_first_trade_risk(day, risk_usd))
            self._save(state)

    @staticmethod
    def on_exit_filled(trade: Trade, order: Any) -> None:
        """The take-profit rung is taken when its order fills (not when it is asked for)."""
        if getattr(order, "ft_order_tag", None) == str(ReasonCode.TAKE_PROFIT):
            trade.set_custom_data(TAKE_PROFIT_DONE_KEY, True)

    # --- trades: stops and exits -----------------------------------------------------------

    def stop_price(self, pair: str, trade: Trade, now: datetime) -> float:
        extreme = float((trade.min_rate if trade.is_short else trade.max_rate) or trade.open_rate)
        return self.stops.trade_stop_price(self.rows.row(pair, now), float(trade.open_rate),
                                           trade.is_short, extreme)

    def exit_reason(self, pair: str, trade: Trade, now: datetime, current_profit: float
                    ) -> str | None:
        """The exit the risk rules call for, as its reason code; None: stay in."""
        flatten = self.state.flatten(now)
        if flatten is not None:
            return str(flatten.source)  # the exit carries the halt's code
        settings = self.settings
        hours = (now - trade.open_date_utc).total_seconds() / 3600
        stake = float(trade.stake_amount) or 1.0
        funding_paid = max(-float(trade.funding_fees or 0.0), 0.0) / stake
        bleeding = bleeding_decision(hours, funding_paid, current_profit + funding_paid,
                                     settings.funding)
        if not bleeding.allowed:
            logger.info("[%s] %s: %s", bleeding.reason, pair, bleeding.detail)
            return str(ReasonCode.FUNDING_TRAP)
        if time_exit_due(trade.open_date_utc, now, current_profit,
                         settings.stops.time_exit_minutes):
            return str(ReasonCode.TIME_EXIT)
        return None

    def take_profit(self, trade: Trade, current_rate: float) -> tuple[float, str] | None:
        """The take-profit rung as freqtrade's partial exit (negative stake, tag)."""
        stops = self.settings.stops
        move = (current_rate / float(trade.open_rate) - 1.0) * (-1 if trade.is_short else 1)
        if take_profit_due(move, bool(trade.get_custom_data(TAKE_PROFIT_DONE_KEY, False)),
                           stops.take_profit_ratio) and not trade.has_open_orders:
            return -float(trade.stake_amount) * stops.take_profit_fraction, str(
                ReasonCode.TAKE_PROFIT)
        return None

    # --- status ----------------------------------------------------------------------------

    def status(self, now: datetime) -> dict[str, Any]:
        state = self.state
        return {
            "trading_state": str(self.trading_state(now)),
            "halts": [h.lock_reason + f" since {h.since:%Y-%m-%d %H:%M}" for h in
                      state.active_halts(now)],
            "halt_codes": self.active_halt_codes(now),
            "equity_usd": round(self.account.equity_usd(now), 2),
            "peak_equity_usd": round(state.peak_equity_usd or 0.0, 2),
            "day_start_equity_usd": round(state.day.start_equity_usd, 2) if state.day else None,
            "leverage": {pair: s.value for pair, s in sorted(state.leverage.items())},
            "state_file": self.parts.store.path,
            "interventions": [f"{i.kind} {i.pair or '*'} {i.value} until {i.expires_at:%H:%M}"
                              for i in self.parts.interventions.active(now)],
            "sizing": self.sizing.as_dict(),
        }


def _aware(moment: datetime) -> datetime:
    """freqtrade's database keeps lock times naive (UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
