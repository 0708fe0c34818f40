"""The risk rules as entry-pipeline gates (``centaur.pipeline``), in the order they run.

Each gate is a small object over injected collaborators (the risk state, the intervention
book, the candle rows, the account, the order book) and a pure rule from its own module; it
returns a ``Decision``. ``PositionSizer`` is the pipeline's sizer: fractional Kelly of the
entry tag's realised trades, volatility targeting and the caps; each of its decisions is
handed to ``on_sized`` as a ``SizingRecord`` (the risk basis and the cap that bound), which
``SizingTally`` counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from freqtrade.persistence import Trade

from centaur.decision import Decision, ReasonCode
from centaur.interventions import InterventionBook
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings.risk import RiskSettings
from centaur.trade_stats import consecutive_losses
from risk_protections import trading_state as ts
from risk_protections.correlation_gate import correlation_decision
from risk_protections.exposure_caps import cap_stake
from risk_protections.funding_trap import entry_funding_decision
from risk_protections.loss_streak import loss_streak_scale
from risk_protections.position_sizing import (
    RiskBasis,
    SizingCap,
    SizingInputs,
    SizingResult,
    size_position,
)
from risk_protections.risk_inputs import Account, CandleRows, StopModel, finite
from risk_protections.sanity_gates import (
    book_depth_decision,
    prediction_decision,
    spread_decision,
)
from risk_protections.trade_record import TagRecord, TradeRecord

logger = logging.getLogger(__name__)

_ALLOW = Decision.allow()


class _Gate:
    name = "gate"

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return _ALLOW

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return _ALLOW


class HaltGate(_Gate):
    """No entry while a halt is active (kill switch, drawdowns, error rate, lost state)."""

    name = "halts"

    def __init__(self, state: Callable[[], ts.RiskState]):
        self._state = state

    def _decide(self, request: EntryRequest, detail: str | None) -> Decision:
        halts = self._state().active_halts(request.now)
        if not halts:
            return _ALLOW
        return Decision(False, ReasonCode.TRADING_STATE_HALTED,
                        detail or ", ".join(h.lock_reason for h in halts))

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return self._decide(request, None)

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return self._decide(request, None)


class InterventionGate(_Gate):
    """The operator's and the LLM breaker's expiring interventions: a disabled asset, no
    shorts, a conviction threshold."""

    name = "interventions"

    def __init__(self, book: InterventionBook):
        self._book = book

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        pair, now = proposal.pair, request.now
        if self._book.asset_disabled_until(pair, now):
            return Decision(False, ReasonCode.ASSET_DISABLED, "disabled by an intervention")
        if proposal.is_short and self._book.shorts_disabled(pair, now):
            return Decision(False, ReasonCode.SHORTS_DISABLED, "shorts disabled by an intervention")
        threshold = self._book.conviction_threshold(pair, now)
        if threshold is not None and proposal.confidence < threshold:
            return Decision(False, ReasonCode.BELOW_CONVICTION,
                            f"confidence {proposal.confidence:.2f} < threshold {threshold:.2f}")
        return _ALLOW


class FundingKnownGate(_Gate):
    """Futures: no entry on a candle without a settled funding rate."""

    name = "funding_known"

    def __init__(self, rows: CandleRows):
        self._rows = rows

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        if finite(self._rows.row(proposal.pair, request.now), "funding_rate") is None:
            return Decision(False, ReasonCode.DATA_GAP,
                            "no settled funding rate known for this candle")
        return _ALLOW


class PredictionGate(_Gate):
    """Model outputs outside their plausible bounds stop the entry."""

    name = "prediction_bounds"

    def __init__(self, rows: CandleRows, bounds: dict[str, Any]):
        self._rows = rows
        self._bounds = bounds

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        row = self._rows.row(proposal.pair, request.now)
        values = {c: row[c] for c in self._bounds if row and c in row}
        return prediction_decision(values, self._bounds)


class EntryFundingGate(_Gate):
    """The funding paid over the expected holding must not eat the signal's edge."""

    name = "entry_funding"

    def __init__(self, rows: CandleRows, stops: StopModel, settings: RiskSettings):
        self._rows = rows
        self._stops = stops
        self._settings = settings

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        row = self._rows.row(proposal.pair, request.now)
        return entry_funding_decision(
            finite(row, "funding_rate"), proposal.is_short,
            self._stops.stop_distance(row, request.rate, proposal.is_short), proposal.stats,
            self._settings.sizing.min_signal_samples, self._settings.funding)


