"""Exchange error rate: too many failed or rejected exchange requests in a window -> safe mode.

No new entries while the window holds ``max_count`` errors or more; it clears by itself once
the window has passed the last burst (open trades keep being managed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from centaur.decision import Decision, ReasonCode


def error_rate_decision(error_times: Sequence[datetime], now: datetime, max_count: int,
                        window: timedelta) -> Decision:
    recent = sorted(t for t in error_times if now - window < t <= now)
    if len(recent) < max_count:
        return Decision.allow()
    return Decision(False, ReasonCode.EXCHANGE_ERROR_RATE,
                    f"{len(recent)} failed exchange requests in the last "
                    f"{window.total_seconds():.0f} s (limit {max_count}); safe mode",
                    until=recent[-max_count] + window)
