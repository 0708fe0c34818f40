"""The spot hedge's request and result types, and their persistent records per leg.

A leg is one (trade, action): ``open`` buys the spot, ``close`` sells it. ``HedgeLegStore``
keeps each leg's ``LegRecord`` in the suite's checked SQLite store (``centaur.state``: one
transaction per write, checksummed values), so a restarted bot knows which legs filled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from centaur.state import StateStore

SIDES = {"open": "buy", "close": "sell"}


@dataclass(frozen=True)
class HedgeRequest:
    trade_id: int
    perp_pair: str  # "BTC/USDT:USDT"; the spot symbol is derived: "BTC/USDT"
    action: str  # "open" (buy spot) | "close" (sell spot)
    base_amount: float  # the perp leg's base quantity
    reference_price: float  # the perp fill price (slippage is measured against it)
    # What makes the trade unique beyond its id (e.g. its open time): part of the client order
    # id, so a trade database started afresh (ids from 1 again) never meets an old order's id.
    key: str = ""

    @property
    def parent_id(self) -> str:
        return f"carry-{self.trade_id}{'-' + self.key if self.key else ''}-{self.action}"

    def __post_init__(self) -> None:
        if self.action not in SIDES:
            raise ValueError(f"HedgeRequest.action must be 'open' or 'close', got {self.action!r}")
        if self.base_amount <= 0:
            raise ValueError(f"HedgeRequest.base_amount must be positive, got {self.base_amount}")

    @property
    def spot_symbol(self) -> str:
        return self.perp_pair.split(":")[0]

    @property
    def side(self) -> str:
        return SIDES[self.action]


@dataclass(frozen=True)
class HedgeResult:
    request: HedgeRequest
    client_order_id: str
    status: str  # filled | rejected | pending (unknown: execute the same request again later)
    filled_base: float
    average_price: float
    fee_quote: float  # every fee, valued in quote
    reason: str  # the venue's error text (credentials masked); "" when filled
    fee_base: float = 0.0  # commission charged in the base asset: bought, but not held

    @property
    def done(self) -> bool:
        return self.status == "filled"

    @property
    def held_base(self) -> float:
        """What an open leg left in the account: its fill less its base commission."""
        return self.filled_base - self.fee_base

    @property
    def slippage_bps(self) -> float:
        """Price paid against the perp fill, in bps; positive is worse for the hedge."""
        if not self.filled_base or not self.request.reference_price:
            return 0.0
        sign = 1 if self.request.side == "buy" else -1
        return sign * (self.average_price / self.request.reference_price - 1) * 1e4


@dataclass(frozen=True)
class LegRecord:
    """A leg's phase (``intent`` before its order leaves, then its result's status, or
    ``unsent`` when the venue certainly has no order), the amount sent and when, and its
    result once there is one."""

    phase: str
    client_order_id: str
    amount_base: float
    sent_ms: int
    result: HedgeResult | None

    @property
    def final(self) -> bool:
        """The venue holds a finished order for this id (filled, partly filled or expired):
        the id is spent, the leg is never sent again. A leg the venue refused is not final."""
        return self.result is not None and (self.phase in ("filled", "rejected")
                                            or self.result.filled_base > 0)

    @property
    def maybe_sent(self) -> bool:
        """Its order may be on the venue: ask for its id before sending anything."""
        return self.phase in ("intent", "pending") and self.amount_base > 0


class HedgeLegStore:
    """Legs by (trade id, action), each change written through. Read once from the state
    file, then kept in memory (the bot that owns the file is its only writer): the bot loop
    asks for the open legs every few seconds."""

    NAMESPACE = "hedge.legs"

    def __init__(self, store: StateStore):
        self._store = store
        self._legs: dict[str, LegRecord] | None = None

    def _loaded(self) -> dict[str, LegRecord]:
        if self._legs is None:
            self._legs = {key: _record(value)
                          for key, value in self._store.items(self.NAMESPACE).items()}
        return self._legs

    def put(self, request: HedgeRequest, record: LegRecord) -> None:
        key = f"{request.trade_id}:{request.action}"
        self._store.put(self.NAMESPACE, key, asdict(record))
        self._loaded()[key] = record

    def get(self, trade_id: int, action: str) -> LegRecord | None:
        return self._loaded().get(f"{trade_id}:{action}")

    def items(self) -> dict[str, LegRecord]:
        """Legs by their key, ``"<trade id>:<action>"``."""
        return dict(self._loaded())

    def all(self) -> list[LegRecord]:
        return list(self._loaded().values())


def _record(value: dict[str, Any]) -> LegRecord:
    result = value.get("result")
    if result is not None:
        result = HedgeResult(**{**result, "request": HedgeRequest(**result["request"])})
    return LegRecord(value["phase"], value["client_order_id"], value["amount_base"],
                     value["sent_ms"], result)
