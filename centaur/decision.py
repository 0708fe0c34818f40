"""The one decision type every layer reports with: a verdict, a reason code and the detail.

Risk rules, the drift gate, the LLM veto and the router's sanity gates all answer with a
``Decision``; the reason code is what logs, locks, Telegram and reports show, so an operator
can count and filter denials without parsing prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReasonCode(StrEnum):
    """Stable, greppable codes. Add codes here; never reuse one for a different meaning."""

    OK = "OK"
    LOSS_STREAK = "LOSS_STREAK"


@dataclass(frozen=True)
class Decision:
    """``allowed`` False blocks entries until ``until`` (None: until an operator acts)."""

    allowed: bool
    reason: ReasonCode
    detail: str = ""
    until: datetime | None = None

    @classmethod
    def allow(cls) -> Decision:
        return cls(allowed=True, reason=ReasonCode.OK)

    def lock_reason(self) -> str:
        """The text freqtrade stores on a lock: the code first, so /locks can be filtered."""
        return f"[{self.reason}] {self.detail}".strip()
