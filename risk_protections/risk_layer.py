"""RiskLayer: the strategy-side shell of the risk rules (freqtrade callbacks -> pure rules).

The risk layer has the last word. It sizes every entry (``custom_stake_amount``), sets its
leverage (``leverage``), may deny it (``confirm_trade_entry``), stops and exits it
(``custom_stoploss``, ``custom_exit``, ``adjust_trade_position``), and every loop
(``bot_loop_start``: every candle in backtests) evaluates the equity-based breakers - daily
drawdown kill switch, max drawdown, exchange error rate - turning a breach into a halt that is
persisted, shown as a freqtrade lock and announced to the operator. The same code runs in
backtests and live; only the state store differs (in memory for backtests).

Mix it in before the strategy: ``class S(RiskLayer, CentaurStrategy)``; every callback chains
``super()``. With ``centaur.risk.enabled`` false the callbacks fall through to the strategy.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.enums import RunMode, TradingMode
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import PairLocks, Trade
from freqtrade.strategy import stoploss_from_absolute

from centaur.decision import Decision, ReasonCode
from centaur.events import OperatorEvent, Severity
from centaur.interventions import InterventionKind
from centaur.state import StateCorrupt
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.risk import RiskSettings
from risk_protections import state_integrity as integrity
from risk_protections import trading_state as ts
from risk_protections.correlation_gate import correlation_decision
from risk_protections.daily_drawdown import (
    daily_drawdown_decision,
    record_first_trade_risk,
    roll_day,
)
from risk_protections.dynamic_leverage import LeverageInputs, rate_limited, target_leverage
from risk_protections.exchange_error_rate import error_rate_decision
from risk_protections.exchange_health import HEALTH
from risk_protections.exposure_caps import OpenExposure, cap_stake
from risk_protections.funding_trap import bleeding_decision, entry_funding_decision
from risk_protections.loss_streak import consecutive_losses, loss_streak_scale
from risk_protections.max_drawdown import drawdown_ratio, max_drawdown_decision
from risk_protections.position_sizing import SizingInputs, size_position
from risk_protections.risk_columns import RiskRows, add_risk_columns
from risk_protections.sanity_gates import (
    book_depth_decision,
    prediction_decision,
    spread_decision,
)
from risk_protections.stops import (
    chandelier_stop_price,
    hard_stop_price,
    take_profit_due,
    tighter_stop,
    time_exit_due,
)
from strategies.centaur_strategy import CentaurStrategy
from strategies.market_data import funding_informative, with_funding_rate


logger = logging.getLogger(__name__)

_FOREVER = timedelta(days=3650)
_STATE_NS, _STATE_KEY = "risk", "state"
_TP_KEY = "risk_take_profit_done"
_LIVE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)


class RiskLayer(CentaurStrategy):
    """Sizing, leverage, gates, breakers, stops; persisted; the last word on every entry."""

    use_custom_stoploss = True
    position_adjustment_enable = True
    use_exit_signal = True  # freqtrade calls custom_exit (flatten, time, funding) only then

    @property
    def protections(self) -> list[dict[str, Any]]:
        """The rules that are freqtrade protections (LossStreakGuard: the pause)."""
        risk = settings_from(self.config).risk
        if not risk.enabled:
            return []
        return [{"method": "LossStreakGuard",
                 "max_consecutive_losses": risk.breakers.pause_after_losses,
                 "lookback_period": 7 * 24 * 60,
                 "stop_duration": risk.breakers.pause_minutes}]

    # Hyperopt pickles the strategy into worker processes; a lock does not travel.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_risk_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._risk_lock = threading.RLock()

    # --- start-up and state ----------------------------------------------------------------

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        if self._risk_settings.enabled and not self.use_exit_signal:
            raise CentaurConfigError(
                "use_exit_signal is false, but the risk layer flattens positions and exits "
                "them (kill switches, time exit, funding trap) through custom_exit, which "
                "freqtrade calls only when use_exit_signal is true. Fix: remove "
                "use_exit_signal=false from the config or strategy.")
        self._risk_lock = threading.RLock()
        self._risk_denials: Counter[str] = Counter()
        self._last_denials: dict[str, Decision] = {}
        self._risk_rows: dict[str, RiskRows] = {}
        if self.config.get("runmode") not in _LIVE_MODES:
            self._risk_state = ts.RiskState()  # backtests: a fresh in-memory store per run
            return
        self._risk_state = self._checked_start_state(datetime.now(UTC))
        if self._risk_settings.enabled and self._risk_state.halts:
            logger.warning("Risk state restored with halts: %s",
                           [h.lock_reason for h in self._risk_state.halts])

    def _checked_start_state(self, now: datetime) -> ts.RiskState:
        """The stored risk state, checked against the file's health and freqtrade's locks;
        an untrustworthy one starts HALTED (STATE_LOST / STATE_CORRUPT) - never ACTIVE."""
        store = self.centaur_state
        raw, read_error = None, None
        try:
            raw = store.get(_STATE_NS, _STATE_KEY)
        except StateCorrupt as err:
            read_error = str(err)
        facts = integrity.StartFacts(
            path=store.path, health=store.health, moved_aside=store.moved_aside, raw=raw,
            read_error=read_error,
            freqtrade_has_history=bool(Trade.get_trades([]).first() or PairLocks.get_all_locks()),
            locks=tuple(self._suite_locks(now)))
        state, verdict = integrity.checked_start(facts, now)
        if verdict.allowed:
            store.backup()  # the last state checked good
            return state
        halt = ts.Halt(verdict.reason, now, None, verdict.detail, False)
        state, added = ts.with_halt(state, halt, now)
        if added:
            PairLocks.lock_pair("*", now + _FOREVER, halt.lock_reason, now=now)
        self.events.emit(OperatorEvent(now, Severity.CRITICAL, verdict.reason,
                                       f"{verdict.detail}. Trading is HALTED. "
                                       f"{integrity.fix_text(store.path, store.backup_path())}"))
        self._risk_state = state
        store.put(_STATE_NS, _STATE_KEY, ts.to_json(state))
        return state

    @property
    def _risk_settings(self) -> RiskSettings:
        return self.centaur.risk

    def restart_backtest_run(self) -> None:
        super().restart_backtest_run()
        self._risk_state = ts.RiskState()
        self.centaur_state.clear(_STATE_NS)
        self._risk_denials.clear()

    def _save_risk_state(self, state: ts.RiskState) -> None:
        if state != self._risk_state:
            self._risk_state = state
            self.centaur_state.put(_STATE_NS, _STATE_KEY, ts.to_json(state))

    def _deny(self, pair: str, decision: Decision) -> None:
        """Count and log a denial (DEBUG in backtests, where they number in thousands and
        the counts reach the report; INFO when trading); the last one per pair is kept for
        the operator who forced the entry."""
        self._risk_denials[str(decision.reason)] += 1
        self._last_denials[pair] = decision
        level = logging.INFO if self.config.get("runmode") in _LIVE_MODES else logging.DEBUG
        logger.log(level, "[%s] %s: entry denied - %s", decision.reason, pair, decision.detail)

    # --- indicators the rules read ---------------------------------------------------------

    def informative_pairs(self):
        pairs = list(super().informative_pairs())
        if self.config.get("trading_mode") == TradingMode.FUTURES:
            pairs += [funding_informative(p) for p in self.dp.current_whitelist()
                      if funding_informative(p) not in pairs]
        return pairs

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)
        if self.config.get("trading_mode") == TradingMode.FUTURES and \
                "funding_rate" not in dataframe:
            dataframe = with_funding_rate(dataframe, self.dp, metadata["pair"], self.timeframe)
        dataframe = add_risk_columns(dataframe, self._risk_settings, self._candles_per_day())
        self._risk_rows[metadata["pair"]] = RiskRows.from_dataframe(dataframe)
        return dataframe

    def _candles_per_day(self) -> int:
        return 86_400 // timeframe_to_seconds(self.timeframe)

    def _last_row(self, pair: str, now: datetime) -> dict[str, float] | None:
        """The last candle closed at ``now`` - the same candle live and in backtests."""
        rows = self._risk_rows.get(pair)
        return rows.at(now - timedelta(seconds=timeframe_to_seconds(self.timeframe))) \
            if rows else None

    # --- equity ----------------------------------------------------------------------------

    def _equity_usd(self, now: datetime) -> float:
        total = self.wallets.get_total(self.config["stake_currency"]) if self.wallets else 0.0
        exchange = getattr(self.dp, "_exchange", None)
        live = self.config.get("runmode") == RunMode.LIVE
        if live and exchange is not None and exchange.get_option(
                "balance_includes_unrealized_pnl", False):
            return total
        unrealized = 0.0
        for trade in Trade.get_trades_proxy(is_open=True):
            row = self._last_row(trade.pair, now)
            if row is not None and trade.amount:
                unrealized += trade.calc_profit(row["close"])
        return total + unrealized

    def _closed_profits(self, limit: int) -> list[float]:
        """Net profit ratios of the last ``limit`` closed trades, oldest first."""
        closed = Trade.get_trades_proxy(is_open=False)
        if self.config.get("runmode") in _LIVE_MODES:  # backtests keep close order already
            closed = sorted(closed, key=lambda t: t.close_date_utc)
        return [float(t.close_profit or 0.0) for t in closed[-limit:]]

    # --- every loop: breakers --------------------------------------------------------------

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        super().bot_loop_start(current_time=current_time, **kwargs)
        if not self._risk_settings.enabled:
            return
        with self._risk_lock:
            self._evaluate_breakers(current_time)
            self._sync_intervention_locks(current_time)
            if self.config.get("runmode") in _LIVE_MODES:
                self._reassert_halt_locks(current_time)

    def _reassert_halt_locks(self, now: datetime) -> None:
        """A halt's lock removed outside the suite (FreqUI, DELETE /api/v1/locks) comes back,
        with a WARNING: the halt ends only by its time or the operator's /resume."""
        locked = {lock.source for lock in self._suite_locks(now)}
        for halt in self._risk_state.active_halts(now):
            if halt.source in locked:
                continue
            PairLocks.lock_pair("*", halt.until or now + _FOREVER, halt.lock_reason, now=now)
            self.events.emit(OperatorEvent(
                now, Severity.WARNING, ReasonCode.LOCK_REASSERTED,
                f"the lock of halt [{halt.source}] was removed outside the suite; re-asserted. "
                "Fix: /resume (Telegram) or POST /api/v1/centaur/resume ends the halt and its "
                "lock together" + (" - /state_reset for a state halt"
                                   if halt.source in ts.STATE_HALTS else "")))

    @staticmethod
    def _suite_locks(now: datetime) -> list[integrity.SuiteLock]:
        found = (integrity.suite_lock(lk.reason, _aware(lk.lock_time), _aware(lk.lock_end_time))
                 for lk in PairLocks.get_pair_locks("*", now))
        return [lock for lock in found if lock is not None]

    def _unlock(self, sources: set[ReasonCode], now: datetime) -> None:
        """Release freqtrade's locks of these halts, whatever their exact text."""
        for lock in self._suite_locks(now):
            if lock.source in sources:
                PairLocks.unlock_reason(lock.reason, now=now)

    def last_denial(self, pair: str) -> Decision | None:
        return self._last_denials.get(pair)

    def forget_denial(self, pair: str) -> None:
        self._last_denials.pop(pair, None)

    def active_halt_reasons(self, now: datetime) -> list[str]:
        return [h.lock_reason for h in self._risk_state.active_halts(now)]

    def _evaluate_breakers(self, now: datetime) -> None:
        settings = self._risk_settings.breakers
        equity = self._equity_usd(now)
        state = ts.expired_removed(self._risk_state, now)
        ended = {h.source for h in self._risk_state.halts if h not in state.halts}
        if ended and self.config.get("runmode") in _LIVE_MODES:
            # freqtrade ends a lock at the candle after the halt's end: the halt is the truth
            self._unlock(ended, now)
        day = roll_day(state.day, now, equity)
        peak = max(state.peak_equity_usd or equity, equity)
        state = replace(state, day=day, peak_equity_usd=peak)
        daily = daily_drawdown_decision(day, equity, now, settings)
        if daily.reason is ReasonCode.DAILY_DRAWDOWN_WARNING and not day.warned:
            self.events.emit(OperatorEvent(now, Severity.WARNING, daily.reason, daily.detail))
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
        self._save_risk_state(state)

    def _halt(self, state: ts.RiskState, now: datetime, decision: Decision, flatten: bool,
              severity: Severity) -> ts.RiskState:
        halt = ts.Halt(decision.reason, now, decision.until, decision.detail, flatten)
        state, added = ts.with_halt(state, halt, now)
        if added:
            PairLocks.lock_pair("*", decision.until or now + _FOREVER, halt.lock_reason, now=now)
            self.events.emit(OperatorEvent(now, severity, decision.reason,
                                           decision.detail + (" - flattening positions"
                                                              if flatten else "")))
        return state

    def _sync_intervention_locks(self, now: datetime) -> None:
        for intervention in self.interventions.active(now):
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
        with self._risk_lock:
            decision = Decision(False, ReasonCode.KILL_SWITCH, f"operator kill switch ({by})")
            self._save_risk_state(self._halt(self._risk_state, now, decision, True,
                                             Severity.CRITICAL))
            return next(h for h in self._risk_state.active_halts(now)
                        if h.source is ReasonCode.KILL_SWITCH)

    def resume(self, now: datetime, by: str, include_timed: bool = False) -> list[ts.Halt]:
        with self._risk_lock:
            state, cleared = ts.resumed(self._risk_state, include_timed)
            if cleared:
                state = replace(state, peak_equity_usd=self._equity_usd(now))
            self._unlock({h.source for h in cleared}, now)
            self._save_risk_state(state)
        if cleared:
            self.events.emit(OperatorEvent(now, Severity.WARNING, ReasonCode.OPERATOR_RESUME,
                                           f"{by} resumed trading; cleared "
                                           f"{', '.join(str(h.source) for h in cleared)}"))
        return cleared

    def state_reset(self, now: datetime, by: str) -> list[ts.Halt]:
        """The operator's explicit fresh start after STATE_LOST / STATE_CORRUPT: the state
        halts end (with their locks); the other halts stay until /resume or their time."""
        with self._risk_lock:
            cleared = [h for h in self._risk_state.halts if h.source in ts.STATE_HALTS]
            state = replace(self._risk_state, halts=tuple(
                h for h in self._risk_state.halts if h not in cleared))
            self._unlock(set(ts.STATE_HALTS), now)
            self._save_risk_state(state)
            backup = self.centaur_state.backup()
        self.events.emit(OperatorEvent(
            now, Severity.WARNING, ReasonCode.STATE_RESET,
            f"{by} started a fresh risk state"
            + (f" (cleared {', '.join(str(h.source) for h in cleared)})" if cleared else "")
            + (f"; still halted by {', '.join(str(h.source) for h in state.halts)}"
               if state.halts else "") + (f"; backup {backup}" if backup else "")))
        return cleared

    def trading_state(self, now: datetime) -> ts.TradingState:
        breakers = self._risk_settings.breakers
        losses = consecutive_losses(self._closed_profits(breakers.pause_after_losses + 1))
        return ts.trading_state(self._risk_state, now, losses >= breakers.reduce_after_losses)

    # --- entries: size, leverage, gates ----------------------------------------------------

    def _stop_distance(self, row: dict[str, float] | None, rate: float, is_short: bool
                       ) -> float:
        """Distance from ``rate`` to the initial stop: the tighter of the hard stop and the
        chandelier distance (k x ATR, regime-widened) measured from the entry."""
        stop = tighter_stop(is_short, hard_stop_price(rate, is_short,
                                                      self._risk_settings.stops.hard_stop_ratio),
                            self._chandelier(row, is_short, rate))
        return abs(rate - stop) / rate if rate > 0 else self._risk_settings.stops.hard_stop_ratio

    def _chandelier(self, row: dict[str, float] | None, is_short: bool,
                    extreme_since_entry: float) -> float | None:
        """The chandelier stop of a trade: the extreme of the last N candles, but never of
        candles before the entry (``extreme_since_entry``), minus (short: plus) k x ATR."""
        if row is None:
            return None
        stops = self._risk_settings.stops
        window = _float(row, "risk_lowest_low" if is_short else "risk_highest_high")
        atr = _float(row, "risk_atr")
        if window is None or atr is None:
            return None
        extreme = max(window, extreme_since_entry) if is_short else min(window,
                                                                        extreme_since_entry)
        regime = _float(row, "regime_stop_multiplier") or 1.0
        return chandelier_stop_price(extreme, atr, is_short, stops.chandelier_atr_multiplier,
                                     regime)

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs) -> float:
        proposed = super().custom_stake_amount(
            pair=pair, current_time=current_time, current_rate=current_rate,
            proposed_stake=proposed_stake, min_stake=min_stake, max_stake=max_stake,
            leverage=leverage, entry_tag=entry_tag, side=side, **kwargs)
        if not self._risk_settings.enabled:
            return proposed
        try:
            with self._risk_lock:
                return self._risk_stake(pair, current_time, current_rate, min_stake, max_stake,
                                        leverage, entry_tag, side)
        except Exception as err:  # freqtrade would size with the proposed stake: fail closed
            logger.exception("[%s] %s: sizing failed, no entry", ReasonCode.RISK_CHECK_FAILED,
                             pair)
            self._deny(pair, Decision(False, ReasonCode.RISK_CHECK_FAILED, repr(err)))
            return 0.0

    def _risk_stake(self, pair: str, now: datetime, rate: float, min_stake: float | None,
                    max_stake: float, leverage: float, entry_tag: str | None, side: str) -> float:
        settings = self._risk_settings
        if self._risk_state.active_halts(now):
            self._deny(pair, Decision(False, ReasonCode.TRADING_STATE_HALTED, "halted"))
            return 0.0
        row = self._last_row(pair, now)
        is_short = side == "short"
        equity = self._equity_usd(now)
        losses = consecutive_losses(self._closed_profits(settings.breakers.pause_after_losses + 1))
        streak = loss_streak_scale(losses, settings.breakers.reduce_after_losses,
                                   settings.breakers.reduce_size_factor)
        sized = size_position(SizingInputs(
            equity_usd=equity,
            stop_distance_ratio=self._stop_distance(row, rate, is_short),
            leverage=leverage,
            signal_stats=self.signal_stats(entry_tag),
            confidence=self.signal_confidence(pair, side, now, entry_tag),
            sigma_per_candle_ratio=_float(row, "risk_sigma"),
            candles_per_day=self._candles_per_day(),
            regime_position_scale=_float(row, "regime_position_scale") or 1.0,
            external_scale=self.external_size_scale(pair, side, now, entry_tag),
            state_scale=streak.scale * self.interventions.size_multiplier(pair, now),
        ), settings.sizing)
        if not sized.decision.allowed:
            self._deny(pair, sized.decision)
            return 0.0
        stake, capped = cap_stake(
            min(sized.stake_usd, max_stake), equity_usd=equity,
            available_usd=self.wallets.get_available_stake_amount() if self.wallets else max_stake,
            exchange=self.config["exchange"]["name"], open_positions=self._open_exposures(),
            min_stake_usd=min_stake or 0.0, settings=settings.caps)
        if not capped.allowed:
            self._deny(pair, capped)
            return 0.0
        logger.debug("%s sized %.2f USD (risk %.4f, factors %s, %s)", pair, stake,
                     sized.risk_ratio, sized.factors, capped.reason)
        return stake

    def _open_exposures(self) -> list[OpenExposure]:
        exchange = self.config["exchange"]["name"]
        return [OpenExposure(t.pair, float(t.stake_amount), exchange, t.is_short)
                for t in Trade.get_trades_proxy(is_open=True)]

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        if not self._risk_settings.enabled:
            return super().leverage(pair=pair, current_time=current_time,
                                    current_rate=current_rate, proposed_leverage=proposed_leverage,
                                    max_leverage=max_leverage, entry_tag=entry_tag, side=side,
                                    **kwargs)
        with self._risk_lock:
            settings = self._risk_settings.leverage
            row = self._last_row(pair, current_time)
            profits = self._closed_profits(settings.perf_window_trades)
            win_rate, payoff = _win_rate_payoff(profits, minimum=settings.perf_window_trades // 2)
            inputs = LeverageInputs(
                normal_vol_ratio=_float(row, "risk_vol_normal") or 0.0,
                current_vol_ratio=_float(row, "risk_vol_daily") or 0.0,
                drawdown_ratio=drawdown_ratio(self._risk_state.peak_equity_usd or 0.0,
                                              self._equity_usd(current_time)),
                win_rate=win_rate, payoff_ratio=payoff, exchange_max=max_leverage,
                intervention_ceiling=self.interventions.leverage_ceiling(pair, current_time))
            state = rate_limited(target_leverage(inputs, settings),
                                 self._risk_state.leverage.get(pair), current_time, settings)
            self._save_risk_state(replace(self._risk_state,
                                          leverage={**self._risk_state.leverage, pair: state}))
            return state.value

    def confirm_trade_entry(self, pair: str, order_type: str, amount: float, rate: float,
                            time_in_force: str, current_time: datetime, entry_tag: str | None,
                            side: str, **kwargs) -> bool:
        if self._risk_settings.enabled:
            try:
                with self._risk_lock:
                    decision = self._entry_gates(pair, amount, rate, current_time, entry_tag,
                                                 side)
            except Exception as err:  # freqtrade lets the trade through on an exception
                logger.exception("[%s] %s: entry gates failed", ReasonCode.RISK_CHECK_FAILED,
                                 pair)
                decision = Decision(False, ReasonCode.RISK_CHECK_FAILED, repr(err))
            if not decision.allowed:
                self._deny(pair, decision)
                return False
        return super().confirm_trade_entry(
            pair=pair, order_type=order_type, amount=amount, rate=rate,
            time_in_force=time_in_force, current_time=current_time, entry_tag=entry_tag,
            side=side, **kwargs)

    def _entry_gates(self, pair: str, amount: float, rate: float, now: datetime,
                     entry_tag: str | None, side: str) -> Decision:
        settings = self._risk_settings
        is_short = side == "short"
        if self._risk_state.active_halts(now):
            return Decision(False, ReasonCode.TRADING_STATE_HALTED,
                            ", ".join(h.lock_reason for h in self._risk_state.active_halts(now)))
        if self.interventions.asset_disabled_until(pair, now):
            return Decision(False, ReasonCode.ASSET_DISABLED, "disabled by an intervention")
        if is_short and self.interventions.shorts_disabled(pair, now):
            return Decision(False, ReasonCode.SHORTS_DISABLED, "shorts disabled by an intervention")
        threshold = self.interventions.conviction_threshold(pair, now)
        confidence = self.signal_confidence(pair, side, now, entry_tag)
        if threshold is not None and confidence < threshold:
            return Decision(False, ReasonCode.BELOW_CONVICTION,
                            f"confidence {confidence:.2f} < threshold {threshold:.2f}")
        row = self._last_row(pair, now)
        if self.config.get("trading_mode") == TradingMode.FUTURES and \
                _float(row, "funding_rate") is None:
            return Decision(False, ReasonCode.DATA_GAP,
                            "no settled funding rate known for this candle")
        values = {c: row[c] for c in settings.gates.prediction_bounds if row and c in row}
        for decision in (
            prediction_decision(values, settings.gates.prediction_bounds),
            entry_funding_decision(_float(row, "funding_rate"), is_short,
                                   self._stop_distance(row, rate, is_short),
                                   self.signal_stats(entry_tag),
                                   settings.sizing.min_signal_samples, settings.funding),
            self._correlation(pair, is_short, now, settings),
            self._book_gates(pair, amount * rate, side),
        ):
            if not decision.allowed:
                return decision
        return Decision.allow()

    def _correlation(self, pair: str, is_short: bool, now: datetime, settings: RiskSettings
                     ) -> Decision:
        window = settings.caps.correlation_window_candles
        candidate = self._returns(pair, window, now)
        open_returns = {(t.pair, t.is_short): self._returns(t.pair, window, now)
                        for t in Trade.get_trades_proxy(is_open=True) if t.pair != pair}
        return correlation_decision(candidate, is_short, open_returns,
                                    settings.caps.max_correlation)

    def _returns(self, pair: str, window: int, now: datetime) -> np.ndarray:
        rows = self._risk_rows.get(pair)
        if rows is None:
            return np.array([])
        step = timedelta(seconds=timeframe_to_seconds(self.timeframe))
        closes = rows.closes(now - step, window + 1)
        return np.diff(np.log(closes)) if len(closes) > 1 else np.array([])

    def _book_gates(self, pair: str, size_usd: float, side: str) -> Decision:
        """Spread and depth from the live order book (dry-run and live only)."""
        if self.config.get("runmode") not in _LIVE_MODES:
            return Decision.allow()
        gates = self._risk_settings.gates
        try:
            book = self.dp.orderbook(pair, 100)
        except Exception as err:  # no book, no entry
            return Decision(False, ReasonCode.BOOK_TOO_THIN, f"order book unavailable: {err}")
        bids, asks = book.get("bids") or [], book.get("asks") or []
        if not bids or not asks:
            return spread_decision(0.0, 0.0, gates.max_spread_bps)
        spread = spread_decision(bids[0][0], asks[0][0], gates.max_spread_bps)
        if not spread.allowed:
            return spread
        levels = [(float(p), float(q)) for p, q in (bids if side == "short" else asks)]
        return book_depth_decision(levels, size_usd, gates.min_book_depth_multiple)

    # --- after entry: R of the day ---------------------------------------------------------

    def order_filled(self, pair: str, trade: Trade, order, current_time: datetime,
                     **kwargs) -> None:
        super().order_filled(pair=pair, trade=trade, order=order, current_time=current_time,
                             **kwargs)
        if not self._risk_settings.enabled or order.ft_order_side != trade.entry_side:
            return
        with self._risk_lock:
            day = self._risk_state.day
            if day is None or day.first_trade_risk_usd is not None:
                return
            distance = self._stop_distance(self._last_row(pair, current_time),
                                           float(trade.open_rate), trade.is_short)
            risk_usd = float(trade.stake_amount) * float(trade.leverage) * distance
            self._save_risk_state(replace(self._risk_state,
                                          day=record_first_trade_risk(day, risk_usd)))

    # --- exits -----------------------------------------------------------------------------

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime,
                        current_rate: float, current_profit: float, after_fill: bool,
                        **kwargs) -> float | None:
        if not self._risk_settings.enabled:
            return super().custom_stoploss(pair=pair, trade=trade, current_time=current_time,
                                           current_rate=current_rate, current_profit=current_profit,
                                           after_fill=after_fill, **kwargs)
        stops = self._risk_settings.stops
        hard = hard_stop_price(float(trade.open_rate), trade.is_short, stops.hard_stop_ratio)
        extreme = float((trade.min_rate if trade.is_short else trade.max_rate) or trade.open_rate)
        stop = tighter_stop(trade.is_short, hard,
                            self._chandelier(self._last_row(pair, current_time), trade.is_short,
                                             extreme))
        return stoploss_from_absolute(stop, current_rate, is_short=trade.is_short,
                                      leverage=trade.leverage)

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | bool | None:
        exit_reason = super().custom_exit(pair=pair, trade=trade, current_time=current_time,
                                          current_rate=current_rate,
                                          current_profit=current_profit, **kwargs)
        if exit_reason or not self._risk_settings.enabled:
            return exit_reason
        flatten = self._risk_state.flatten(current_time)
        if flatten is not None:
            return str(flatten.source)  # the exit carries the halt's code
        settings = self._risk_settings
        hours = (current_time - trade.open_date_utc).total_seconds() / 3600
        stake = float(trade.stake_amount) or 1.0
        funding_paid = max(-float(trade.funding_fees or 0.0), 0.0) / stake
        bleeding = bleeding_decision(hours, funding_paid, current_profit + funding_paid,
                                     settings.funding)
        if not bleeding.allowed:
            logger.info("[%s] %s: %s", bleeding.reason, pair, bleeding.detail)
            return "risk_funding_trap"
        if time_exit_due(trade.open_date_utc, current_time, current_profit,
                         settings.stops.time_exit_minutes):
            return "risk_time_exit"
        return None

    def adjust_trade_position(self, trade: Trade, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              current_entry_rate: float, current_exit_rate: float,
                              current_entry_profit: float, current_exit_profit: float,
                              **kwargs):
        if not self._risk_settings.enabled:
            return super().adjust_trade_position(
                trade=trade, current_time=current_time, current_rate=current_rate,
                current_profit=current_profit, min_stake=min_stake, max_stake=max_stake,
                current_entry_rate=current_entry_rate, current_exit_rate=current_exit_rate,
                current_entry_profit=current_entry_profit,
                current_exit_profit=current_exit_profit, **kwargs)
        stops = self._risk_settings.stops
        move = (current_rate / float(trade.open_rate) - 1.0) * (-1 if trade.is_short else 1)
        if take_profit_due(move, bool(trade.get_custom_data(_TP_KEY, False)),
                           stops.take_profit_ratio) and not trade.has_open_orders:
            trade.set_custom_data(_TP_KEY, True)
            return -float(trade.stake_amount) * stops.take_profit_fraction, "risk_take_profit"
        return None

    # --- status ----------------------------------------------------------------------------

    def centaur_status(self) -> dict[str, Any]:
        status = super().centaur_status()
        if not hasattr(self, "_risk_state"):
            return status
        now = self._status_time()
        state = self._risk_state
        status.update({
            "trading_state": str(self.trading_state(now)),
            "halts": [h.lock_reason + f" since {h.since:%Y-%m-%d %H:%M}" for h in
                      state.active_halts(now)],
            "equity_usd": round(self._equity_usd(now), 2),
            "peak_equity_usd": round(state.peak_equity_usd or 0.0, 2),
            "day_start_equity_usd": round(state.day.start_equity_usd, 2) if state.day else None,
            "leverage": {pair: s.value for pair, s in sorted(state.leverage.items())},
            "denials": dict(self._risk_denials),
            "state_file": self.centaur_state.path,
            "events": [{k: e[k] for k in ("time", "severity", "code", "message")}
                       for e in self.events.recent(10)],
            "interventions": [f"{i.kind} {i.pair or '*'} {i.value} until {i.expires_at:%H:%M}"
                              for i in self.interventions.active(now)],
        })
        return status

    def _status_time(self) -> datetime:
        return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """freqtrade's database keeps lock times naive (UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _float(row: dict[str, float] | None, column: str) -> float | None:
    value = row.get(column) if row else None
    return value if value is not None and math.isfinite(value) else None


def _win_rate_payoff(profits: list[float], minimum: int) -> tuple[float | None, float | None]:
    if len(profits) < minimum:
        return None, None
    wins = [p for p in profits if p > 0]
    losses = [-p for p in profits if p < 0]
    if not wins or not losses:
        return (1.0, 10.0) if wins else (0.0, 0.0)
    return len(wins) / len(profits), float(np.mean(wins) / np.mean(losses))

