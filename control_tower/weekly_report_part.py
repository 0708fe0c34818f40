"""Rule: once Monday 00:00 UTC has passed, last week's report goes to the operator's Telegram
chat as a PDF, exactly once.

On (``centaur.weekly_report.send_telegram``) the part asks at every bot loop which week is due
(``due_week``, pure): the week ending at the latest Monday 00:00 UTC, unless that week was
already sent. The first time the part ever runs it only records that week as the baseline (a
bot started on a Wednesday does not send last week's report of a bot that may not have run).
The week sent is kept in the state store (``weekly_report/last_week_end``), written only once
the send succeeded, so a restart does not send it again. The report is built once per week
(``control_tower.weekly_report``, files ``<reports_dir>/weekly-<YYYY-MM-DD>.{json,md,html,pdf}``,
named after the week's end) and its PDF sent with the Bot API's ``sendDocument`` (multipart,
``alert_channels.BotApi``) to freqtrade's ``telegram.chat_id`` with ``telegram.token``, through
``centaur.telegram.base_url`` when set.

Building (database, candles, matplotlib) and sending (up to ``SEND_TIMEOUT_SECS``) run on a
worker thread, one job at a time: ``on_loop`` only sees whether a week is due and starts the
job, so the bot loop never waits on them. A failed build or send is a ``WEEKLY_REPORT`` warning
(once per week; its error text never holds the token: the Bot API shell leaves the URL out and
the text is redacted) and is tried again ``retry_secs`` after the failed job started; a sent
report is a ``WEEKLY_REPORT`` info event. ``stop`` waits for a running job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.redaction import redact_text
from centaur.settings import CentaurConfigError
from centaur.state import StateStore
from control_tower.alert_channels import BotApi, DeliveryError
from control_tower.part import BasePart, TowerHost

logger = logging.getLogger(__name__)

NAMESPACE = "weekly_report"
LAST_KEY = "last_week_end"
SEND_TIMEOUT_SECS = 60
STOP_WAIT_SECS = SEND_TIMEOUT_SECS + 10  # stop waits this long for a running job


def week_end_before(now: datetime) -> datetime:
    """The latest Monday 00:00 UTC at or before ``now`` (``now`` is tz-aware UTC)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=midnight.weekday())


def due_week(now: datetime, last_week_end: str | None) -> datetime | None:
    """The end of the week to send now, or None (already sent, or no baseline yet)."""
    end = week_end_before(now)
    if last_week_end is None or end.isoformat() == last_week_end:
        return None
    return end


class TelegramDocument:
    """``sendDocument`` of the Bot API, multipart, through the shared ``BotApi`` shell."""

    def __init__(self, api: BotApi, chat_id: str):
        self._api, self._chat_id = api, chat_id

    def __call__(self, path: Path, caption: str) -> None:
        with path.open("rb") as file:
            self._api.call("sendDocument", SEND_TIMEOUT_SECS,
                           data={"chat_id": self._chat_id, "caption": caption[:1024]},
                           files={"document": (path.name, file, "application/pdf")})


def build_week(config: dict[str, Any], reports_dir: Path, week_end: datetime,
               now: datetime) -> tuple[Path, str]:
    """Build the week's report files; its PDF and a one-line summary."""
    from control_tower.weekly_render import write_all
    from control_tower.weekly_report import WEEK, Window, build_report
    from control_tower.weekly_sources import read_records

    window = Window(week_end - WEEK, week_end)
    records = read_records(config, candles_from=window.start, candles_to=window.end)
    report = build_report(records, window, now)
    written = write_all(report, reports_dir / f"weekly-{week_end:%Y-%m-%d}")
    k = report["kpis"]
    summary = (f"Weekly report {window.start:%Y-%m-%d} - {window.end:%Y-%m-%d}: "
               f"{k['closed_trades']} trades, PnL {k['pnl_usd']:,.2f} "
               f"{report['stake_currency']}, max drawdown {k['max_drawdown_ratio']:.2%}, "
               f"daily Sharpe {k['daily_sharpe']:.2f}")
    return next(p for p in written if p.suffix == ".pdf"), summary


