"""Rule: once Monday 00:00 UTC has passed, last week's report goes to the operator's Telegram
chat as a PDF, exactly once.

On (``centaur.weekly_report.send_telegram``) the part asks at every bot loop which week is due
(``due_week``, pure): the week ending at the latest Monday 00:00 UTC, unless that week was
already sent. The first time the part ever runs it only records that week as the baseline (a
bot started on a Wednesday does not send last week's report of a bot that may not have run).
The week sent is kept in the state store (``weekly_report/last_week_end``), so a restart does
not send it again. The report is built once per week (``control_tower.weekly_report``, files
``<reports_dir>/weekly-<YYYY-MM-DD>.{json,md,html,pdf}``, named after the week's end) and its PDF
sent with the Bot API's ``sendDocument`` (multipart) to freqtrade's ``telegram.chat_id`` with
``telegram.token``, through ``centaur.telegram.base_url`` when set. A failed build or send is a
``WEEKLY_REPORT`` warning (once per week) and is tried again ``retry_secs`` later; a sent
report is a ``WEEKLY_REPORT`` info event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings import CentaurConfigError
from centaur.state import StateStore
from control_tower.part import BasePart, TowerHost

logger = logging.getLogger(__name__)

NAMESPACE = "weekly_report"
LAST_KEY = "last_week_end"
TELEGRAM_API = "https://api.telegram.org"
SEND_TIMEOUT_SECS = 60


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
    """``sendDocument`` of the Bot API, plain HTTP multipart."""

    def __init__(self, base_url: str, token: str, chat_id: str):
        self._url = f"{base_url.rstrip('/')}/bot{token}/sendDocument"
        self._chat_id = chat_id

    def __call__(self, path: Path, caption: str) -> None:
        with path.open("rb") as file:
            answer = requests.post(self._url, data={"chat_id": self._chat_id,
                                                    "caption": caption[:1024]},
                                   files={"document": (path.name, file, "application/pdf")},
                                   timeout=SEND_TIMEOUT_SECS)
        body = answer.json() if answer.headers.get("content-type", "").startswith(
            "application/json") else {}
        if not body.get("ok"):
            raise RuntimeError(f"sendDocument answered HTTP {answer.status_code}: "
                               f"{body.get('description', answer.text[:200])}")


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
    """Sends each passed week's report once; the week sent survives restarts."""

    name = "weekly_report"

    def __init__(self, store: StateStore, events: EventSink,
                 build: Callable[[datetime, datetime], tuple[Path, str]],
                 send: Callable[[Path, str], None], retry_secs: float):
        self._store = store
        self._events = events
        self._build = build
        self._send = send
        self._retry = timedelta(seconds=retry_secs)
        self._built: dict[datetime, tuple[Path, str]] = {}
        self._next_try: datetime | None = None
        self._warned: set[datetime] = set()
        self.last_error = ""

    def on_loop(self, now: datetime) -> None:
        last = self._store.get(NAMESPACE, LAST_KEY)
        if last is None:
            self._store.put(NAMESPACE, LAST_KEY, week_end_before(now).isoformat())
            return
        week = due_week(now, last)
        if week is None or (self._next_try is not None and now < self._next_try):
            return
        try:
            if week not in self._built:
                self._built = {week: self._build(week, now)}
            pdf, summary = self._built[week]
            self._send(pdf, summary)
        except Exception as err:  # noqa: BLE001 - kept, told once, tried again later
            self._failed(week, now, err)
            return
        self._store.put(NAMESPACE, LAST_KEY, week.isoformat())
        self._next_try, self.last_error = None, ""
        self._events.emit(OperatorEvent(now, Severity.INFO, ReasonCode.WEEKLY_REPORT,
                                        f"{summary} (sent {pdf.name})"))

    def _failed(self, week: datetime, now: datetime, err: Exception) -> None:
        self.last_error = f"{type(err).__name__}: {err}"
        self._next_try = now + self._retry
        logger.warning("[%s] weekly report of %s not sent: %s", ReasonCode.WEEKLY_REPORT,
                       f"{week:%Y-%m-%d}", self.last_error)
        if week not in self._warned:
            self._warned.add(week)
            self._events.emit(OperatorEvent(
                now, Severity.WARNING, ReasonCode.WEEKLY_REPORT,
                f"weekly report of the week to {week:%Y-%m-%d} not sent ({self.last_error}); "
                "tried again at the next loops"))

    def status(self, now: datetime) -> dict[str, Any]:
        return {"last_week_end": self._store.get(NAMESPACE, LAST_KEY),
                "next_week_end": (week_end_before(now) + timedelta(days=7)).isoformat(),
                "last_error": self.last_error}


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
    send = TelegramDocument(host.centaur.telegram.base_url or TELEGRAM_API, token, chat_id)
    return WeeklyReportPart(host.centaur_state, host.events,
                            lambda week, now: build_week(config, reports_dir, week, now),
                            send, settings.retry_secs)
