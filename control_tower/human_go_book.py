"""The human-GO requests and answers in the state store, and the events they raise.

A thin shell around ``control_tower.human_go``: requests live in the ``human_go`` namespace
(one row per request), every answer and timeout in ``human_go_answers`` (the override log the
weekly report reads with ``human_go_log``). One lock serialises the bot loop (confirm, sweep)
with the operator's channels (Telegram's thread, the REST API's), which all go through the one
book of the process. A ``GoPrompt`` (Telegram buttons) is told when a request is filed and when
it is settled; it never blocks the bot loop.

Presses refused over and over (a stranger's chat hammering the button) stay bounded: the log
keeps the last ``REFUSED_KEPT_PER_REQUEST`` refused answers of each request (accepted answers
and timeouts are all kept), and a refusal is announced (WARNING ``HUMAN_GO_REFUSED``) at most
once per ``REFUSED_EVENT_EVERY_SECS`` per request - strangers' presses apart from the
authorised operator's. The book reads the answer log once, at start; the status answers from
the last ``RECENT_ANSWERS_KEPT`` answers it keeps in memory.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.state import StateStore
from control_tower import human_go as rule
from control_tower.human_go import AnswerRecord, GoRequest, GoStatus, Operator

logger = logging.getLogger(__name__)

REQUESTS = "human_go"
ANSWERS = "human_go_answers"
KEEP_CLOSED_DAYS = 35  # closed requests kept this long; the answer log is kept (see above)
REFUSED_KEPT_PER_REQUEST = 10
REFUSED_EVENT_EVERY_SECS = 60
RECENT_ANSWERS_KEPT = 50


class UnknownRequest(KeyError):
    """No request with that id."""


class GoPrompt(Protocol):
    def ask(self, request: GoRequest, on_sent) -> bool: ...

    def settle(self, request: GoRequest) -> None: ...


def human_go_log(store: StateStore, since: datetime | None = None,
                 until: datetime | None = None) -> list[dict[str, Any]]:
    """Every answer (GO, NO, refused, timeout) with who and when, oldest first."""
    records = list(store.items(ANSWERS).values())
    return [r for r in records
            if (since is None or datetime.fromisoformat(r["at"]) >= since)
            and (until is None or datetime.fromisoformat(r["at"]) < until)]


def _serial(key: str) -> int:
    """The running number in an answer's key (``<at>|<serial>|<request id>``)."""
    parts = key.split("|")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0


