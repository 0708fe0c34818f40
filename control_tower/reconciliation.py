"""Rule: every holding the bot expects is at its venue, in its quantity, and nothing else is.

A holding is one (venue, market, asset): a perpetual's signed base position (``futures``,
asset = the pair, short negative) or a spot balance of a base asset (``spot``, asset = the
base currency: the spot trading mode's trades and the carry's spot hedge legs). The expected
quantities come from freqtrade's open trades (split per venue by the order router's children)
and the hedge's open legs; the reported ones from each venue (ccxt ``fetch_positions`` /
``fetch_balance``). A difference within the tolerance - ``max(ratio x quantity, dust)``, the
dust being a lot or a fee charged in the base - agrees; beyond it, the holding drifts:

- ``MISSING_AT_VENUE``: the bot holds it, the venue shows (about) nothing - a lost fill;
- ``UNKNOWN_AT_VENUE``: the venue shows a holding the bot does not know;
- ``QUANTITY_MISMATCH``: both hold it, in quantities (or directions) that disagree.

Pure: quantities in, drifts out, sorted by holding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Market(StrEnum):
    FUTURES = "futures"  # asset: the perpetual's pair, signed base quantity
    SPOT = "spot"  # asset: the base currency, balance in base units


@dataclass(frozen=True, order=True)
class Holding:
    venue: str
    market: Market
    asset: str

    def __str__(self) -> str:
        return f"{self.venue}:{self.market}:{self.asset}"


class DriftKind(StrEnum):
    MISSING_AT_VENUE = "MISSING_AT_VENUE"
    UNKNOWN_AT_VENUE = "UNKNOWN_AT_VENUE"
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"


@dataclass(frozen=True)
class Drift:
    holding: Holding
    kind: DriftKind
    expected_base: float
    reported_base: float

    def as_dict(self) -> dict[str, Any]:
        return {"venue": self.holding.venue, "market": str(self.holding.market),
                "asset": self.holding.asset, "kind": str(self.kind),
                "expected_base": self.expected_base, "reported_base": self.reported_base}

    def text(self) -> str:
        return (f"{self.kind} {self.holding}: bot {self.expected_base:g}, "
                f"venue {self.reported_base:g}")


@dataclass(frozen=True)
class Tolerance:
    """``ratio`` of the larger quantity, at least ``dust_base`` of the holding (its lot or a
    fee charged in the base) - ``default_dust_base`` where none is given."""

    ratio: float = 0.0
    dust_base: Mapping[Holding, float] = field(default_factory=dict)
    default_dust_base: float = 1e-9

    def allowed(self, holding: Holding, expected: float, reported: float) -> float:
        dust = self.dust_base.get(holding, self.default_dust_base)
        return max(self.ratio * max(abs(expected), abs(reported)), dust)


def reconcile(expected: Mapping[Holding, float], reported: Mapping[Holding, float],
              tolerance: Tolerance) -> list[Drift]:
    """The holdings whose venue quantity disagrees with the bot's beyond ``tolerance``
    (holdings absent from a mapping count as zero)."""
    drifts = []
    for holding in sorted(set(expected) | set(reported)):
        want, have = expected.get(holding, 0.0), reported.get(holding, 0.0)
        allowed = tolerance.allowed(holding, want, have)
        if abs(have - want) <= allowed:
            continue
        if abs(want) <= allowed:
            kind = DriftKind.UNKNOWN_AT_VENUE
        elif abs(have) <= allowed:
            kind = DriftKind.MISSING_AT_VENUE
        else:
            kind = DriftKind.QUANTITY_MISMATCH
        drifts.append(Drift(holding, kind, want, have))
    return drifts


def summed(*parts: Mapping[Holding, float]) -> dict[Holding, float]:
    """Quantities added holding by holding (the trades' and the hedge's spot of one asset)."""
    out: dict[Holding, float] = {}
    for part in parts:
        for holding, quantity in part.items():
            out[holding] = out.get(holding, 0.0) + quantity
    return out
