"""The router's journal: parents (freqtrade's orders) and their children, persisted.

A child is written *before* its request leaves (state ``intent``) with the client order id it
will carry; every change after that is written too. After a crash, a timeout or a lost answer,
the journal says which ids may exist on which venue, so the router asks before it sends.
Records live in the suite's state store (``centaur.state``), namespaces ``sor.parents`` and
``sor.children``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from centaur.state import StateStore

TERMINAL = frozenset({"closed", "canceled", "expired", "rejected", "lost"})


@dataclass
class ChildRecord:
    client_order_id: str
    parent_id: str
    leg: int
    venue: str
    symbol: str
    side: str
    amount_base: float
    price: float | None
    order_type: str  # limit | market
    time_in_force: str  # GTC | IOC
    reduce_only: bool = False
    sent_ms: int = 0
    state: str = "intent"  # intent, open, unknown, then a TERMINAL state
    venue_order_id: str | None = None
    filled_base: float = 0.0
    average: float | None = None
    fee_quote: float = 0.0
    fee_estimated: bool = False
    logged_base: float = 0.0  # what the fills log already holds
    logged_cost: float = 0.0
    logged_fee: float = 0.0
    error: str = ""

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def cost_quote(self) -> float:
        return self.filled_base * (self.average or 0.0)

    @property
    def signed_filled(self) -> float:
        return self.filled_base if self.side == "buy" else -self.filled_base


@dataclass
class ParentRecord:
    parent_id: str
    pair: str
    side: str
    amount_base: float
    order_type: str  # what freqtrade asked for
    rate: float
    reduce_only: bool
    leverage: float
    created_ms: int
    arrival_mid: float
    dry_run: bool
    strategy: str = ""
    mode: str = "taking"  # taking: IOC children at the plan's prices; limit: GTC at ``rate``
    pending_base: float = 0.0  # to route at the next step
    slices_left: int = 0
    slice_base: float = 0.0
    slice_interval_secs: float = 0.0
    next_slice_ms: int | None = None
    limit_deadline_ms: int | None = None
    canceled: bool = False
    legs: int = 0
    child_ids: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)  # reason-coded notes, in order

    def note(self, text: str) -> None:
        self.decisions.append(text)


def _from_dict(cls, data: dict[str, Any]):
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


class Journal:
    """Parents and children by id, cached in memory, each change written through."""

    PARENTS, CHILDREN = "sor.parents", "sor.children"

    def __init__(self, store: StateStore):
        self._store = store
        self.parents = {k: _from_dict(ParentRecord, v)
                        for k, v in store.items(self.PARENTS).items()}
        self.children = {k: _from_dict(ChildRecord, v)
                         for k, v in store.items(self.CHILDREN).items()}

    def save_parent(self, parent: ParentRecord) -> None:
        self.parents[parent.parent_id] = parent
        self._store.put(self.PARENTS, parent.parent_id, asdict(parent))

    def save_child(self, child: ChildRecord) -> None:
        self.children[child.client_order_id] = child
        self._store.put(self.CHILDREN, child.client_order_id, asdict(child))

    def children_of(self, parent: ParentRecord) -> list[ChildRecord]:
        return [self.children[c] for c in parent.child_ids if c in self.children]

    def net_position(self, pair: str) -> dict[str, float]:
        """Signed base amount filled per venue on ``pair``, from every child recorded."""
        out: dict[str, float] = {}
        for child in self.children.values():
            if child.symbol == pair and child.filled_base:
                out[child.venue] = out.get(child.venue, 0.0) + child.signed_filled
        return out

    def exposure_quote(self, venue: str, mids: dict[str, float]) -> float:
        """Absolute notional of the positions recorded on ``venue``, at ``mids`` per pair."""
        pairs = {c.symbol for c in self.children.values() if c.venue == venue}
        return sum(abs(self.net_position(p).get(venue, 0.0)) * mids.get(p, 0.0) for p in pairs)
