"""Daily budgets for calls to the endpoint: a pure check over the day's usage (UTC days).

Only calls to the endpoint count; cache hits and replays are free. The usage is persisted in
the record store (``centaur.llm.store``), which reserves a call atomically before it is made,
so concurrent prefetches cannot overshoot the call limit. Tokens are known only after a call:
the token limit stops the next call once the day's total has reached it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from centaur.settings.llm import BudgetSettings


@dataclass(frozen=True)
class BudgetUsage:
    calls: int = 0
    tokens: int = 0


def utc_day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def exhausted(usage: BudgetUsage, limits: BudgetSettings) -> str | None:
    """Why one more call is not allowed today, or None if it is."""
    if usage.calls >= limits.max_calls_per_day:
        return f"daily call budget spent ({usage.calls}/{limits.max_calls_per_day} calls)"
    if usage.tokens >= limits.max_tokens_per_day:
        return f"daily token budget spent ({usage.tokens}/{limits.max_tokens_per_day} tokens)"
    return None
