"""Human GO above a size: an entry whose notional exceeds ``centaur.human_confirm.above_usd``
trades only after an operator's GO given before its request expires; no answer, no trade.

The rule, as pure functions of (requests, now):

- an entry is (pair, side, candle). The first confirm above the limit files a request that
  expires ``timeout_secs`` later and is denied ``HUMAN_GO_PENDING``;
- while a request of the pair and side is live - pending before its expiry, or granted and not
  used within ``timeout_secs`` of the GO - every confirm of that pair and side answers from it,
  so a signal that stands into the next candle is not asked about twice;
- GO before expiry: the next confirm allows (``HUMAN_GO_GRANTED``) and uses the GO up - once,
  and only for up to ``GO_NOTIONAL_TOLERANCE_RATIO`` more than the notional asked about;
- NO: denied (``HUMAN_GO_DENIED``); expiry without an answer: denied (``HUMAN_GO_TIMEOUT``).
  Both hold for the rest of that candle; a later candle's signal files a new request;
- an answer after expiry, to a closed request, or from outside the authorised chat is refused
  (``HUMAN_GO_REFUSED``). Every answer, refused or not, is an ``AnswerRecord``: who and when.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from centaur.decision import Decision, ReasonCode

GO_NOTIONAL_TOLERANCE_RATIO = 0.10


class GoStatus(StrEnum):
    PENDING = "pending"  # filed, waiting for an answer until expires_at
    GRANTED = "granted"  # GO: the next confirm of the pair and side may enter
    DENIED = "denied"  # NO
    TIMEOUT = "timeout"  # expired without an answer
    USED = "used"  # GO consumed by an entry
    LAPSED = "lapsed"  # GO not used in time (or the entry grew past the GO)


CLOSED_REFUSALS = {GoStatus.DENIED: ReasonCode.HUMAN_GO_DENIED,
                   GoStatus.TIMEOUT: ReasonCode.HUMAN_GO_TIMEOUT}


@dataclass(frozen=True)
class Operator:
    """Who answers: ``who`` names the person (telegram user id, REST user), ``via`` the channel;
    ``authorised`` is the channel's own check (freqtrade's chat and user check, REST auth)."""

    who: str
    via: str
    authorised: bool = True


@dataclass(frozen=True)
class GoRequest:
    id: str
    pair: str
    side: str
    candle_time: datetime
    notional_usd: float
    above_usd: float
    tag: str | None
    voters: tuple[str, ...]
    confidence: float
    created_at: datetime
    expires_at: datetime
    status: GoStatus = GoStatus.PENDING
    answered_by: str | None = None
    answered_via: str | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    prompt_chat_id: int | None = None  # the Telegram message that asks, once sent
    prompt_message_id: int | None = None

    @property
    def timeout(self) -> timedelta:
        return self.expires_at - self.created_at

    def go_valid_until(self) -> datetime | None:
        return self.answered_at + self.timeout if self.status == GoStatus.GRANTED else None

    def is_live(self, now: datetime) -> bool:
        if self.status == GoStatus.PENDING:
            return now < self.expires_at
        valid_until = self.go_valid_until()
        return valid_until is not None and now < valid_until

    def to_json(self) -> dict[str, Any]:
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in asdict(self).items()} | {"voters": list(self.voters)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GoRequest:
        times = ("candle_time", "created_at", "expires_at", "answered_at", "closed_at")
        values = {k: datetime.fromisoformat(v) if k in times and v else v
                  for k, v in data.items()}
        return cls(**values | {"voters": tuple(data["voters"]),
                               "status": GoStatus(data["status"])})


@dataclass(frozen=True)
class AnswerRecord:
    """One answer (or timeout) to a request, accepted or refused: the override log."""

    request_id: str
    pair: str
    side: str
    notional_usd: float
    answer: str  # "go" | "no" | "timeout"
    by: str
    via: str
    at: datetime
    accepted: bool
    reason: ReasonCode
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat(), "reason": str(self.reason)}


def needs_go(notional_usd: float, above_usd: float) -> bool:
    return notional_usd > above_usd


def request_id(pair: str, side: str, candle_time: datetime, created_at: datetime) -> str:
    """Short (fits Telegram's 64-byte callback data), stable, unique per filing."""
    text = f"{pair}|{side}|{candle_time.isoformat()}|{created_at.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def file_request(pair: str, side: str, candle_time: datetime, notional_usd: float,
                 above_usd: float, tag: str | None, voters: tuple[str, ...], confidence: float,
                 timeout_secs: int, now: datetime) -> GoRequest:
    return GoRequest(request_id(pair, side, candle_time, now), pair, side, candle_time,
                     notional_usd, above_usd, tag, tuple(voters), confidence, now,
                     now + timedelta(seconds=timeout_secs))


