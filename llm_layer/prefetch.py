"""Live: the opinion is requested when the entry signal forms; the entry only reads it.

Freqtrade sizes (``custom_stake_amount``) and confirms (``confirm_trade_entry``) an entry on
its main loop, right after the candle's analysis; neither may wait on the network. The desk
runs each request on a small thread pool and answers reads at once:

- resolved: the decision (kept for the candidate, so sizing and confirmation agree);
- still running within ``timeout_secs`` of the request: ``LLM_PENDING`` - the entry is deferred,
  and freqtrade retries it on its next loop while the signal stands;
- still running after ``timeout_secs``: ``LLM_TIMEOUT`` under the failure policy, frozen and
  reported to ``on_timeout`` (which records it; the late answer is recorded on its own);
- never requested: None (the caller decides; the veto treats it as a miss).

``clock`` is injected (monotonic seconds); nothing here reads the wall clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

from centaur.decision import Decision, ReasonCode
from centaur.settings.llm import FailurePolicy
from llm_layer.verdict import failure_decision

logger = logging.getLogger(__name__)

CandidateKey = tuple[str, str, datetime]  # pair, side, decided_at


def pending_decision(waited_secs: float) -> Decision:
    return Decision(allowed=False, reason=ReasonCode.LLM_PENDING,
                    detail=f"opinion requested {waited_secs:.2f} s ago, not in yet")


@dataclass
class _Request:
    future: Future
    requested_at: float


class PrefetchDesk:
    def __init__(self, timeout_secs: float, policy: FailurePolicy, workers: int,
                 on_timeout: Callable[[CandidateKey, Decision], None],
                 clock: Callable[[], float] = time.monotonic):
        self._timeout_secs = timeout_secs
        self._on_timeout = on_timeout
        self._policy = policy
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="centaur-llm")
        self._requests: dict[CandidateKey, _Request] = {}
        self._resolved: dict[CandidateKey, Decision] = {}
        self._lock = threading.Lock()

    def request(self, key: CandidateKey, decide: Callable[[], Decision]) -> bool:
        """Start ``decide`` for ``key`` unless it is already requested; True if started."""
        with self._lock:
            if key in self._requests or key in self._resolved:
                return False
            self._requests[key] = _Request(self._executor.submit(decide), self._clock())
            return True

    def read(self, key: CandidateKey) -> Decision | None:
        with self._lock:
            if key in self._resolved:
                return self._resolved[key]
            request = self._requests.get(key)
            if request is None:
                return None
            waited = self._clock() - request.requested_at
            if request.future.done():
                decision = request.future.result()  # decide() returns values, never raises
            elif waited > self._timeout_secs:
                decision = failure_decision(ReasonCode.LLM_TIMEOUT, self._policy,
                                            f"no opinion {waited:.2f} s after the request")
                self._on_timeout(key, decision)
            else:
                return pending_decision(waited)
            self._resolved[key] = decision
            return decision

    def forget_before(self, cutoff: datetime) -> None:
        """Drop candidates decided before ``cutoff`` (their candle has passed)."""
        with self._lock:
            for key in [k for k in self._requests if k[2] < cutoff]:
                self._requests.pop(key)
            for key in [k for k in self._resolved if k[2] < cutoff]:
                self._resolved.pop(key)

    def in_flight(self) -> int:
        with self._lock:
            return sum(1 for key, r in self._requests.items()
                       if key not in self._resolved and not r.future.done())

    def wait_idle(self, timeout_secs: float) -> bool:
        """Wait for the requests in flight (shutdown, benchmarks); True if none is left."""
        with self._lock:
            futures = [r.future for r in self._requests.values()]
        _, not_done = wait(futures, timeout=timeout_secs)
        return not not_done

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
