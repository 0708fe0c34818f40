"""What a venue's error means for a child order, in ccxt's own error classes.

``classify`` maps a ccxt error to what the router does next (a table, most specific first):
the child was certainly not placed (re-route it; a throttled or failing venue also sits out a
cool-down), or its fate is unknown (ask the venue by client order id before anything else).

``translate`` fixes one ccxt quirk: ccxt ``binance`` picks its USDT-M error-code table from the
request URL (``binance.get_exceptions_by_url``: only ``https://fapi.binance.com/...``), so the
same venue answer on any other URL (a testnet proxy, the local venue) comes back as a bare
``ExchangeError``. The code table is ccxt's own; only the section is chosen by market type.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

import ccxt


class Outcome(StrEnum):
    REJECTED = "rejected"  # the venue refused this child (size, balance): re-route it
    THROTTLED = "throttled"  # rate limited: not placed; venue cools down, re-route
    UNKNOWN = "unknown"  # timeout, lost answer, 5xx: ask the venue by client id first
    VENUE_ERROR = "venue_error"  # any other venue failure: not placed; cool down, re-route


# ccxt class -> outcome, most specific first (ccxt 4.5's hierarchy: RateLimitExceeded,
# DDoSProtection, RequestTimeout and ExchangeNotAvailable are NetworkErrors; InsufficientFunds
# and InvalidOrder are ExchangeErrors).
OUTCOMES: tuple[tuple[type[Exception], Outcome], ...] = (
    (ccxt.RateLimitExceeded, Outcome.THROTTLED),
    (ccxt.DDoSProtection, Outcome.THROTTLED),
    (ccxt.InsufficientFunds, Outcome.REJECTED),
    (ccxt.InvalidOrder, Outcome.REJECTED),
    (ccxt.BadSymbol, Outcome.REJECTED),
    # RequestTimeout, ExchangeNotAvailable, connection resets, and OperationFailed (Binance
    # -1001 on HTTP 5xx): "the execution status is UNKNOWN and could have been a success"
    # (Binance API docs, "General API Information", HTTP 5XX).
    (ccxt.OperationFailed, Outcome.UNKNOWN),
    (ccxt.BaseError, Outcome.VENUE_ERROR),
)


def classify(error: Exception) -> Outcome:
    for error_class, outcome in OUTCOMES:
        if isinstance(error, error_class):
            return outcome
    return Outcome.VENUE_ERROR


# ccxt id -> exceptions section chosen by the market's type (see the module docstring).
SECTION_BY_MARKET_TYPE: dict[str, dict[str, str]] = {
    "binance": {"swap": "linear", "future": "linear", "spot": "spot", "margin": "spot"},
}


def translate(error: Exception, api: Any, market: dict[str, Any] | None) -> Exception:
    """``error`` re-typed with ccxt's table for the market's section, when ccxt fell back to a
    bare ``ExchangeError`` only because of the URL; otherwise ``error`` unchanged."""
    sections = SECTION_BY_MARKET_TYPE.get(getattr(api, "id", ""))
    if type(error) is not ccxt.ExchangeError or not sections or not market:
        return error
    section = sections.get(market.get("type", ""), "")
    if market.get("inverse"):
        section = "inverse"
    code = _error_code(str(error))
    mapped = api.exceptions.get(section, {}).get("exact", {}).get(code) if code else None
    if mapped is None or mapped is ccxt.ExchangeError:
        return error
    translated = mapped(str(error))
    translated.__cause__ = error
    return translated


def _error_code(message: str) -> str | None:
    match = re.search(r"\{.*\}", message)
    if not match:
        return None
    try:
        code = json.loads(match.group(0)).get("code")
    except (ValueError, AttributeError):
        return None
    return str(code) if code is not None else None