class CorrelationGate(_Gate):
    """No second position that moves with an open one (same direction, high correlation)."""

    name = "correlation"

    def __init__(self, rows: CandleRows, settings: RiskSettings):
        self._rows = rows
        self._caps = settings.caps

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        window, now = self._caps.correlation_window_candles, request.now
        candidate = self._rows.log_returns(proposal.pair, window, now)
        open_returns = {(t.pair, t.is_short): self._rows.log_returns(t.pair, window, now)
                        for t in Trade.get_trades_proxy(is_open=True) if t.pair != proposal.pair}
        return correlation_decision(candidate, proposal.is_short, open_returns,
                                    self._caps.max_correlation)


class BookGate(_Gate):
    """Spread and depth from the live order book (dry-run and live only: no book, no entry)."""

    name = "order_book"

    def __init__(self, order_book: Callable[[str, int], dict[str, Any]], settings: RiskSettings):
        self._order_book = order_book
        self._gates = settings.gates

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        try:
            book = self._order_book(proposal.pair, 100)
        except Exception as err:  # noqa: BLE001 - no book, no entry
            return Decision(False, ReasonCode.BOOK_TOO_THIN, f"order book unavailable: {err}")
        bids, asks = book.get("bids") or [], book.get("asks") or []
        if not bids or not asks:
            return spread_decision(0.0, 0.0, self._gates.max_spread_bps)
        spread = spread_decision(bids[0][0], asks[0][0], self._gates.max_spread_bps)
        if not spread.allowed:
            return spread
        levels = [(float(p), float(q)) for p, q in (bids if proposal.is_short else asks)]
        size_usd = (request.amount or 0.0) * request.rate
        return book_depth_decision(levels, size_usd, self._gates.min_book_depth_multiple)


_EXPOSURE_CAPS = {ReasonCode.CAP_POSITION: SizingCap.POSITION,
                  ReasonCode.CAP_TOTAL: SizingCap.TOTAL,
                  ReasonCode.CAP_EXCHANGE: SizingCap.EXCHANGE,
                  ReasonCode.SIZE_ABOVE_BALANCE: SizingCap.BALANCE}


@dataclass(frozen=True)
class SizingRecord:
    """One sizing decision: where its risk fraction came from and every cap that cut it."""

    pair: str
    tag: str | None
    at: datetime
    decision: Decision
    basis: RiskBasis
    tag_trades: int  # closed trades of the tag the fraction was measured on
    risk_ratio: float  # before the stake caps
    stake_usd: float
    caps: tuple[SizingCap, ...] = ()
    reached_caps: bool = True  # False: denied before a size existed (no edge, bad stop)

    @property
    def binding(self) -> SizingCap:
        """The cap that bound: the last one that cut (NONE: the size was not capped)."""
        return self.caps[-1] if self.caps else SizingCap.NONE

    def to_json(self) -> dict[str, Any]:
        """The record as the trade's decision trail shows it."""
        return {"stake_usd": round(self.stake_usd, 2), "risk_basis": str(self.basis),
                "risk_ratio": round(self.risk_ratio, 6), "tag_trades": self.tag_trades,
                "caps": [str(c) for c in self.caps], "binding_cap": str(self.binding),
                "decision": str(self.decision.reason), "detail": self.decision.detail}


