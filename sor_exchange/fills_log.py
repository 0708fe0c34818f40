"""The fills log: every child fill with its parent, trade, strategy, signal tag and venue.

One row per fill increment of a child (partial fills included): venue, price, amount, fee,
the parent's arrival mid and the fill's slippage against it in bps (positive: worse than the
mid), so performance can be attributed per strategy and per venue (``summary``). Where it
lives (``default_url``): beside the bot's SQLite database, or in the bot's PostgreSQL database
(table ``sor_fills`` beside freqtrade's) when ``db_url`` is one; any SQLAlchemy URL by
``centaur.exchange.router.fills_log_url`` (PostgreSQL: ``postgresql+pg8000://user:password@
host/db``). A URL's password joins the process's redacted secrets and is never shown
(``shown_url``). The trade id and signal tag are filled in once freqtrade has stored the trade
(``attribute``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    make_url,
    select,
    update,
)
from sqlalchemy.pool import StaticPool

from centaur.redaction import REDACTOR
from centaur.state import is_postgresql_url

METADATA = MetaData()
FILLS = Table(
    "sor_fills", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("parent_order_id", String(64), nullable=False, index=True),
    Column("trade_id", Integer, nullable=True, index=True),
    Column("strategy", String(128), nullable=False),
    Column("signal_tag", String(256), nullable=True),
    Column("pair", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("venue", String(64), nullable=False, index=True),
    Column("client_order_id", String(64), nullable=False),
    Column("venue_order_id", String(64), nullable=True),
    Column("price", Float, nullable=False),
    Column("amount", Float, nullable=False),
    Column("fee_quote", Float, nullable=False),
    Column("fee_estimated", Boolean, nullable=False),
    Column("arrival_mid", Float, nullable=False),
    Column("slippage_bps", Float, nullable=False),
    Column("dry_run", Boolean, nullable=False),
)


def default_url(config: dict[str, Any]) -> str:
    """In a PostgreSQL ``db_url``'s database; beside a SQLite ``db_url`` (``x.sqlite`` ->
    ``x.sor-fills.sqlite``); else under user_data."""
    db_url = str(config.get("db_url", ""))
    if is_postgresql_url(db_url):
        return db_url
    if db_url.startswith("sqlite:///") and not db_url.endswith(":memory:"):
        db_file = Path(db_url.removeprefix("sqlite:///"))
        return f"sqlite:///{db_file.with_name(db_file.stem + '.sor-fills.sqlite')}"
    folder = Path(config.get("user_data_dir", "user_data"))
    return f"sqlite:///{folder / 'sor-fills.sqlite'}"


@dataclass(frozen=True)
class Fill:
    parent_order_id: str
    strategy: str
    pair: str
    side: str
    venue: str
    client_order_id: str
    venue_order_id: str | None
    price: float
    amount: float
    fee_quote: float
    fee_estimated: bool
    arrival_mid: float
    dry_run: bool
    trade_id: int | None = None
    signal_tag: str | None = None

    @property
    def slippage_bps(self) -> float:
        sign = 1 if self.side == "buy" else -1
        return sign * (self.price / self.arrival_mid - 1) * 1e4


class FillsLog:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        parsed = make_url(url)
        REDACTOR.add([parsed.password])
        self.shown_url = parsed.render_as_string(hide_password=True)
        memory = url in ("sqlite://", "sqlite:///:memory:")
        self._engine = create_engine(url, poolclass=StaticPool,
                                     connect_args={"check_same_thread": False}) if memory \
            else create_engine(url)
        METADATA.create_all(self._engine)

    def record(self, fill: Fill, at: datetime) -> None:
        row = {**fill.__dict__, "slippage_bps": fill.slippage_bps, "recorded_at": at}
        with self._engine.begin() as connection:
            connection.execute(FILLS.insert().values(**row))

    def unattributed_parents(self) -> list[str]:
        query = select(FILLS.c.parent_order_id).where(FILLS.c.trade_id.is_(None)).distinct()
        with self._engine.connect() as connection:
            return [row[0] for row in connection.execute(query)]

    def attribute(self, parent_order_id: str, trade_id: int, signal_tag: str | None) -> int:
        """Set the trade and signal tag of a parent's fills; returns the rows updated."""
        statement = (update(FILLS).where(FILLS.c.parent_order_id == parent_order_id)
                     .values(trade_id=trade_id, signal_tag=signal_tag))
        with self._engine.begin() as connection:
            return connection.execute(statement).rowcount

    def rows(self) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(FILLS).order_by(FILLS.c.id))
            return [dict(r._mapping) for r in rows]

    def legs_of(self, parent_order_id: str) -> list[dict[str, Any]]:
        """The child fills of one parent order (the trade's decision trail shows them)."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(FILLS).where(
                FILLS.c.parent_order_id == parent_order_id).order_by(FILLS.c.id))
            return [{"venue": r.venue, "amount": r.amount, "price": r.price,
                     "fee_quote": r.fee_quote, "slippage_bps": round(r.slippage_bps, 2),
                     "client_order_id": r.client_order_id} for r in rows]

    def summary(self, *keys: str) -> list[dict[str, Any]]:
        """Volume-weighted slippage (bps), fees and notional grouped by ``keys`` columns,
        e.g. ``summary("strategy", "venue")``."""
        group = [FILLS.c[k] for k in keys]
        notional = func.sum(FILLS.c.price * FILLS.c.amount)
        query = select(*group, func.count().label("fills"), notional.label("notional_quote"),
                       func.sum(FILLS.c.fee_quote).label("fees_quote"),
                       (func.sum(FILLS.c.slippage_bps * FILLS.c.price * FILLS.c.amount)
                        / notional).label("slippage_bps")).group_by(*group).order_by(*group)
        with self._engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def close(self) -> None:
        self._engine.dispose()
