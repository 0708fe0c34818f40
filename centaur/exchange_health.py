"""Exchange health: the outcome of every order and book request the exchange class makes.

``ExchangeHealthMixin`` wraps freqtrade's ``Exchange`` methods on the order path; each failure
is recorded with its time in the process-wide ``HEALTH`` monitor, which the risk layer reads
to decide safe mode (``exchange_error_rate``). Each call's duration is counted too, per venue
and method (``calls``: requests, failures, seconds - the metrics endpoint's venue API latency
and error rate). Recording never changes what the call returns or raises.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from freqtrade.exceptions import (
    DDosProtection,
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderException,
    TemporaryError,
)

RECORDED_ERRORS = (ExchangeError, TemporaryError, DDosProtection, InvalidOrderException,
                   InsufficientFundsError)


@dataclass
class CallStats:
    """Requests of one (venue, method): how many, how many failed, their summed duration."""

    requests: int = 0
    failures: int = 0
    seconds: float = 0.0


class ExchangeHealth:
    """Failure times of exchange requests, newest last (bounded); call counts and durations."""

    def __init__(self, keep: int = 1000):
        self._errors: deque[tuple[datetime, str]] = deque(maxlen=keep)
        self._calls: dict[tuple[str, str], CallStats] = {}
        self._lock = threading.Lock()

    def record_call(self, venue: str, method: str, seconds: float, failed: bool) -> None:
        with self._lock:
            stats = self._calls.setdefault((venue, method), CallStats())
            stats.requests += 1
            stats.failures += int(failed)
            stats.seconds += seconds

    def calls(self) -> dict[tuple[str, str], CallStats]:
        with self._lock:
            return {key: CallStats(s.requests, s.failures, s.seconds)
                    for key, s in self._calls.items()}

    def record_error(self, when: datetime, what: str) -> None:
        with self._lock:
            self._errors.append((when, what))

    def error_times(self) -> list[datetime]:
        with self._lock:
            return [when for when, _ in self._errors]

    def recent(self, limit: int = 10) -> list[tuple[datetime, str]]:
        with self._lock:
            return list(self._errors)[-limit:]

    def clear(self) -> None:
        with self._lock:
            self._errors.clear()
            self._calls.clear()

    # Hyperopt pickles the strategy's modules by value into its workers; a lock does not travel.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


HEALTH = ExchangeHealth()


def _watched(name: str):
    def wrapper(self, *args, **kwargs):
        started = time.perf_counter()  # a measurement, not a decision input
        failed = True
        try:
            result = getattr(super(ExchangeHealthMixin, self), name)(*args, **kwargs)
            failed = False
            return result
        except RECORDED_ERRORS as err:
            HEALTH.record_error(datetime.now(UTC), f"{name}: {type(err).__name__}: {err}")
            raise
        finally:
            HEALTH.record_call(str(getattr(self, "name", "exchange")).lower(), name,
                               time.perf_counter() - started, failed)
    wrapper.__name__ = name
    return wrapper


class ExchangeHealthMixin:
    """Records failures of the order path (place, cancel, query, book) in ``HEALTH``."""

    create_order = _watched("create_order")
    cancel_order = _watched("cancel_order")
    fetch_order = _watched("fetch_order")
    fetch_l2_order_book = _watched("fetch_l2_order_book")