class SizingTally:
    """Sizing decisions counted by risk basis, and by the cap that bound (of those that
    reached the caps) - what the status and the risk report show."""

    def __init__(self) -> None:
        self.decisions = 0
        self.basis: Counter[str] = Counter()
        self.binding: Counter[str] = Counter()
        self.last: dict[str, SizingRecord] = {}  # per pair: what the decision trail shows

    def __call__(self, record: SizingRecord) -> None:
        self.decisions += 1
        self.last[record.pair] = record
        self.basis[str(record.basis)] += 1
        if record.reached_caps:
            self.binding[str(record.binding)] += 1

    def clear(self) -> None:
        self.decisions = 0
        self.basis.clear()
        self.binding.clear()
        self.last.clear()

    def as_dict(self) -> dict[str, Any]:
        return {"decisions": self.decisions, "risk_basis": dict(self.basis.most_common()),
                "cap_binding": dict(self.binding.most_common())}


class PositionSizer:
    """Equity x fractional-Kelly risk (the tag's realised trades) / stop distance, shrunk by
    confidence, volatility, regime, loss streak, interventions and the gates' scales; then
    the exposure caps."""

    name = "position_sizing"

    def __init__(self, settings: RiskSettings, rows: CandleRows, stops: StopModel,
                 account: Account, interventions: InterventionBook, candles_per_day: int,
                 trades: TradeRecord, on_sized: Callable[[SizingRecord], None] | None = None):
        self._settings = settings
        self._rows = rows
        self._stops = stops
        self._account = account
        self._interventions = interventions
        self._candles_per_day = candles_per_day
        self._trades = trades
        self._on_sized = on_sized

    def stake(self, proposal: EntryProposal, request: EntryRequest, scale: float
              ) -> tuple[Decision, float]:
        settings, now = self._settings, request.now
        row = self._rows.row(proposal.pair, now)
        equity = self._account.equity_usd(now)
        losses = consecutive_losses(
            self._account.closed_profits(settings.breakers.pause_after_losses + 1))
        streak = loss_streak_scale(losses, settings.breakers.reduce_after_losses,
                                   settings.breakers.reduce_size_factor)
        record = self._trades.of_tag(proposal.tag, now)
        sized = size_position(SizingInputs(
            equity_usd=equity,
            stop_distance_ratio=self._stops.stop_distance(row, request.rate, proposal.is_short),
            leverage=request.leverage,
            record=record,
            confidence=proposal.confidence,
            sigma_per_candle_ratio=finite(row, "risk_sigma"),
            candles_per_day=self._candles_per_day,
            regime_position_scale=finite(row, "regime_position_scale") or 1.0,
            external_scale=scale,
            state_scale=streak.scale * self._interventions.size_multiplier(proposal.pair, now),
        ), settings.sizing)
        if not sized.decision.allowed:
            return self._recorded(proposal, now, record, sized, sized.decision, 0.0,
                                  sized.caps, reached_caps=False)
        caps = list(sized.caps)
        if sized.stake_usd > request.max_stake_usd:
            caps.append(SizingCap.MAX_STAKE)
        stake, capped = cap_stake(
            min(sized.stake_usd, request.max_stake_usd), equity_usd=equity,
            available_usd=self._account.available_usd(request.max_stake_usd),
            exchange=self._account.exchange_name, open_positions=self._account.open_exposures(),
            min_stake_usd=request.min_stake_usd or 0.0, settings=settings.caps)
        if capped.reason in _EXPOSURE_CAPS:
            caps.append(_EXPOSURE_CAPS[capped.reason])
        logger.debug("%s sized %.2f USD (risk %.4f, %s, factors %s, caps %s, %s)",
                     proposal.pair, stake, sized.risk_ratio, sized.basis, sized.factors, caps,
                     capped.reason)
        return self._recorded(proposal, now, record, sized, capped,
                              stake if capped.allowed else 0.0, tuple(caps))

    def _recorded(self, proposal: EntryProposal, now: datetime, record: TagRecord,
                  sized: SizingResult, decision: Decision, stake: float,
                  caps: tuple[SizingCap, ...], reached_caps: bool = True
                  ) -> tuple[Decision, float]:
        if self._on_sized is not None:
            self._on_sized(SizingRecord(proposal.pair, proposal.tag, now, decision, sized.basis,
                                        record.trades, sized.risk_ratio, stake, caps,
                                        reached_caps))
        return decision, stake