class WeeklyReportPart(BasePart):
    """Sends each passed week's report once, from a worker thread; the week sent survives
    restarts."""

    name = "weekly_report"

    def __init__(self, store: StateStore, events: EventSink,
                 build: Callable[[datetime, datetime], tuple[Path, str]],
                 send: Callable[[Path, str], None], retry_secs: float):
        self._store = store
        self._events = events
        self._build = build
        self._send = send
        self._retry = timedelta(seconds=retry_secs)
        self._lock = threading.Lock()  # the state below: the bot loop and the worker
        self._job: threading.Thread | None = None
        self._built: dict[datetime, tuple[Path, str]] = {}
        self._next_try: datetime | None = None
        self._warned: set[datetime] = set()
        self._stopped = False
        self.last_error = ""

    def on_loop(self, now: datetime) -> None:
        last = self._store.get(NAMESPACE, LAST_KEY)
        if last is None:
            self._store.put(NAMESPACE, LAST_KEY, week_end_before(now).isoformat())
            return
        week = due_week(now, last)
        with self._lock:
            if week is None or self._stopped or (self._job is not None and self._job.is_alive()) \
                    or (self._next_try is not None and now < self._next_try):
                return
            self._job = threading.Thread(target=self._run, args=(week, now), daemon=True,
                                         name="centaur-weekly-report")
            self._job.start()

    def _run(self, week: datetime, now: datetime) -> None:
        """The job: build (once per week) and send; the outcome recorded under the lock."""
        try:
            with self._lock:
                built = self._built.get(week)
            if built is None:
                built = self._build(week, now)
                with self._lock:
                    self._built = {week: built}
            pdf, summary = built
            self._send(pdf, summary)
        except Exception as err:  # noqa: BLE001 - kept, told once, tried again later
            self._failed(week, now, err)
            return
        self._store.put(NAMESPACE, LAST_KEY, week.isoformat())
        with self._lock:
            self._next_try, self.last_error = None, ""
        self._events.emit(OperatorEvent(now, Severity.INFO, ReasonCode.WEEKLY_REPORT,
                                        f"{summary} (sent {pdf.name})"))

    def _failed(self, week: datetime, now: datetime, err: Exception) -> None:
        error = str(err) if isinstance(err, DeliveryError) else \
            redact_text(f"{type(err).__name__}: {err}")
        with self._lock:
            self.last_error = error
            self._next_try = now + self._retry
            first = week not in self._warned
            self._warned.add(week)
        logger.warning("[%s] weekly report of %s not sent: %s", ReasonCode.WEEKLY_REPORT,
                       f"{week:%Y-%m-%d}", error)
        if first:
            self._events.emit(OperatorEvent(
                now, Severity.WARNING, ReasonCode.WEEKLY_REPORT,
                f"weekly report of the week to {week:%Y-%m-%d} not sent ({error}); "
                "tried again at the next loops"))

    def wait(self, timeout_secs: float) -> bool:
        """Wait for a running job; True when none is running any more."""
        with self._lock:
            job = self._job
        if job is not None:
            job.join(timeout=timeout_secs)
        return job is None or not job.is_alive()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        if not self.wait(STOP_WAIT_SECS):
            logger.warning("[%s] the weekly report job is still running after %d s",
                           ReasonCode.WEEKLY_REPORT, STOP_WAIT_SECS)

    def status(self, now: datetime) -> dict[str, Any]:
        with self._lock:
            running = self._job is not None and self._job.is_alive()
            last_error = self.last_error
        return {"last_week_end": self._store.get(NAMESPACE, LAST_KEY),
                "next_week_end": (week_end_before(now) + timedelta(days=7)).isoformat(),
                "running": running, "last_error": last_error}


def weekly_report_part(host: TowerHost) -> WeeklyReportPart | None:
    """The part when ``centaur.weekly_report.send_telegram`` is on, else None."""
    settings = host.centaur.weekly_report
    if not settings.send_telegram:
        return None
    telegram = host.config.get("telegram") or {}
    token, chat_id = str(telegram.get("token") or ""), str(telegram.get("chat_id") or "")
    if not (token and chat_id):
        raise CentaurConfigError(
            "centaur.weekly_report.send_telegram is on, but freqtrade's telegram block has no "
            "token or chat_id. Fix: set FREQTRADE__TELEGRAM__TOKEN and "
            "FREQTRADE__TELEGRAM__CHAT_ID (environment or .env), or turn send_telegram off.")
    reports_dir = Path(settings.reports_dir or Path(host.config.get("user_data_dir")
                                                    or "user_data") / "reports")
    config = host.config
    send = TelegramDocument(BotApi(token, host.centaur.telegram.base_url), chat_id)
    return WeeklyReportPart(host.centaur_state, host.events,
                            lambda week, now: build_week(config, reports_dir, week, now),
                            send, settings.retry_secs)