class GoBook:
    def __init__(self, store: StateStore, events: EventSink | None = None,
                 prompt: GoPrompt | None = None):
        self._store = store
        self._events = events
        self._prompt = prompt
        self._lock = threading.RLock()
        self._requests = {key: GoRequest.from_json(value)
                          for key, value in store.items(REQUESTS).items()}
        self._unsent: set[str] = set()
        answers = store.items(ANSWERS)  # the one whole read of the log, at start
        self._answers = max((_serial(key) for key in answers), default=0)
        self._recent = dict(list(answers.items())[-RECENT_ANSWERS_KEPT:])
        self._refused: dict[str, list[str]] = {}  # request id -> its refused answers' keys
        for key, record in answers.items():
            if not record.get("accepted", True):
                self._refused.setdefault(record["request_id"], []).append(key)
        for request_id in list(self._refused):
            self._trim_refused(request_id)
        self._refusal_said: dict[tuple[str, bool], datetime] = {}

    # --- the bot loop ----------------------------------------------------------------------

    def confirm(self, pair: str, side: str, candle_time: datetime, notional_usd: float,
                above_usd: float, timeout_secs: int, proposal_info: dict[str, Any],
                now: datetime) -> Decision:
        with self._lock:
            self.sweep(now, pair)
            live = rule.live_request(list(self._requests.values()), pair, side, now)
            if live is not None:
                decision, after = rule.confirm_live(live, notional_usd, now)
                if after != live:
                    self._save(after)
                if decision is not None:
                    if decision.allowed:
                        logger.info("[%s] %s %s: %s", decision.reason, pair, side,
                                    decision.detail)
                    return decision
            refusal = rule.candle_refusal(list(self._requests.values()), pair, side,
                                          candle_time)
            if refusal is not None:
                return refusal
            request = rule.file_request(pair, side, candle_time, notional_usd, above_usd,
                                        timeout_secs=timeout_secs, now=now, **proposal_info)
            self._file(request)
            decision, _ = rule.confirm_live(request, notional_usd, now)
            return decision

    def sweep(self, now: datetime, pair: str | None = None) -> None:
        """Time out pending requests past their expiry, lapse unused GOs, resend prompts."""
        with self._lock:
            for request in list(self._requests.values()):
                if pair is not None and request.pair != pair:
                    continue
                after = rule.expire(request, now)
                if after is None:
                    continue
                self._save(after)
                if after.status == GoStatus.TIMEOUT:
                    self._log(rule.timeout_record(after))
                    self._emit(after, Severity.WARNING, ReasonCode.HUMAN_GO_TIMEOUT,
                               f"no GO for request {after.id} in time: no trade", now)
                    self._settle(after)
            if pair is None:
                self._resend(now)
                self._prune(now)

    # --- the operator ----------------------------------------------------------------------

    def answer(self, request_id: str, go: bool, operator: Operator, now: datetime
               ) -> AnswerRecord:
        with self._lock:
            request = self._requests.get(request_id)
            if request is None:
                raise UnknownRequest(request_id)
            after, record = rule.answer(request, go, operator, now)
            self._log(record)
            if after is not None:
                self._save(after)
                if after.status == GoStatus.TIMEOUT:
                    self._log(rule.timeout_record(after))
                self._settle(after)
            if not record.accepted and not self._say_refusal(request_id, operator, now):
                return record  # logged; announced less than a minute ago
        severity = (Severity.INFO if record.accepted and go else Severity.WARNING)
        message = (f"{record.answer.upper()} by {record.by} via {record.via} on request "
                   f"{request_id} ({record.notional_usd:.2f} USD)")
        if not record.accepted:
            message += f" refused: {record.detail}"
            logger.warning("[%s] %s", record.reason, message)
        self._emit(request, severity, record.reason, message, now)
        return record

    def _say_refusal(self, request_id: str, operator: Operator, now: datetime) -> bool:
        """A refused press is announced at most every ``REFUSED_EVENT_EVERY_SECS`` per request,
        strangers' apart from the authorised operator's."""
        key = (request_id, operator.authorised)
        said = self._refusal_said.get(key)
        if said is not None and (now - said).total_seconds() < REFUSED_EVENT_EVERY_SECS:
            return False
        self._refusal_said[key] = now
        return True

    def record_prompt(self, request_id: str, chat_id: int | None, message_id: int | None
                      ) -> None:
        """The prompt's message for a request once sent (for later edits); None: not sent,
        asked again at the next sweep."""
        with self._lock:
            request = self._requests.get(request_id)
            if message_id is None:
                self._unsent.add(request_id)
            elif request is not None:
                self._unsent.discard(request_id)
                self._save(replace(request, prompt_chat_id=chat_id,
                                        prompt_message_id=message_id))

    # --- reading ---------------------------------------------------------------------------

    def get(self, request_id: str) -> GoRequest | None:
        return self._requests.get(request_id)

    def pending(self, now: datetime) -> list[GoRequest]:
        with self._lock:
            return sorted((r for r in self._requests.values()
                           if r.status == GoStatus.PENDING and r.is_live(now)),
                          key=lambda r: r.created_at)

    def recent(self, limit: int = 20) -> list[GoRequest]:
        with self._lock:
            return sorted(self._requests.values(), key=lambda r: r.created_at)[-limit:]

    def recent_answers(self, limit: int = 20) -> list[dict[str, Any]]:
        """The last answers, oldest first (at most ``RECENT_ANSWERS_KEPT``; from memory)."""
        with self._lock:
            return [self._recent[key] for key in sorted(self._recent)[-limit:]]

    # --- the store ---------------------------------------------------------------------------

    def _file(self, request: GoRequest) -> None:
        self._save(request)
        self._emit(request, Severity.WARNING, ReasonCode.HUMAN_GO_PENDING,
                   f"GO needed: {request.side} {request.notional_usd:.2f} USD notional > "
                   f"{request.above_usd:.2f} USD (request {request.id}, answer by "
                   f"{request.expires_at:%H:%M:%S} UTC)", request.created_at)
        self._ask(request)

    def _ask(self, request: GoRequest) -> None:
        if self._prompt is None:
            return
        try:
            sent = self._prompt.ask(request, self.record_prompt)
        except Exception:  # noqa: BLE001 - the request stands; REST can answer it
            logger.exception("[%s] request %s: the Telegram prompt failed",
                             ReasonCode.HUMAN_GO_PENDING, request.id)
            sent = False
        if not sent:
            self._unsent.add(request.id)

    def _resend(self, now: datetime) -> None:
        for request_id in list(self._unsent):
            request = self._requests.get(request_id)
            self._unsent.discard(request_id)
            if request is not None and request.status == GoStatus.PENDING and \
                    request.is_live(now) and request.prompt_message_id is None:
                self._ask(request)

    def _settle(self, request: GoRequest) -> None:
        if self._prompt is None or request.prompt_message_id is None:
            return
        try:
            self._prompt.settle(request)
        except Exception:  # noqa: BLE001 - the answer is stored; the message edit is cosmetic
            logger.exception("request %s: editing the Telegram prompt failed", request.id)

    def _save(self, request: GoRequest) -> None:
        self._store.put(REQUESTS, request.id, request.to_json())
        self._requests[request.id] = request

    def _log(self, record: AnswerRecord) -> None:
        self._answers += 1
        key = f"{record.at.isoformat()}|{self._answers:08d}|{record.request_id}"
        value = record.to_json()
        self._store.put(ANSWERS, key, value)
        self._recent[key] = value
        for old in sorted(self._recent)[:-RECENT_ANSWERS_KEPT]:
            del self._recent[old]
        if not record.accepted:
            self._refused.setdefault(record.request_id, []).append(key)
            self._trim_refused(record.request_id)

    def _trim_refused(self, request_id: str) -> None:
        keys = self._refused[request_id]
        while len(keys) > REFUSED_KEPT_PER_REQUEST:
            old = keys.pop(0)
            self._store.delete(ANSWERS, old)
            self._recent.pop(old, None)

    def _prune(self, now: datetime) -> None:
        cutoff = now - timedelta(days=KEEP_CLOSED_DAYS)
        for request in list(self._requests.values()):
            if request.closed_at is not None and request.closed_at < cutoff:
                self._store.delete(REQUESTS, request.id)
                del self._requests[request.id]
                self._refused.pop(request.id, None)
                for key in [k for k in self._refusal_said if k[0] == request.id]:
                    del self._refusal_said[key]

    def _emit(self, request: GoRequest, severity: Severity, code: ReasonCode, message: str,
              now: datetime) -> None:
        if self._events is None:
            return
        self._events.emit(OperatorEvent(now, severity, code, message, request.pair,
                                        {"request_id": request.id,
                                         "notional_usd": request.notional_usd,
                                         "side": request.side}))
