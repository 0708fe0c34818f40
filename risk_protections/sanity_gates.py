"""Sanity gates before an entry: spread, book depth (live), model outputs, balance."""

from __future__ import annotations

import math

from centaur.decision import Decision, ReasonCode


def spread_decision(best_bid: float, best_ask: float, max_spread_bps: float) -> Decision:
    if best_bid <= 0 or best_ask <= 0 or best_ask < best_bid:
        return Decision(False, ReasonCode.SPREAD_TOO_WIDE, f"crossed or empty book "
                                                           f"({best_bid}/{best_ask})")
    spread_bps = (best_ask - best_bid) / ((best_ask + best_bid) / 2) * 1e4
    if spread_bps > max_spread_bps:
        return Decision(False, ReasonCode.SPREAD_TOO_WIDE,
                        f"spread {spread_bps:.1f} bps > {max_spread_bps} bps")
    return Decision.allow()


def book_depth_decision(levels: list[tuple[float, float]], size_usd: float, multiple: float,
                        band_bps: float = 50.0) -> Decision:
    """``levels``: the side the order takes from, best first, as (price, amount)."""
    if not levels:
        return Decision(False, ReasonCode.BOOK_TOO_THIN, "empty book side")
    best = levels[0][0]
    depth_usd = sum(p * q for p, q in levels if abs(p - best) / best * 1e4 <= band_bps)
    if depth_usd < multiple * size_usd:
        return Decision(False, ReasonCode.BOOK_TOO_THIN,
                        f"{depth_usd:.0f} USD within {band_bps:.0f} bps < {multiple} x "
                        f"{size_usd:.0f} USD")
    return Decision.allow()


def prediction_decision(values: dict[str, float], bounds: dict[str, tuple[float, float]]
                        ) -> Decision:
    """A model output outside plausible bounds (or NaN) is a data error, not an opportunity."""
    for column, (low, high) in bounds.items():
        if column not in values:
            continue
        value = values[column]
        if value is None or not math.isfinite(value) or not (low <= value <= high):
            return Decision(False, ReasonCode.IMPLAUSIBLE_PREDICTION,
                            f"{column}={value!r} outside [{low}, {high}]")
    return Decision.allow()