def expire(request: GoRequest, now: datetime) -> GoRequest | None:
    """The request's state once ``now`` has passed its deadline; None: nothing changes."""
    if request.status == GoStatus.PENDING and now >= request.expires_at:
        return replace(request, status=GoStatus.TIMEOUT, closed_at=request.expires_at)
    valid_until = request.go_valid_until()
    if valid_until is not None and now >= valid_until:
        return replace(request, status=GoStatus.LAPSED, closed_at=valid_until)
    return None


def live_request(requests: list[GoRequest], pair: str, side: str, now: datetime
                 ) -> GoRequest | None:
    live = [r for r in requests if r.pair == pair and r.side == side and r.is_live(now)]
    return max(live, key=lambda r: r.created_at, default=None)


def candle_refusal(requests: list[GoRequest], pair: str, side: str, candle_time: datetime
                   ) -> Decision | None:
    """A NO or a timeout answers the rest of its candle."""
    for request in sorted(requests, key=lambda r: r.created_at, reverse=True):
        if (request.pair, request.side, request.candle_time) == (pair, side, candle_time):
            reason = CLOSED_REFUSALS.get(request.status)
            if reason is not None:
                return Decision(False, reason, f"request {request.id}: {request.status} "
                                               f"({request.answered_by or 'no answer'})")
    return None


def confirm_live(request: GoRequest, notional_usd: float, now: datetime
                 ) -> tuple[Decision | None, GoRequest]:
    """A confirm against a live request: the decision and the request after it.
    ``None`` as the decision: the request no longer covers this entry (it lapsed)."""
    if request.status == GoStatus.PENDING:
        left_secs = (request.expires_at - now).total_seconds()
        return Decision(False, ReasonCode.HUMAN_GO_PENDING,
                        f"waiting for an operator's GO on request {request.id} "
                        f"({notional_usd:.2f} USD > {request.above_usd:.2f} USD; "
                        f"{left_secs:.0f} s left)"), request
    if notional_usd > request.notional_usd * (1 + GO_NOTIONAL_TOLERANCE_RATIO):
        return None, replace(request, status=GoStatus.LAPSED, closed_at=now)
    return Decision(True, ReasonCode.HUMAN_GO_GRANTED,
                    f"GO by {request.answered_by} on request {request.id}"), replace(
        request, status=GoStatus.USED, closed_at=now)


def answer(request: GoRequest, go: bool, operator: Operator, now: datetime
           ) -> tuple[GoRequest | None, AnswerRecord]:
    """An operator's GO / NO: the request after it (None: unchanged) and the log record."""
    word = "go" if go else "no"

    def record(accepted: bool, reason: ReasonCode, detail: str = "") -> AnswerRecord:
        return AnswerRecord(request.id, request.pair, request.side, request.notional_usd, word,
                            operator.who, operator.via, now, accepted, reason, detail)

    if not operator.authorised:
        return None, record(False, ReasonCode.HUMAN_GO_REFUSED,
                            f"{operator.who} via {operator.via} is not authorised")
    if request.status != GoStatus.PENDING:
        return None, record(False, ReasonCode.HUMAN_GO_REFUSED,
                            f"request {request.id} is already {request.status}")
    if now >= request.expires_at:
        return expire(request, now), record(False, ReasonCode.HUMAN_GO_REFUSED,
                                            f"request {request.id} expired at "
                                            f"{request.expires_at.isoformat()}")
    status, reason = ((GoStatus.GRANTED, ReasonCode.HUMAN_GO_GRANTED) if go
                      else (GoStatus.DENIED, ReasonCode.HUMAN_GO_DENIED))
    answered = replace(request, status=status, answered_by=operator.who,
                       answered_via=operator.via, answered_at=now,
                       closed_at=None if go else now)
    return answered, record(True, reason)


def timeout_record(request: GoRequest) -> AnswerRecord:
    return AnswerRecord(request.id, request.pair, request.side, request.notional_usd,
                        "timeout", "nobody", "-", request.expires_at, True,
                        ReasonCode.HUMAN_GO_TIMEOUT, "no answer in time: no trade")
