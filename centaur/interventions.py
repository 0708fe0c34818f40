"""Bounded, expiring interventions on the trading loop, by the LLM circuit breaker or an operator.

An ``Intervention`` is data: what (kind), where (pair or all), how much (value), until when,
by whom and why. The breaker (``risk_protections``' LLM circuit breaker) writes accepted ones;
the risk layer reads the ones active at ``now`` and applies them inside its own clamps; the
operator lists and revokes them (Telegram / REST). Nothing here reads the wall clock.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from centaur.state import StateStore

_NAMESPACE = "interventions"


class InterventionKind(StrEnum):
    CONVICTION = "adjust_conviction"  # value: entry confidence threshold (0.60-0.85)
    POSITION_SIZE = "adjust_position_size"  # value: stake multiplier (0.25-1.5)
    LEVERAGE = "adjust_leverage"  # value: leverage ceiling (within the risk layer's clamps)
    DISABLE_SHORTS = "disable_shorts"  # no value
    DISABLE_ASSET = "disable_asset"  # no value; expires_at carries the duration


@dataclass(frozen=True)
class Intervention:
    kind: InterventionKind
    pair: str | None  # None: every pair
    value: float | None
    created_at: datetime
    expires_at: datetime
    source: str  # "llm_breaker" | "operator"
    reason: str
    id: str = ""
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.created_at <= now < self.expires_at

    def applies_to(self, pair: str) -> bool:
        return self.pair is None or self.pair == pair

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("created_at", "expires_at", "revoked_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Intervention:
        return cls(
            kind=InterventionKind(raw["kind"]), pair=raw["pair"], value=raw["value"],
            created_at=datetime.fromisoformat(raw["created_at"]),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
            source=raw["source"], reason=raw["reason"], id=raw["id"],
            revoked_at=datetime.fromisoformat(raw["revoked_at"]) if raw["revoked_at"] else None,
        )


class InterventionBook:
    """The persisted interventions, and what the active ones mean for one pair at ``now``."""

    def __init__(self, store: StateStore):
        self._store = store

    def add(self, intervention: Intervention) -> Intervention:
        stored = intervention if intervention.id else \
            Intervention(**{**asdict(intervention), "id": uuid.uuid4().hex[:12]})
        self._store.put(_NAMESPACE, stored.id, stored.to_json())
        return stored

    def revoke(self, intervention_id: str, now: datetime) -> Intervention | None:
        raw = self._store.get(_NAMESPACE, intervention_id)
        if raw is None:
            return None
        revoked = Intervention(**{**asdict(Intervention.from_json(raw)), "revoked_at": now})
        self._store.put(_NAMESPACE, intervention_id, revoked.to_json())
        return revoked

    def all(self) -> list[Intervention]:
        return [Intervention.from_json(raw) for raw in self._store.items(_NAMESPACE).values()]

    def active(self, now: datetime, pair: str | None = None) -> list[Intervention]:
        return [i for i in self.all() if i.active(now) and (pair is None or i.applies_to(pair))]

    # --- what the active interventions mean (most restrictive wins) ------------------------

    def size_multiplier(self, pair: str, now: datetime) -> float:
        values = [i.value for i in self.active(now, pair)
                  if i.kind is InterventionKind.POSITION_SIZE and i.value is not None]
        return min(values, default=1.0)

    def conviction_threshold(self, pair: str, now: datetime) -> float | None:
        values = [i.value for i in self.active(now, pair)
                  if i.kind is InterventionKind.CONVICTION and i.value is not None]
        return max(values, default=None)

    def leverage_ceiling(self, pair: str, now: datetime) -> float | None:
        values = [i.value for i in self.active(now, pair)
                  if i.kind is InterventionKind.LEVERAGE and i.value is not None]
        return min(values, default=None)

    def shorts_disabled(self, pair: str, now: datetime) -> bool:
        return any(i.kind is InterventionKind.DISABLE_SHORTS for i in self.active(now, pair))

    def asset_disabled_until(self, pair: str, now: datetime) -> datetime | None:
        ends = [i.expires_at for i in self.active(now, pair)
                if i.kind is InterventionKind.DISABLE_ASSET]
        return max(ends, default=None)
