"""The paper-trading gate: a live start needs the strategy's own good dry-run record.

Rule: ``freqtrade trade`` in live mode (``dry_run: false``) refuses to start strategy S unless
S's dry-run database holds at least ``centaur.paper_gate.min_closed_trades`` (60) closed trades
of S with positive expectancy. Expectancy is the mean net result of a closed trade in stake
currency, freqtrade's ``close_profit_abs`` (after fees and funding):

    expectancy = win rate x average win - loss rate x average loss   (must be > 0)

which is the issue's "win rate x average win > average loss" with the average loss weighted by
how often a trade loses (break-even trades count as trades, neither wins nor losses).

The refusal is a ``CentaurConfigError`` raised while the tower is built in ``bot_start``:
freqtrade's safe wrapper turns it into a ``StrategyError``, ``FreqtradeBot`` cleans up (RPC
stopped) and ``freqtrade`` exits with status 2, printing the numbers and the fix. A missing or
unreadable database is a refusal naming the path.

Keys (``centaur.paper_gate``):
- ``enabled`` (true): off, live starts without looking at any record;
- ``min_closed_trades`` (60);
- ``dry_run_db_url``: the strategy's dry-run database (the ``db_url`` of its dry-run config,
  e.g. ``sqlite:///user_data/centaur-dry-run.sqlite`` for config/live.json). Unset, it is
  freqtrade's dry-run default (``sqlite:///tradesv3.dryrun.sqlite``) when the live bot uses
  freqtrade's live default (``sqlite:///tradesv3.sqlite``); any other live ``db_url`` needs it
  set (a start-up error says so). It must not be the live database;
- ``override_reason``: non-empty text starts the bot past a failed record. Each such start is
  a ``PAPER_GATE_OVERRIDE`` WARNING event and a record in the state store's ``overrides``
  namespace (who, when, why, the numbers), listed by ``list_overrides`` for the weekly report.

Dry-run, backtests and hyperopt never look at the gate.
"""

from __future__ import annotations

import getpass
import logging
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from freqtrade.constants import DEFAULT_DB_DRYRUN_URL, DEFAULT_DB_PROD_URL
from freqtrade.misc import parse_db_uri_for_logging
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from centaur.decision import Decision, ReasonCode
from centaur.events import OperatorEvent, Severity
from centaur.modes import is_live
from centaur.settings import CentaurConfigError
from centaur.settings.tower import PaperGateSettings
from centaur.state import StateStore
from control_tower.part import BasePart, TowerHost

logger = logging.getLogger(__name__)

OVERRIDES_NAMESPACE = "overrides"
OVERRIDE_KIND = "paper_gate"


@dataclass(frozen=True)
class PaperRecord:
    """A strategy's closed dry-run trades, summarised (money in stake currency)."""

    closed_trades: int
    wins: int
    losses: int
    win_rate: float
    avg_win_usd: float
    avg_loss_usd: float  # a positive number: the mean size of a losing trade
    expectancy_usd: float  # win_rate * avg_win - loss_rate * avg_loss: the mean trade
    unreadable: str = ""  # why there is no record (missing file, no trades table)

    @classmethod
    def from_profits(cls, profits_usd: Sequence[float]) -> PaperRecord:
        n = len(profits_usd)
        wins = [p for p in profits_usd if p > 0]
        losses = [-p for p in profits_usd if p < 0]
        win_rate = len(wins) / n if n else 0.0
        avg_win = sum(wins) / len(wins) if wins else 0.0
        avg_loss = sum(losses) / len(losses) if losses else 0.0
        # = win_rate * avg_win - loss_rate * avg_loss, summed exactly (a break-even record
        # must not come out a rounding error above zero)
        expectancy = math.fsum(profits_usd) / n if n else 0.0
        return cls(n, len(wins), len(losses), win_rate, avg_win, avg_loss, expectancy)

    @classmethod
    def missing(cls, why: str) -> PaperRecord:
        return cls(0, 0, 0, 0.0, 0.0, 0.0, 0.0, unreadable=why)

    def summary(self) -> str:
        return (f"{self.closed_trades} closed trades, win rate {self.win_rate:.1%}, "
                f"avg win {self.avg_win_usd:.2f}, avg loss {self.avg_loss_usd:.2f}, "
                f"expectancy {self.expectancy_usd:+.4f} per trade")


