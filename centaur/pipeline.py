"""The entry pipeline: one immutable proposal per (pair, candle, side), passed through an
ordered list of gates, each returning a ``Decision`` with a reason code.

freqtrade asks three times about an entry, in this order: ``leverage``, then
``custom_stake_amount``, then ``confirm_trade_entry``; the pipeline answers the last two.

- ``size``: every gate's ``at_sizing`` in order (a gate may deny, or allow with a ``scale``
  that shrinks the stake - the LLM veto's ``reduce``), then the sizer turns the product of
  the scales into a stake (its own denials: no edge, caps, minimum stake);
- ``confirm``: every gate's ``at_confirm`` in order; the first denial stops the entry.

A gate that raises is a denial (``RISK_CHECK_FAILED``) - freqtrade would let the entry through
on an exception, the pipeline never does. Gates that decide from the candle alone (the drift
gate) are ``CandleGate``s, applied to the analysed frame once per candle. The pipeline is
pure: its gates get their collaborators (clock, state, clients) injected by the strategy.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import pandas as pd

from centaur.decision import Decision, ReasonCode
from centaur.signal_stats import SignalStats

logger = logging.getLogger(__name__)

SIDES = ("long", "short")


@dataclass(frozen=True)
class EntryProposal:
    """What the strategy proposes, built once per (pair, candle, side) from the analysis."""

    pair: str
    side: str  # "long" | "short"
    tag: str | None
    voters: tuple[str, ...]  # the signals that voted for it (empty: not an ensemble entry)
    confidence: float  # in [0, 1]
    stats: SignalStats | None  # the voters' measured win rate and payoff; None: unknown
    candle_time: datetime  # open time of the candle the decision reads
    decided_at: datetime  # that candle's close: when the decision is taken
    close: float | None = None  # the candle's close

    @property
    def is_short(self) -> bool:
        return self.side == "short"

    @property
    def key(self) -> tuple[str, datetime, str]:
        return (self.pair, self.candle_time, self.side)


@dataclass(frozen=True)
class EntryRequest:
    """What freqtrade asks with: the time, the rate and (by callback) leverage, stake bounds
    or the order amount."""

    now: datetime
    rate: float
    leverage: float = 1.0
    min_stake_usd: float | None = None
    max_stake_usd: float = math.inf
    amount: float | None = None  # confirmation: the order amount (base currency)


class Gate(Protocol):
    """A rule over proposals. ``at_sizing`` may shrink (``scale``) or deny; ``at_confirm``
    allows or denies. A gate without an opinion in a phase returns ``Decision.allow()``."""

    name: str

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision: ...

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision: ...


class CandleGate(Protocol):
    """A rule that decides from the analysed candle alone (vectorised over the frame)."""

    name: str
    reason: ReasonCode

    def blocked(self, dataframe: pd.DataFrame) -> np.ndarray: ...


class Sizer(Protocol):
    name: str

    def stake(self, proposal: EntryProposal, request: EntryRequest, scale: float
              ) -> tuple[Decision, float]: ...


@dataclass(frozen=True)
class Verdict:
    """A pipeline answer: the decision, the gate that gave it and (sizing) the stake."""

    decision: Decision
    gate: str
    stake_usd: float = 0.0


class EntryPipeline:
    """The ordered gates; ``on_decision`` sees every denial (and the final allow)."""

    def __init__(self, candle_gates: Sequence[CandleGate], gates: Sequence[Gate],
                 sizer: Sizer | None,
                 on_denial: Callable[[EntryProposal, Verdict], None] | None = None):
        self.candle_gates = tuple(candle_gates)
        self.gates = tuple(gates)
        self.sizer = sizer
        self._on_denial = on_denial

    # --- per candle ---------------------------------------------------------------------------

    def filter_candles(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """Remove the entry signals the candle gates block (the frame FreqUI plots agrees)."""
        for gate in self.candle_gates:
            blocked = gate.blocked(dataframe)
            if blocked.any():
                dataframe.loc[blocked, [c for c in ("enter_long", "enter_short")
                                        if c in dataframe]] = 0
        return dataframe

    # --- per entry ------------------------------------------------------------------------------

    def size(self, proposal: EntryProposal, request: EntryRequest) -> Verdict:
        scale = 1.0
        for gate in self.gates:
            decision = self._ask(gate.name, gate.at_sizing, proposal, request)
            if not decision.allowed:
                return self._denied(proposal, Verdict(decision, gate.name))
            scale *= decision.scale
        if self.sizer is None:
            return Verdict(Decision(True, ReasonCode.OK, scale=scale), "proposed",
                           stake_usd=math.nan)
        try:
            decision, stake = self.sizer.stake(proposal, request, scale)
        except Exception as err:  # noqa: BLE001 - freqtrade would size with its proposal
            logger.exception("[%s] %s: sizing failed, no entry", ReasonCode.RISK_CHECK_FAILED,
                             proposal.pair)
            decision, stake = Decision(False, ReasonCode.RISK_CHECK_FAILED, repr(err)), 0.0
        verdict = Verdict(decision, self.sizer.name, stake if decision.allowed else 0.0)
        return verdict if decision.allowed else self._denied(proposal, verdict)

    def confirm(self, proposal: EntryProposal, request: EntryRequest) -> Verdict:
        for gate in self.gates:
            decision = self._ask(gate.name, gate.at_confirm, proposal, request)
            if not decision.allowed:
                return self._denied(proposal, Verdict(decision, gate.name))
        return Verdict(Decision.allow(), "all")

    def _ask(self, name: str, method, proposal: EntryProposal, request: EntryRequest
             ) -> Decision:
        try:
            return method(proposal, request)
        except Exception as err:  # noqa: BLE001 - freqtrade lets the entry through on errors
            logger.exception("[%s] %s: gate %s failed", ReasonCode.RISK_CHECK_FAILED,
                             proposal.pair, name)
            return Decision(False, ReasonCode.RISK_CHECK_FAILED, f"{name}: {err!r}")

    def _denied(self, proposal: EntryProposal, verdict: Verdict) -> Verdict:
        if self._on_denial is not None:
            self._on_denial(proposal, verdict)
        return verdict

    # --- what runs ------------------------------------------------------------------------------

    def describe(self) -> dict[str, list[str]]:
        return {"candle": [g.name for g in self.candle_gates],
                "gates": [g.name for g in self.gates],
                "sizer": [self.sizer.name] if self.sizer else []}

    def summary(self) -> str:
        shape = self.describe()
        return (f"entry pipeline: candle [{', '.join(shape['candle']) or '-'}] -> gates "
                f"[{' -> '.join(shape['gates']) or '-'}] -> sizer "
                f"[{', '.join(shape['sizer']) or 'freqtrade stake'}]")


class Denials:
    """Every denial the pipeline gives, counted by reason code; the last one per pair is
    kept for the operator who forced the entry. Logged at DEBUG in backtests (thousands of
    them; the counts reach the report), INFO when trading."""

    def __init__(self, trading: bool):
        self._level = logging.INFO if trading else logging.DEBUG
        self.counts: dict[str, int] = {}
        self._last: dict[str, Decision] = {}

    def __call__(self, proposal: EntryProposal, verdict: Verdict) -> None:
        decision = verdict.decision
        self.counts[str(decision.reason)] = self.counts.get(str(decision.reason), 0) + 1
        self._last[proposal.pair] = decision
        logger.log(self._level, "[%s] %s %s: entry denied by %s - %s", decision.reason,
                   proposal.pair, proposal.side, verdict.gate, decision.detail)

    def last(self, pair: str) -> Decision | None:
        return self._last.get(pair)

    def forget(self, pair: str) -> None:
        self._last.pop(pair, None)

    def clear(self) -> None:
        self.counts.clear()
        self._last.clear()
