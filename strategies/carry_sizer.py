"""Carry sizing: an equal share of the two-leg capital per pair, under a per-venue cap.

A pair's share of the capital is ``equity / pairs``; ``1 / (1 + leverage)`` of it is the
perp's margin (freqtrade's stake) and the rest buys the spot leg. The venue cap bounds the
capital held on one exchange (perp margin plus spot legs, ``max_venue_capital_ratio`` of
equity): counterparty risk, whatever the funding pays. There is no stop-distance sizing here:
the two legs hedge each other's price risk, so the fractional-Kelly sizer of directional
trades does not apply (its breakers and halts still do, through the gates and the account).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from centaur.decision import Decision, ReasonCode
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings.carry import CarrySettings


@dataclass(frozen=True)
class VenueCapital:
    """Capital on the venue now: the open trades' margin and their spot legs."""

    equity_usd: float
    open_margin_usd: float  # freqtrade's stakes of the open carry trades


def carry_stake(settings: CarrySettings, venue: VenueCapital, pairs: int, scale: float,
                min_stake_usd: float, max_stake_usd: float) -> tuple[Decision, float]:
    """The perp margin for one more carry position, or a denial with its reason."""
    share = settings.perp_margin_share()
    stake = venue.equity_usd * share / max(pairs, 1) * scale
    room = venue.equity_usd * settings.max_venue_capital_ratio * share - venue.open_margin_usd
    capped = min(stake, room, max_stake_usd)
    if capped < min_stake_usd or capped <= 0:
        reason = ReasonCode.CAP_EXCHANGE if room < stake else ReasonCode.BELOW_MIN_STAKE
        return Decision(False, reason, f"stake {capped:.2f} USD below the minimum "
                        f"{min_stake_usd:.2f} (venue room {room:.2f} USD of margin)"), 0.0
    return Decision(True, ReasonCode.OK, scale=scale), capped


class CarrySizer:
    """The pipeline's sizer for carry entries (``carry_stake`` with the account's numbers)."""

    name = "carry_sizing"

    def __init__(self, settings: CarrySettings, venue: Callable[[EntryRequest], VenueCapital],
                 pairs: Callable[[], int]):
        self._settings = settings
        self._venue = venue
        self._pairs = pairs

    def stake(self, proposal: EntryProposal, request: EntryRequest, scale: float
              ) -> tuple[Decision, float]:
        return carry_stake(self._settings, self._venue(request), self._pairs(), scale,
                           request.min_stake_usd or 0.0, request.max_stake_usd)


class HedgeReadyGate:
    """No carry entry without a spot price for the hedge leg at the entry."""

    name = "hedge_ready"

    def __init__(self, spot_price: Callable[[str, EntryRequest], float | None]):
        self._spot_price = spot_price

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return Decision.allow()

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        if self._spot_price(proposal.pair, request) is None:
            return Decision(False, ReasonCode.HEDGE_UNAVAILABLE,
                            "no spot price for the hedge leg at this candle")
        return Decision.allow()
