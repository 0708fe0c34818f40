"""The risk rules as entry-pipeline gates (``centaur.pipeline``), in the order they run.

Each gate is a small object over injected collaborators (the risk state, the intervention
book, the candle rows, the account, the order book) and a pure rule from its own module; it
returns a ``Decision``. ``PositionSizer`` is the pipeline's sizer: fractional Kelly, volatility
targeting and the caps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
from risk_protections.position_sizing import SizingInputs, size_position
from risk_protections.risk_inputs import Account, CandleRows, StopModel, finite
from risk_protections.sanity_gates import (
    book_depth_decision,
    prediction_decision,
    spread_decision,
)

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
        return self._decide(request, "halted")

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


class PositionSizer:
    """Equity x fractional-Kelly risk / stop distance, shrunk by confidence, volatility,
    regime, loss streak, interventions and the gates' scales; then the exposure caps."""

    name = "position_sizing"

    def __init__(self, settings: RiskSettings, rows: CandleRows, stops: StopModel,
                 account: Account, interventions: InterventionBook, candles_per_day: int):
        self._settings = settings
        self._rows = rows
        self._stops = stops
        self._account = account
        self._interventions = interventions
        self._candles_per_day = candles_per_day

    def stake(self, proposal: EntryProposal, request: EntryRequest, scale: float
              ) -> tuple[Decision, float]:
        settings, now = self._settings, request.now
        row = self._rows.row(proposal.pair, now)
        equity = self._account.equity_usd(now)
        losses = consecutive_losses(
            self._account.closed_profits(settings.breakers.pause_after_losses + 1))
        streak = loss_streak_scale(losses, settings.breakers.reduce_after_losses,
                                   settings.breakers.reduce_size_factor)
        sized = size_position(SizingInputs(
            equity_usd=equity,
            stop_distance_ratio=self._stops.stop_distance(row, request.rate, proposal.is_short),
            leverage=request.leverage,
            signal_stats=proposal.stats,
            confidence=proposal.confidence,
            sigma_per_candle_ratio=finite(row, "risk_sigma"),
            candles_per_day=self._candles_per_day,
            regime_position_scale=finite(row, "regime_position_scale") or 1.0,
            external_scale=scale,
            state_scale=streak.scale * self._interventions.size_multiplier(proposal.pair, now),
        ), settings.sizing)
        if not sized.decision.allowed:
            return sized.decision, 0.0
        stake, capped = cap_stake(
            min(sized.stake_usd, request.max_stake_usd), equity_usd=equity,
            available_usd=self._account.available_usd(request.max_stake_usd),
            exchange=self._account.exchange_name, open_positions=self._account.open_exposures(),
            min_stake_usd=request.min_stake_usd or 0.0, settings=settings.caps)
        if not capped.allowed:
            return capped, 0.0
        logger.debug("%s sized %.2f USD (risk %.4f, factors %s, %s)", proposal.pair, stake,
                     sized.risk_ratio, sized.factors, capped.reason)
        return capped, stake
