"""PipelineStrategy: the thin freqtrade shell of the suite's trading strategies.

It builds the parts once at start-up and calls them from freqtrade's callbacks; it keeps no
per-candle state beyond the proposals, keyed by (pair, candle, side):

- ``EnsembleSignals`` (``uses_ensemble``): signals, tracker, vote, entries and exits;
- ``ModelColumns`` (``uses_models``): FreqAI's ranker, GARCH, regime, drift columns;
- ``RiskEngine``: the risk state, breakers, leverage, stops, exits, operator commands;
- the LLM runtime: the veto gate and the circuit breaker (``centaur.llm``);
- the ``EntryPipeline``: candle gates (drift), then the gates in order - halts, the risk
  rules, the LLM veto - and the position sizer. It is logged at start-up and shown in
  ``/api/v1/centaur/status``.

Data kinds follow ``trading_mode``: funding and the perp-spot basis are asked for only in
futures, where a backtest stops at start-up when a pair has no funding rows and candles
without a settled rate are one operator event per pair (``centaur.market_data``). In spot the
signals that need them abstain, said once at start-up, and the funding gates are left out.

Switches: ``centaur.risk.enabled`` (off: a fixed leverage and stop, freqtrade's stake),
``centaur.llm.mode``, ``freqai.enabled``. State becomes true on fill (``order_filled``): the
leverage step and the first trade's risk of the day on the entry fill, the take-profit rung
on its own fill.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from freqtrade.configuration import TimeRange
from freqtrade.enums import RunMode, TradingMode
from freqtrade.exceptions import FreqtradeException
from freqtrade.exchange import timeframe_to_prev_date, timeframe_to_seconds
from freqtrade.optimize.hyperopt_tools import HyperoptTools
from freqtrade.persistence import Trade
from freqtrade.strategy import stoploss_from_absolute

from centaur.decision import Decision
from centaur.market_data import (
    FundingGaps,
    check_funding_present,
    funding_informative,
    with_funding_rate,
)
from centaur.pipeline import (
    SIDES,
    Denials,
    EntryPipeline,
    EntryProposal,
    EntryRequest,
    Verdict,
)
from centaur.settings import CentaurConfigError, settings_from
from centaur.strategy_base import CentaurStrategy
from control_tower.parts import PARTS
from control_tower.tower import ControlTower
from freqai_models.drift_gate import DriftGate
from freqai_models.features_mixin import CentaurFeaturesMixin
from freqai_models.models_stage import ModelColumns, freqai_enabled
from llm_layer.circuit_breaker import BreakerStage, CircuitBreaker
from llm_layer.market_state import book_skew
from llm_layer.runtime import RuntimeHandle
from llm_layer.veto_gate import LlmVetoGate
from risk_protections import trading_state as ts
from risk_protections.engine import RiskCollaborators, RiskEngine
from risk_protections.risk_columns import RiskRows, add_risk_columns
from risk_protections.risk_inputs import Account, CandleRows
from sor_exchange.selection import check_exchange_class
from strategies.decision_trail import DecisionTrail, entry_trail, voter_weights
from strategies.ensemble_core import EnsembleSignals, enabled_signals
from strategies.news_columns import NewsColumns
from strategies.fixed_risk import (
    FIXED_LEVERAGE,
    FIXED_STOP_PRICE_RATIO,
    fixed_leverage,
    fixed_stoploss,
)
from strategies.signals import REGISTRY
from strategies.signals.base import DESIGN_TIMEFRAME_SECS
from strategies.signals.hourly import spot_informative

logger = logging.getLogger(__name__)

FLAT_REASON = ("no signal is enabled (centaur.ensemble.signals is an empty list), because none "
               "beat random directions out of sample after costs in `make report-evidence` "
               "(reports/evidence.md). Nothing is traded; list signals in "
               "centaur.ensemble.signals to trade them anyway.")


class PipelineStrategy(CentaurFeaturesMixin, CentaurStrategy):
    """Signals -> proposals -> gates -> sizer; the risk engine over every trade."""

    uses_ensemble = True
    uses_models = True
    fixed_leverage = FIXED_LEVERAGE  # with the risk layer off (``fixed_risk``)
    fixed_stop_price_ratio = FIXED_STOP_PRICE_RATIO

    use_custom_stoploss = True
    position_adjustment_enable = True
    use_exit_signal = True  # freqtrade calls custom_exit (flatten, time, funding) only then

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        # The class's start-up candles are 5m candles (the design timeframe): the same time
        # span at the config's timeframe, and at least what the tracker's window reads.
        timeframe = config.get("timeframe") or self.timeframe  # the config's wins later
        step_secs = timeframe_to_seconds(timeframe)
        startup = -(-self.startup_candle_count * DESIGN_TIMEFRAME_SECS // step_secs)
        if self.uses_ensemble:
            startup = max(startup, tracker_history_candles(config, timeframe))
        self.startup_candle_count = startup

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

    # --- start-up ------------------------------------------------------------------------------

    def check_host(self) -> None:
        check_exchange_class(self.config, getattr(self.dp, "_exchange", None) if self.dp else None)

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        self._check_setup()
        now = datetime.now(UTC)
        step = timedelta(seconds=timeframe_to_seconds(self.timeframe))
        self._step = step
        self.signals = EnsembleSignals(self.centaur.ensemble, self, self.events,
                                       self.timeframe, self.trading) \
            if self.uses_ensemble else None
        self.models = ModelColumns(self.centaur.models, self.timeframe,
                                   freqai_enabled(self.config), self.events, self.trading) \
            if self.uses_models else None
        self.candle_rows = CandleRows(step)
        self.news = NewsColumns.from_config(self.config, self.centaur.llm)
        self.risk = RiskEngine(self.centaur.risk, RiskCollaborators(
            config=self.config, store=self.centaur_state, events=self.events,
            interventions=self.interventions, rows=self.candle_rows,
            account=self._account(),
            order_book=lambda pair, depth: self.dp.orderbook(pair, depth),
            candles_per_day=int(timedelta(days=1) / step)))
        self.risk.start(now)
        self.llm = RuntimeHandle(self.config, self.centaur.llm)
        runtime = self.llm.get()  # bad LLM settings fail at start-up
        self.veto = self._veto_gate(runtime)
        self.breaker = self._breaker_stage(runtime)
        self.denials = Denials(self.trading)
        self.tower = ControlTower(self, PARTS)
        self.trail = DecisionTrail()
        self.pipeline = self._build_pipeline()
        self._proposals: dict[tuple[str, datetime, str], EntryProposal] = {}
        logger.info("%s %s", type(self).__name__, self.pipeline.summary())
        self.funding_gaps = FundingGaps(self.events, latest_only=self.trading) \
            if self.futures else None
        self._check_data_kinds()
        if self.signals is not None and not self.signals.signal_names:
            logger.warning("%s stays flat: %s", type(self).__name__, FLAT_REASON)

    def _account(self) -> Account:
        """Equity and exposure for the risk layer (the carry strategy adds its spot legs)."""
        return Account(self.config, lambda: self.wallets,
                       lambda: getattr(self.dp, "_exchange", None), self.candle_rows)

    def whitelist(self) -> list[str]:
        """The pairs traded: the pairlist's, or the config's where freqtrade runs without a
        pairlist provider (``freqtrade webserver``: FreqUI's chart and backtest views)."""
        if getattr(self.dp, "_pairlists", None) is None:
            return list(self.config.get("exchange", {}).get("pair_whitelist", []))
        return self.dp.current_whitelist()

    @property
    def futures(self) -> bool:
        return self.config.get("trading_mode") == TradingMode.FUTURES

    def _check_data_kinds(self) -> None:
        """Futures backtests: every pair has funding rows (else one error naming them all).
        Spot: the signals that need perpetual-futures data abstain - said here, once."""
        if self.futures:
            if not self.trading and self.config.get("futures_funding_rate") is None:
                check_funding_present(self.dp, self.whitelist(),
                                      self.config.get("datadir"))
            return
        names = self.signals.signal_names if self.signals is not None else ()
        abstain = [f"{n} (needs {REGISTRY[n].signal.perpetual_data})" for n in names
                   if getattr(REGISTRY[n].signal, "perpetual_data", None)]
        if "ranker" in names and (self.models is None or not self.models.freqai_on):
            abstain.append("ranker (needs FreqAI ranks: freqai is off)")
        if abstain:
            logger.info("%s on %s markets: signals %s abstain; no funding gates",
                        type(self).__name__, self.config.get("trading_mode", "spot"),
                        ", ".join(abstain))

    def _check_setup(self) -> None:
        if self.centaur.risk.enabled and not self.use_exit_signal:
            raise CentaurConfigError(
                "use_exit_signal is false, but the risk layer flattens positions and exits "
                "them (kill switches, time exit, funding trap) through custom_exit, which "
                "freqtrade calls only when use_exit_signal is true. Fix: remove "
                "use_exit_signal=false from the config or strategy.")
        if (self.config.get("runmode") == RunMode.HYPEROPT
                and not self.config.get("analyze_per_epoch", False)
                and HyperoptTools.has_space(self.config, "signals")):
            raise CentaurConfigError(
                "hyperopt optimises the 'signals' space, whose parameters take effect in "
                "populate_indicators, but --analyze-per-epoch is off: every epoch would "
                "score the default signals. Fix: add --analyze-per-epoch, or leave 'signals' "
                "out of --spaces.")

    def _veto_gate(self, runtime) -> LlmVetoGate | None:
        if runtime is None or not runtime.settings.veto.enabled:
            return None
        start = None
        if not self.trading and self.config.get("timerange"):
            timerange = TimeRange.parse_timerange(self.config.get("timerange"))
            start = datetime.fromtimestamp(timerange.startts, tz=UTC)
        return LlmVetoGate(self.llm, self.events, self.timeframe, start,
                           record_period=self.config.get("runmode") != RunMode.HYPEROPT,
                           book_skew=self._book_skew)

    def _breaker_stage(self, runtime) -> BreakerStage | None:
        if runtime is None or not runtime.settings.breaker.enabled:
            return None
        pairs = self.config.get("exchange", {}).get("pair_whitelist", [])
        return BreakerStage(CircuitBreaker(runtime.consultant, self.interventions, self.events,
                                           self.centaur_state, pairs,
                                           self.centaur.risk.leverage.ceiling))

    def _build_pipeline(self) -> EntryPipeline:
        candle = [DriftGate()] if self.models is not None and self.models.freqai_on else []
        gates: list[Any] = []
        sizer = None
        if self.centaur.risk.enabled:
            gates += self.risk.entry_gates(futures=self.futures)
            sizer = self.risk.sizer()
        if self.veto is not None:
            gates.append(self.veto)
        gates += self.tower.entry_gates()
        return EntryPipeline(candle, gates, sizer, on_denial=self.denials)

    def restart_backtest_run(self) -> None:
        super().restart_backtest_run()
        self.risk.restart_backtest_run()
        self.denials.clear()
        self._proposals.clear()

    def ft_bot_cleanup(self) -> None:
        super().ft_bot_cleanup()
        llm = self.__dict__.get("llm")
        if llm is not None:
            llm.close()
        tower = self.__dict__.get("tower")
        if tower is not None:
            tower.stop()

    # --- data ----------------------------------------------------------------------------------

    def informative_pairs(self):
        pairs: list[tuple[str, str, str]] = []
        whitelist = self.whitelist()
        if self.uses_ensemble and self.futures:  # funding and the basis: perpetuals only
            pairs += [e for pair in whitelist
                      for e in (funding_informative(pair), spot_informative(pair))]
        if self.uses_models and freqai_enabled(self.config):
            pairs += self.centaur_informative_pairs()
        if self.futures:
            pairs += [funding_informative(p) for p in whitelist]
        return list(dict.fromkeys(pairs))  # first occurrence kept, in this order

    def advise_all_indicators(self, data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Backtests and hyperopt: each analysis run starts from the loaded tracker state and
        builds its own proposals."""
        if self.signals is not None:
            self.signals.restart_run()
        self._proposals.clear()
        return super().advise_all_indicators(data)

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        pair = metadata["pair"]
        if self.uses_ensemble or self.futures:  # NaN on spot pairs
            dataframe = with_funding_rate(dataframe, self.dp, pair, self.timeframe)
        if self.funding_gaps is not None:
            self.funding_gaps.check(pair, dataframe)
        if self.models is not None:
            dataframe = self.models.add(dataframe, metadata, getattr(self, "freqai", None), self)
        if self.news is not None:  # headline sentiment: the news signal's and the veto's input
            dataframe = self.news.add(dataframe, pair, self.timeframe)
        if self.signals is not None:
            dataframe = self.signals.indicators(dataframe, pair, self.dp)
        dataframe = add_risk_columns(dataframe, self.centaur.risk,
                                     int(timedelta(days=1) / self._step))
        self.candle_rows.update(pair, RiskRows.from_dataframe(dataframe))
        return dataframe

    # --- every loop ----------------------------------------------------------------------------

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        super().bot_loop_start(current_time=current_time, **kwargs)
        if self.trading and self.signals is not None and not self.signals.tracker_warm:
            self.warm_up_tracker({pair: self.dp.ohlcv(pair, self.timeframe)
                                  for pair in self.dp.current_whitelist()})
        if self.centaur.risk.enabled:
            self.risk.on_loop(current_time)
        if self.veto is not None:
            self.veto.on_loop(_utc(current_time), self._step)
        if self.breaker is not None:
            closed = Trade.get_trades_proxy(is_open=False)  # backtests: the list itself, O(1)
            self.breaker.on_loop(current_time, closed,
                                 self.wallets.get_starting_balance() if self.wallets else 0.0)
        if self.trading:
            cutoff = _utc(current_time) - 3 * self._step
            self._proposals = {k: p for k, p in self._proposals.items() if k[1] >= cutoff}
            self.tower.on_loop(_utc(current_time))

    def warm_up_tracker(self, candles: dict[str, pd.DataFrame]) -> None:
        """Live start-up: offer every pair's scored calls before the first decision flushes
        them, so the history is applied in the same order as in a backtest (otherwise the
        first pair analysed would apply its history before the others had offered theirs)."""
        for pair, frame in candles.items():
            if not frame.empty:
                self.advise_indicators(frame.copy(), {"pair": pair})
        self.signals.tracker_warm = True

    # --- entries and exits ---------------------------------------------------------------------

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        if self.signals is not None:
            dataframe = self.signals.entries(dataframe, metadata["pair"])
        dataframe = self.pipeline.filter_candles(dataframe)
        if self.veto is not None:
            self._offer_to_veto(dataframe, metadata["pair"])
        return dataframe

    def _offer_to_veto(self, dataframe: pd.DataFrame, pair: str) -> None:
        """The entry candidates the veto must decide before sizing: every one of the period in
        backtests, the last closed candle's when trading."""
        frame = self.veto.market_frame(dataframe)
        rows = frame.iloc[-1:] if self.veto.runtime.trading else frame
        candidates = []
        for side in SIDES:
            column = f"enter_{side}"
            if column not in rows:
                continue
            for _, row in rows[rows[column] == 1].iterrows():
                tag = row.get("enter_tag")
                proposal = self._proposal(pair, side, _utc(row["date"]),
                                          tag if isinstance(tag, str) and tag else None,
                                          float(row["close"]))
                candidates.append((proposal, row))
        self.veto.on_analysis(candidates)

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return self.signals.exits(dataframe) if self.signals is not None else dataframe

    def _proposal(self, pair: str, side: str, candle_time: datetime, tag: str | None,
                  close: float | None = None) -> EntryProposal:
        """The proposal of this (pair, candle, side), built once."""
        key = (pair, candle_time, side)
        found = self._proposals.get(key)
        # a new tag at the same candle: hyperopt's next epoch (other thresholds, other voters)
        if found is None or (found.tag != tag and tag is not None):
            if self.signals is not None:
                found = self.signals.proposal(pair, side, candle_time, tag, close)
            else:
                found = EntryProposal(pair, side, tag, (), 1.0, None, candle_time,
                                      candle_time + self._step, close)
            self._proposals[key] = found
        return found

    def _proposal_at(self, pair: str, side: str, now: datetime, tag: str | None
                     ) -> EntryProposal:
        """The proposal an entry at ``now`` acts on: that of the last closed candle."""
        decided_at = timeframe_to_prev_date(self.timeframe, _utc(now))
        return self._proposal(pair, side, decided_at - self._step, tag)

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        if not self.centaur.risk.enabled:
            return fixed_leverage(self.fixed_leverage, max_leverage)
        return self.risk.leverage(pair, current_time, max_leverage)

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs) -> float:
        if not self.pipeline.gates and self.pipeline.sizer is None:
            return proposed_stake
        proposal = self._proposal_at(pair, side, current_time, entry_tag)
        with self.risk.lock:
            verdict = self.pipeline.size(proposal, EntryRequest(
                current_time, current_rate, leverage, min_stake, max_stake))
        if not verdict.decision.allowed:
            return 0.0
        if self.pipeline.sizer is None:  # freqtrade's stake, shrunk by the gates' scales
            return min(proposed_stake * verdict.decision.scale, max_stake)
        return verdict.stake_usd

    def confirm_trade_entry(self, pair: str, order_type: str, amount: float, rate: float,
                            time_in_force: str, current_time: datetime, entry_tag: str | None,
                            side: str, **kwargs) -> bool:
        if not self.pipeline.gates and not self.trading:
            return True
        proposal = self._proposal_at(pair, side, current_time, entry_tag)
        verdict = Verdict(Decision.allow(), "all")
        if self.pipeline.gates:
            with self.risk.lock:
                verdict = self.pipeline.confirm(proposal, EntryRequest(current_time, rate,
                                                                       amount=amount))
        if verdict.decision.allowed and self.trading:
            self._note_trail(proposal, amount, rate, _utc(current_time))
        return verdict.decision.allowed

    def _note_trail(self, proposal: EntryProposal, amount: float, rate: float,
                    now: datetime) -> None:
        """The confirmed entry's decision trail, written on the trade when it fills."""
        sized = self.risk.sizing.last.get(proposal.pair) if self.centaur.risk.enabled else None
        self.trail.confirmed(proposal.pair, proposal.side, entry_trail(
            proposal, gates=[g.name for g in self.pipeline.gates],
            weights=voter_weights(
                self.signals.rows(proposal.pair) if self.signals is not None else None,
                proposal),
            sizing=sized.to_json() if sized is not None else None,
            veto=self.veto.opinion(proposal) if self.veto is not None else None,
            amount=amount, rate=rate, confirmed_at=now))


    def order_filled(self, pair: str, trade: Trade, order, current_time: datetime,
                     **kwargs) -> None:
        if self.centaur.risk.enabled:
            if order.ft_order_side == trade.entry_side:
                self.risk.on_entry_filled(pair, trade, current_time)
            else:
                self.risk.on_exit_filled(trade, order)
        if self.trading:
            self.tower.on_fill(trade, order, _utc(current_time))  # reconciliation, alerts first
            route_legs = getattr(self.dp._exchange, "route_legs", None) if self.dp else None
            self.trail.write(trade, order, route_legs)

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime,
                        current_rate: float, current_profit: float, after_fill: bool,
                        **kwargs) -> float | None:
        if not self.centaur.risk.enabled:
            return fixed_stoploss(trade, current_profit, self.fixed_stop_price_ratio)
        return stoploss_from_absolute(self.risk.stop_price(pair, trade, current_time),
                                      current_rate, is_short=trade.is_short,
                                      leverage=trade.leverage)

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | bool | None:
        if self.signals is not None:
            reason = self.signals.voter_exit(pair, trade, current_time)
            if reason:
                return reason
        if not self.centaur.risk.enabled:
            return None
        return self.risk.exit_reason(pair, trade, current_time, current_profit)

    def adjust_trade_position(self, trade: Trade, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              current_entry_rate: float, current_exit_rate: float,
                              current_entry_profit: float, current_exit_profit: float,
                              **kwargs):
        if not self.centaur.risk.enabled:
            return None
        return self.risk.take_profit(trade, current_rate)

    # --- the operator (Telegram, REST) and status ----------------------------------------------

    def kill_switch(self, now: datetime, by: str) -> ts.Halt:
        return self.risk.kill_switch(now, by)

    def resume(self, now: datetime, by: str, include_timed: bool = False) -> list[ts.Halt]:
        return self.risk.resume(now, by, include_timed)

    def state_reset(self, now: datetime, by: str) -> list[ts.Halt]:
        return self.risk.state_reset(now, by)

    def active_halt_reasons(self, now: datetime) -> list[str]:
        return self.risk.active_halt_reasons(now)

    def active_halt_codes(self, now: datetime) -> list[str]:
        return self.risk.active_halt_codes(now)

    def last_denial(self, pair: str) -> Decision | None:
        return self.denials.last(pair)

    def forget_denial(self, pair: str) -> None:
        self.denials.forget(pair)

    def trading_state(self, now: datetime) -> ts.TradingState:
        return self.risk.trading_state(now)

    def centaur_status(self) -> dict[str, Any]:
        if not hasattr(self, "pipeline"):
            return {}
        now = datetime.now(UTC)
        status: dict[str, Any] = {"pipeline": self.pipeline.describe()}
        if self.signals is not None:
            status.update(self.signals.status(now))
            if not self.signals.signal_names:
                status["flat"] = FLAT_REASON
        status.update(self.risk.status(now))
        status["denials"] = dict(self.denials.counts)
        status["events"] = [{k: e[k] for k in ("time", "severity", "code", "message")}
                            for e in self.events.recent(10)]
        if self.veto is not None:
            status["llm_veto"] = self.veto.status()
        status["tower"] = self.tower.status(now)
        return status

    def _book_skew(self, pair: str) -> float | None:
        try:
            book = self.dp.orderbook(pair, 10)
        except FreqtradeException as err:
            logger.warning("%s: order book unavailable for the veto (%s)", pair, err)
            return None
        return book_skew(book.get("bids") or [], book.get("asks") or [])


def tracker_history_candles(config: dict, timeframe: str) -> int:
    """Candles before a candle that the tracker's state reads: window, memory, one horizon."""
    ensemble_settings = settings_from(config).ensemble
    step_secs = timeframe_to_seconds(timeframe)
    names = enabled_signals(ensemble_settings)
    horizon_candles = max((REGISTRY[n].signal.horizon_at(step_secs) for n in names), default=0)
    return -(-ensemble_settings.tracker.span_secs() // step_secs) + horizon_candles


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()
