"""LlmVetoMixin: the LLM may veto or shrink an entry that every other layer allowed.

Freqtrade asks for the stake (``custom_stake_amount``, the risk layer) *before* it confirms an
entry, so the opinion must exist at sizing time:

- backtests (``record``/``replay``/``invert``): ``populate_entry_trend`` decides every entry
  signal of the backtest period once (recording or replaying), path-independently, so the
  inverted run finds every opinion too; sizing and confirmation read the result;
- trading (``live``): when a signal forms on the last closed candle, the request goes to a
  background thread; sizing and confirmation only read it (``centaur.llm.prefetch``).

``external_size_scale`` passes ``reduce`` (scaled by confidence) to the risk layer's sizing;
``confirm_trade_entry`` asks ``super()`` first and consults the veto only if it allows. No
exception escapes either (freqtrade would let the trade through): every failure becomes the
configured failure policy with an ``LLM_*`` reason code. Mix it in above the risk layer:
``class S(LlmVetoMixin, CentaurEnsemble)``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pandas as pd
from freqtrade.configuration import TimeRange
from freqtrade.enums import RunMode
from freqtrade.exceptions import FreqtradeException
from freqtrade.exchange import timeframe_to_prev_date, timeframe_to_seconds

from centaur.decision import Decision, ReasonCode
from centaur.events import OperatorEvent, Severity
from centaur.llm.market_state import MarketState, add_market_features, book_skew
from centaur.llm.prefetch import CandidateKey
from centaur.llm.prompt import TradeProposal
from centaur.llm.runtime import LlmRuntime, open_runtime
from centaur.llm.verdict import FAILURE_CODES, failure_decision
from strategies.centaur_strategy import CentaurStrategy


logger = logging.getLogger(__name__)

SIDES = ("long", "short")
CONFIDENCE_COLUMN = "signal_confidence"  # read from the row when the strategy provides it


class LlmLayer(CentaurStrategy):
    """The LLM runtime shared by the veto and the circuit breaker (one per process)."""

    _llm_runtime: LlmRuntime | None = None

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        if self.__dict__.get("_llm_runtime") is None:
            self._llm_runtime = open_runtime(self.config, self.centaur.llm)

    @property
    def llm(self) -> LlmRuntime | None:
        if self.__dict__.get("_llm_runtime") is None and hasattr(self, "centaur"):
            self._llm_runtime = open_runtime(self.config, self.centaur.llm)  # hyperopt workers
        return self._llm_runtime

    def ft_bot_cleanup(self) -> None:
        super().ft_bot_cleanup()
        runtime = self.__dict__.get("_llm_runtime")
        if runtime is not None:
            runtime.close()  # in-flight prefetches are cancelled, the record closed
            self._llm_runtime = None

    # Hyperopt pickles the strategy into worker processes: connections and threads stay here.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_llm_runtime", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:
            self.__dict__.update(state)


class LlmVetoMixin(LlmLayer):
    """A proposed entry proceeds, shrinks or is skipped by the model; failures by policy."""

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        self._veto_decisions: dict[CandidateKey, Decision] = {}
        self._veto_counts: Counter[str] = Counter()

    def _veto_on(self) -> bool:
        runtime = self.llm
        return runtime is not None and runtime.settings.veto.enabled

    # --- when the signal forms ---------------------------------------------------------------

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = super().populate_entry_trend(dataframe, metadata)
        if not self._veto_on():
            return dataframe
        dataframe = add_market_features(dataframe, self.timeframe)
        if self.llm.trading:
            self._prefetch_last(dataframe, metadata["pair"])
        else:
            self._decide_period(dataframe, metadata["pair"])
        return dataframe

    def _decide_period(self, dataframe: pd.DataFrame, pair: str) -> None:
        """Backtests: every entry signal of the period, decided (recorded or replayed) once."""
        start, records = self._backtest_start(), []
        for side in SIDES:
            for _, row in self._signal_rows(dataframe, side).iterrows():
                proposal = self._proposal(pair, side, row)
                key = (pair, side, proposal.decided_at)
                if proposal.decided_at >= start and key not in self._veto_decisions:
                    decision, record = self.llm.veto.decide_unrecorded(
                        proposal, MarketState.from_row(row))
                    self._veto_decisions[key] = decision
                    records.append(record)
        if self.config.get("runmode") != RunMode.HYPEROPT:  # not once per epoch
            self.llm.store.record_decisions(records)

    def _prefetch_last(self, dataframe: pd.DataFrame, pair: str) -> None:
        """Trading: a signal on the last closed candle is sent to the desk at once."""
        last = dataframe.iloc[-1:]
        for side in SIDES:
            if self._signal_rows(last, side).empty:
                continue
            row = last.iloc[0]
            proposal = self._proposal(pair, side, row)
            market = MarketState.from_row(row, order_book_skew=self._book_skew(pair))
            self.llm.desk.request((pair, side, proposal.decided_at),
                                  partial(self.llm.veto.decide, proposal, market))

    @staticmethod
    def _signal_rows(dataframe: pd.DataFrame, side: str) -> pd.DataFrame:
        column = f"enter_{side}"
        return dataframe.iloc[0:0] if column not in dataframe else dataframe[dataframe[column] == 1]

    def _proposal(self, pair: str, side: str, row: pd.Series) -> TradeProposal:
        decided_at = _utc(row["date"]) + timedelta(seconds=timeframe_to_seconds(self.timeframe))
        tag = row.get("enter_tag")
        tag = tag if isinstance(tag, str) and tag else None
        confidence = row.get(CONFIDENCE_COLUMN)
        if confidence is None or pd.isna(confidence):
            confidence = self.signal_confidence(pair, side, decided_at, tag)
        return TradeProposal(pair, side, float(row["close"]), decided_at,
                             ((tag or "entry", float(confidence)),))

    def _backtest_start(self) -> datetime:
        timerange = TimeRange.parse_timerange(self.config.get("timerange"))
        return datetime.fromtimestamp(timerange.startts, tz=UTC)

    def _book_skew(self, pair: str) -> float | None:
        try:
            book = self.dp.orderbook(pair, 10)
        except FreqtradeException as err:
            logger.warning("%s: order book unavailable for the veto (%s)", pair, err)
            return None
        return book_skew(book.get("bids") or [], book.get("asks") or [])

    # --- sizing and confirmation only read ---------------------------------------------------

    def external_size_scale(self, pair: str, side: str, current_time: datetime,
                            entry_tag: str | None) -> float:
        scale = super().external_size_scale(pair, side, current_time, entry_tag)
        if not self._veto_on():
            return scale
        decision = self._veto_verdict(pair, side, current_time)
        return scale * decision.scale if decision.allowed else scale

    def confirm_trade_entry(self, pair: str, order_type: str, amount: float, rate: float,
                            time_in_force: str, current_time: datetime, entry_tag: str | None,
                            side: str, **kwargs) -> bool:
        if not super().confirm_trade_entry(
                pair=pair, order_type=order_type, amount=amount, rate=rate,
                time_in_force=time_in_force, current_time=current_time, entry_tag=entry_tag,
                side=side, **kwargs):
            return False
        if not self._veto_on():
            return True
        decision = self._veto_verdict(pair, side, current_time)
        self._note_veto(pair, side, current_time, decision)
        return decision.allowed

    def _veto_verdict(self, pair: str, side: str, current_time: datetime) -> Decision:
        """The decision for this candidate; any exception becomes the failure policy."""
        try:
            return self._read_decision(pair, side, current_time)
        except Exception as err:  # noqa: BLE001 - freqtrade would let the entry through
            logger.exception("[%s] %s %s: veto failed", ReasonCode.LLM_INTERNAL_ERROR, pair, side)
            return failure_decision(ReasonCode.LLM_INTERNAL_ERROR,
                                    self.centaur.llm.failure_policy, f"{type(err).__name__}: {err}")

    def _read_decision(self, pair: str, side: str, current_time: datetime) -> Decision:
        decided_at = timeframe_to_prev_date(self.timeframe, _utc(current_time))
        key = (pair, side, decided_at)
        if self.llm.trading:
            decision = self.llm.desk.read(key)
        else:
            decision = self._veto_decisions.get(key)
        if decision is None:
            decision = failure_decision(ReasonCode.LLM_REPLAY_MISS if not self.llm.trading
                                        else ReasonCode.LLM_TIMEOUT,
                                        self.centaur.llm.failure_policy,
                                        "no opinion was requested for this signal")
            self._record_unrequested(key, decision)
        return decision

    def _record_unrequested(self, key: CandidateKey, decision: Decision) -> None:
        proposal = TradeProposal(key[0], key[1], 0.0, key[2])
        self.llm.store.record_decisions([self.llm.veto.record_of(proposal, decision, None,
                                                                 "policy")])

    def _note_veto(self, pair: str, side: str, now: datetime, decision: Decision) -> None:
        self._veto_counts[str(decision.reason)] += 1
        trading = self.llm.trading
        level = logging.INFO if trading else logging.DEBUG
        outcome = "entry allowed" if decision.allowed else (
            "entry deferred" if decision.reason is ReasonCode.LLM_PENDING else "entry vetoed")
        logger.log(level, "[%s] %s %s: %s - %s", decision.reason, pair, side, outcome,
                   decision.detail)
        if trading and decision.reason in FAILURE_CODES:
            self.events.emit(OperatorEvent(now, Severity.WARNING, decision.reason,
                                           f"LLM veto {side}: {decision.detail}", pair=pair))

    # --- housekeeping and status -------------------------------------------------------------

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        super().bot_loop_start(current_time=current_time, **kwargs)
        if self._veto_on() and self.llm.trading:
            horizon = timedelta(seconds=2 * timeframe_to_seconds(self.timeframe))
            self.llm.desk.forget_before(_utc(current_time) - horizon)

    def centaur_status(self) -> dict[str, Any]:
        status = super().centaur_status()
        if self._veto_on():
            runtime = self.llm
            status["llm_veto"] = {
                "mode": str(runtime.settings.mode), "model": runtime.settings.model,
                "failure_policy": str(runtime.settings.failure_policy),
                "in_flight": runtime.desk.in_flight() if runtime.desk else 0,
                "decisions": dict(self._veto_counts),
            }
        return status


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()