def paper_record_verdict(stats: PaperRecord, settings: PaperGateSettings) -> Decision:
    """Live start allowed: enough closed dry-run trades and a positive expectancy."""
    if stats.unreadable:
        return Decision(False, ReasonCode.PAPER_GATE_REFUSED,
                        f"no dry-run record: {stats.unreadable}")
    failed = []
    if stats.closed_trades < settings.min_closed_trades:
        failed.append(f"{stats.closed_trades} closed trades < {settings.min_closed_trades} "
                      "needed")
    if stats.expectancy_usd <= 0:
        failed.append(f"expectancy {stats.expectancy_usd:+.4f} is not positive")
    if failed:
        return Decision(False, ReasonCode.PAPER_GATE_REFUSED,
                        f"{'; '.join(failed)} ({stats.summary()})")
    return Decision(True, ReasonCode.OK, stats.summary())


# --- where the record is ----------------------------------------------------------------------


def dry_run_db_url(config: dict[str, Any], settings: PaperGateSettings) -> str:
    """The configured dry-run database, or freqtrade's dry-run default beside its live one."""
    live = config.get("db_url") or DEFAULT_DB_PROD_URL
    found = settings.dry_run_db_url
    if found is None and live == DEFAULT_DB_PROD_URL:
        found = DEFAULT_DB_DRYRUN_URL
    if found is None:
        raise CentaurConfigError(
            f"centaur.paper_gate.dry_run_db_url is required: the live db_url "
            f"'{parse_db_uri_for_logging(live)}' is not freqtrade's default, so the "
            "strategy's dry-run database cannot be derived. Fix: set it to the db_url of the "
            "strategy's dry-run config (e.g. sqlite:///user_data/centaur-dry-run.sqlite), or "
            "set centaur.paper_gate.enabled to false.")
    if found == live:
        raise CentaurConfigError(
            f"centaur.paper_gate.dry_run_db_url is the live database "
            f"'{parse_db_uri_for_logging(live)}': the gate reads the dry-run record. Fix: "
            "point it at the db_url of the strategy's dry-run config.")
    return found


def read_paper_record(db_url: str, strategy: str) -> PaperRecord:
    """The closed trades of ``strategy`` in freqtrade's ``trades`` table, read-only."""
    where = parse_db_uri_for_logging(db_url)
    try:
        url = make_url(db_url)
    except ArgumentError as err:
        return PaperRecord.missing(f"'{where}' is not a database URL ({err})")
    options: dict[str, Any] = {}
    if url.drivername.startswith("sqlite"):
        if not url.database or url.database == ":memory:":
            return PaperRecord.missing(f"'{where}' is an in-memory database")
        path = Path(url.database).absolute()
        if not path.is_file():
            return PaperRecord.missing(f"no dry-run database file at {path}")
        uri = f"{path.as_uri()}?mode=ro"
        options["creator"] = lambda: sqlite3.connect(uri, uri=True)
    engine = create_engine(db_url, **options)
    try:
        with engine.connect() as connection:
            profits = connection.execute(text(
                "SELECT close_profit_abs FROM trades WHERE is_open = :is_open "
                "AND strategy = :strategy AND close_profit_abs IS NOT NULL"),
                {"is_open": False, "strategy": strategy}).scalars().all()
    except SQLAlchemyError as err:
        reason = getattr(err, "orig", None) or err
        return PaperRecord.missing(f"cannot read freqtrade's trades table in '{where}' "
                                   f"({reason})")
    finally:
        engine.dispose()
    return PaperRecord.from_profits([float(p) for p in profits])


# --- overrides: kept for the weekly report ----------------------------------------------------


