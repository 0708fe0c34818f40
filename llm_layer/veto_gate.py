"""LlmVetoGate: the LLM may veto or shrink an entry that every earlier gate allowed - the last
gate of the entry pipeline.

freqtrade asks for the stake before it confirms an entry, so the opinion must exist at sizing:

- backtests (``record``/``replay``/``invert``): ``on_analysis`` decides every entry signal of
  the period once (recording or replaying), path-independently, so the inverted run finds
  every opinion too;
- trading (``live``): when a signal forms on the last closed candle, the request goes to a
  background thread (``centaur.llm.prefetch``); sizing and confirmation only read it.

At sizing an opinion still pending defers the entry (``LLM_PENDING``: freqtrade asks again
next loop), and ``reduce`` scales the stake; at confirmation a ``skip`` (or the failure
policy) denies it. The opinion is read once per proposal and kept, so sizing and
confirmation see the same one and a missing opinion is recorded once. No exception escapes:
every failure becomes the configured failure policy with an ``LLM_*`` reason code.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pandas as pd

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.pipeline import EntryProposal, EntryRequest
from llm_layer.market_state import MarketState, add_market_features
from llm_layer.prompt import TradeProposal
from llm_layer.runtime import LlmRuntime, RuntimeHandle
from llm_layer.verdict import FAILURE_CODES, failure_decision

logger = logging.getLogger(__name__)

_ALLOW = Decision.allow()


def prompt_proposal(proposal: EntryProposal) -> TradeProposal:
    """What the model is shown of a proposal."""
    return TradeProposal(proposal.pair, proposal.side, float(proposal.close or 0.0),
                         proposal.decided_at,
                         ((proposal.tag or "entry", float(proposal.confidence)),))


class LlmVetoGate:
    """The model's opinion on each proposal; failures by policy."""

    name = "llm_veto"

    def __init__(self, runtime: RuntimeHandle, events: EventSink, timeframe: str,
                 backtest_start: datetime | None, record_period: bool,
                 book_skew: Callable[[str], float | None]):
        self._handle = runtime
        self._events = events
        self._timeframe = timeframe
        self._backtest_start = backtest_start
        self._record_period = record_period  # hyperopt: not once per epoch
        self._book_skew = book_skew
        self._period: dict[tuple[str, str, datetime], Decision] = {}  # backtests
        self._read: dict[tuple[str, datetime, str], Decision] = {}  # final opinions read
        self.counts: Counter[str] = Counter()

    @property
    def runtime(self) -> LlmRuntime:
        runtime = self._handle.get()
        if runtime is None:
            raise RuntimeError("the LLM layer is off (centaur.llm.mode: off)")
        return runtime

    @property
    def _policy(self):
        return self.runtime.settings.failure_policy

    # --- when the signal forms ---------------------------------------------------------------

    def market_frame(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """The analysed frame with the ``llm_*`` market features the prompt shows."""
        return add_market_features(dataframe, self._timeframe)

    def on_analysis(self, candidates: Iterable[tuple[EntryProposal, pd.Series]]) -> None:
        """Backtests: every candidate of the period decided once; trading: the candidates of
        the last closed candle sent to the desk at once."""
        if self.runtime.trading:
            for proposal, row in candidates:
                market = MarketState.from_row(row, order_book_skew=self._book_skew(
                    proposal.pair))
                self.runtime.desk.request(_desk_key(proposal),
                                          partial(self.runtime.veto.decide,
                                                  prompt_proposal(proposal), market))
            return
        records = []
        for proposal, row in candidates:
            key = _desk_key(proposal)
            if (self._backtest_start is not None and proposal.decided_at < self._backtest_start) \
                    or key in self._period:
                continue
            decision, record = self.runtime.veto.decide_unrecorded(prompt_proposal(proposal),
                                                                   MarketState.from_row(row))
            self._period[key] = decision
            records.append(record)
        if self._record_period:
            self.runtime.store.record_decisions(records)

    # --- the pipeline ------------------------------------------------------------------------

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        decision = self.opinion(proposal)
        if decision.reason is ReasonCode.LLM_PENDING:
            return decision  # sized only once the opinion is in: never at full size by default
        return Decision(True, decision.reason, decision.detail, scale=decision.scale) \
            if decision.allowed else _ALLOW

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        decision = self.opinion(proposal)
        self._note(proposal, request.now, decision)
        return decision

    def opinion(self, proposal: EntryProposal) -> Decision:
        """The opinion on this proposal, read once it is final; any exception becomes the
        failure policy."""
        found = self._read.get(proposal.key)
        if found is not None:
            return found
        try:
            decision = self._lookup(proposal)
        except Exception as err:  # noqa: BLE001 - freqtrade would let the entry through
            logger.exception("[%s] %s %s: veto failed", ReasonCode.LLM_INTERNAL_ERROR,
                             proposal.pair, proposal.side)
            decision = failure_decision(ReasonCode.LLM_INTERNAL_ERROR, self._policy,
                                        f"{type(err).__name__}: {err}")
        if decision.reason is not ReasonCode.LLM_PENDING:
            self._read[proposal.key] = decision
        return decision

    def _lookup(self, proposal: EntryProposal) -> Decision:
        key = _desk_key(proposal)
        decision = self.runtime.desk.read(key) if self.runtime.trading else self._period.get(key)
        if decision is None:
            decision = failure_decision(ReasonCode.LLM_TIMEOUT if self.runtime.trading
                                        else ReasonCode.LLM_REPLAY_MISS, self._policy,
                                        "no opinion was requested for this signal")
            unrequested = TradeProposal(proposal.pair, proposal.side, 0.0, proposal.decided_at)
            self.runtime.store.record_decisions([self.runtime.veto.record_of(
                unrequested, decision, None, "policy")])
        return decision

    def _note(self, proposal: EntryProposal, now: datetime, decision: Decision) -> None:
        self.counts[str(decision.reason)] += 1
        trading = self.runtime.trading
        outcome = "entry allowed" if decision.allowed else (
            "entry deferred" if decision.reason is ReasonCode.LLM_PENDING else "entry vetoed")
        logger.log(logging.INFO if trading else logging.DEBUG, "[%s] %s %s: %s - %s",
                   decision.reason, proposal.pair, proposal.side, outcome, decision.detail)
        if trading and decision.reason in FAILURE_CODES:
            self._events.emit(OperatorEvent(now, Severity.WARNING, decision.reason,
                                            f"LLM veto {proposal.side}: {decision.detail}",
                                            pair=proposal.pair))
        elif trading and decision.reason is ReasonCode.LLM_SKIP:  # the alerts rank it
            self._events.emit(OperatorEvent(
                now, Severity.INFO, decision.reason,
                f"LLM vetoed {proposal.side} (signal confidence {proposal.confidence:.2f}): "
                f"{decision.detail}", pair=proposal.pair,
                data={"signal_confidence": float(proposal.confidence)}))

    # --- housekeeping and status -------------------------------------------------------------

    def on_loop(self, now: datetime, step: timedelta) -> None:
        if self.runtime.trading:
            cutoff = now - 2 * step
            self.runtime.desk.forget_before(cutoff)
            self._read = {k: v for k, v in self._read.items() if k[1] + step >= cutoff}

    def status(self) -> dict[str, Any]:
        runtime = self.runtime
        return {"mode": str(runtime.settings.mode), "model": runtime.settings.model,
                "failure_policy": str(runtime.settings.failure_policy),
                "in_flight": runtime.desk.in_flight() if runtime.desk else 0,
                "decisions": dict(self.counts)}


def _desk_key(proposal: EntryProposal) -> tuple[str, str, datetime]:
    return (proposal.pair, proposal.side, proposal.decided_at)