def record_override(store: StateStore, record: dict[str, Any]) -> None:
    """Keep one operator override (``record`` has ``kind`` and ``time``, ISO 8601)."""
    store.put(OVERRIDES_NAMESPACE, f"{record['time']}|{record['kind']}", record)


def list_overrides(store: StateStore, since: datetime | None = None,
                   kind: str | None = None) -> list[dict[str, Any]]:
    """The operator overrides kept in ``store``, oldest first (``since``: at or after it)."""
    found = [value for value in store.items(OVERRIDES_NAMESPACE).values()
             if kind is None or value.get("kind") == kind]
    if since is not None:
        found = [v for v in found if datetime.fromisoformat(v["time"]) >= since]
    return sorted(found, key=lambda v: v["time"])


# --- the part: the check at start-up, then its status -----------------------------------------


class PaperGate(BasePart):
    """What the live start found: the record, the verdict, and the override if one was used."""

    name = "paper_gate"

    def __init__(self, db_url: str, record: PaperRecord, verdict: Decision,
                 override: dict[str, Any] | None):
        self.db_url = db_url
        self.record = record
        self.verdict = verdict
        self.override = override

    def status(self, now: datetime) -> dict[str, Any]:
        return {"dry_run_db": parse_db_uri_for_logging(self.db_url),
                "verdict": "passed" if self.verdict.allowed else "overridden",
                "detail": self.verdict.detail, "record": asdict(self.record),
                "override": self.override}


def refusal_message(strategy: str, db_url: str, verdict: Decision,
                    settings: PaperGateSettings, currency: str) -> str:
    return (f"[{verdict.reason}] live trading of {strategy} refused by the paper gate: "
            f"{verdict.detail}; money in {currency}; dry-run database "
            f"'{parse_db_uri_for_logging(db_url)}'. "
            f"Fix: run {strategy} in dry-run (its dry-run config, that db_url) until it has "
            f"at least {settings.min_closed_trades} closed trades with a positive expectancy; "
            "or point centaur.paper_gate.dry_run_db_url at its dry-run database; or, to start "
            "anyway, set centaur.paper_gate.override_reason to your reason (logged, and listed "
            "in the weekly report).")


def check_live_start(host: TowerHost, now: datetime, who: str) -> PaperGate:
    """Read the record, decide; refuse (``CentaurConfigError``) or record the override."""
    settings = host.centaur.paper_gate
    strategy = str(host.config.get("strategy"))
    db_url = dry_run_db_url(host.config, settings)
    record = read_paper_record(db_url, strategy)
    verdict = paper_record_verdict(record, settings)
    if verdict.allowed:
        logger.info("paper gate: %s may trade live - %s", strategy, verdict.detail)
        return PaperGate(db_url, record, verdict, None)
    why = settings.override_reason.strip()
    if not why:
        raise CentaurConfigError(refusal_message(strategy, db_url, verdict, settings,
                                                 host.config.get("stake_currency", "stake")))
    override = {"kind": OVERRIDE_KIND, "time": now.isoformat(), "who": who, "why": why,
                "strategy": strategy, "bot_name": host.config.get("bot_name"),
                "dry_run_db": parse_db_uri_for_logging(db_url), "refused": verdict.detail,
                "record": asdict(record), "min_closed_trades": settings.min_closed_trades}
    record_override(host.centaur_state, override)
    host.events.emit(OperatorEvent(
        now, Severity.WARNING, ReasonCode.PAPER_GATE_OVERRIDE,
        f"{strategy} started live past the paper gate by {who}: '{why}' - {verdict.detail}",
        data=override))
    return PaperGate(db_url, record, verdict, override)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (containers)
        return "unknown"


def part(host: TowerHost) -> PaperGate | None:
    """The tower's factory: live starts only, when ``centaur.paper_gate.enabled``."""
    if not host.centaur.paper_gate.enabled or not is_live(host.config):
        return None
    return check_live_start(host, datetime.now(UTC), _operator())
