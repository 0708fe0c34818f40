"""Rule: the weekly report and the tax export read the bot's records, never write them.

Where each record lives, for a freqtrade ``config`` (its ``db_url`` may be overridden):

- trades and orders: freqtrade's database (``db_url``), tables ``trades`` and ``orders``;
- operator events, the human GO answers (``human_go_answers``, ``control_tower.human_go_book``)
  and the operator overrides (``overrides``, ``control_tower.paper_gate``): the suite's state
  store beside it (``centaur.state.state_path``: a SQLite file, or PostgreSQL tables read
  through ``centaur.state_sql.ReadOnlySqlState``; a namespace not written yet reads empty);
- routed child fills: the fills log (``sor_exchange.fills_log.default_url`` or
  ``centaur.exchange.router.fills_log_url``);
- the carry's spot hedge legs: ``<user_data_dir>/<legs_file_name(config)>``;
- LLM veto decisions of the trading bot (``mode == "live"``): the LLM record
  (``llm_layer.runtime.store_path``);
- candles for the vetoes' counterfactual: freqtrade's data directory (``datadir``).

A file that does not exist is an empty source, except freqtrade's database: without it there
is nothing to report, and ``MissingDatabase`` names the ``db_url`` and how to make one. A
``db_url`` is shown (errors, the report's files) only through ``shown_db_url``: a PostgreSQL or
MySQL URL carries its password, masked there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.misc import parse_db_uri_for_logging
from sqlalchemy import create_engine, inspect, text

from centaur.settings import settings_from
from centaur.state import is_url, state_path
from centaur.state_sql import ReadOnlySqlState
from control_tower.human_go_book import ANSWERS as GO_ANSWERS
from control_tower.paper_gate import OVERRIDES_NAMESPACE
from llm_layer.runtime import store_path as llm_store_path
from sor_exchange.fills_log import FillsLog
from sor_exchange.fills_log import default_url as fills_default_url
from sor_exchange.hedge_leg import legs_file_name
from sor_exchange.hedge_records import HedgeLegStore

_TRADE_COLUMNS = (
    "id, exchange, pair, base_currency, stake_currency, is_open, is_short, leverage, strategy, "
    "enter_tag, exit_reason, open_date, close_date, open_rate, close_rate, amount, "
    "stake_amount, max_stake_amount, fee_open, fee_close, fee_open_cost, fee_close_cost, "
    "close_profit, close_profit_abs, realized_profit, funding_fees, trading_mode")
_ORDER_COLUMNS = (
    "id, ft_trade_id, ft_order_side, ft_pair, order_id, status, side, order_type, price, "
    "average, amount, filled, cost, order_date, order_filled_date, funding_fee")


class MissingDatabase(FileNotFoundError):
    """freqtrade's database is not there: nothing to report until a bot has traded."""


def shown_db_url(db_url: str) -> str:
    """``db_url`` as it may be shown or written: its password masked (freqtrade's helper)."""
    return parse_db_uri_for_logging(db_url)


@dataclass(frozen=True)
class BotRecords:
    """Everything the report and the export read, as plain rows (dates as UTC timestamps)."""

    db_url: str  # as read, password included: shown only through shown_db_url
    stake_currency: str
    starting_balance_usd: float
    trades: tuple[dict[str, Any], ...]
    orders: tuple[dict[str, Any], ...]
    events: tuple[dict[str, Any], ...] = ()
    human_go: tuple[dict[str, Any], ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()
    fills: tuple[dict[str, Any], ...] = ()
    hedge_legs: tuple[dict[str, Any], ...] = ()
    vetoes: tuple[dict[str, Any], ...] = ()
    candles: dict[str, pd.DataFrame] = field(default_factory=dict)


def trading_config(config: dict[str, Any], db_url: str | None = None) -> dict[str, Any]:
    """The config as the trading bot saw it: its ``db_url`` and a trade run mode, so the
    state store and the fills log resolve to the bot's files."""
    runmode = "dry_run" if config.get("dry_run", True) else "live"
    return {**config, "db_url": db_url or config.get("db_url") or _default_db_url(config),
            "runmode": runmode}


def _default_db_url(config: dict[str, Any]) -> str:
    # freqtrade's defaults (freqtrade.constants DEFAULT_DB_PROD_URL / DEFAULT_DB_DRYRUN_URL)
    name = "tradesv3.dryrun.sqlite" if config.get("dry_run", True) else "tradesv3.sqlite"
    return f"sqlite:///{name}"


def read_records(config: dict[str, Any], *, db_url: str | None = None,
                 datadir: Path | None = None, pairs: Iterable[str] = (),
                 candles_from: datetime | None = None,
                 candles_to: datetime | None = None) -> BotRecords:
    """Read every source for ``config`` (see the module docstring); ``pairs`` narrows them;
    candles are read for the vetoed pairs between ``candles_from`` and ``candles_to``."""
    config = trading_config(config, db_url)
    url = config["db_url"]
    wanted = set(pairs)
    keep = (lambda pair: not wanted or pair in wanted)
    trades, orders = read_freqtrade(url)
    store = _state(config)
    vetoes = tuple(v for v in read_vetoes(config) if keep(v["pair"]))
    return BotRecords(
        db_url=url, stake_currency=str(config.get("stake_currency", "USDT")),
        starting_balance_usd=float(config.get("dry_run_wallet") or 1000.0),
        trades=tuple(t for t in trades if keep(t["pair"])),
        orders=tuple(o for o in orders if keep(o["ft_pair"])),
        events=_namespace(store, "events"), human_go=_namespace(store, GO_ANSWERS),
        overrides=_namespace(store, OVERRIDES_NAMESPACE),
        fills=tuple(f for f in read_fills(config) if keep(f["pair"])),
        hedge_legs=tuple(leg for leg in read_hedge_legs(config)
                         if keep(leg["perp_pair"])),
        vetoes=vetoes,
        candles=read_candles(config, datadir, {v["pair"] for v in vetoes}, candles_from,
                             candles_to) if vetoes and candles_from and candles_to else {})


def read_freqtrade(db_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """freqtrade's trades and orders, dates as UTC timestamps."""
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        raise MissingDatabase(
            f"no freqtrade database at {shown_db_url(db_url)}. Fix: run the bot first so it "
            "writes its trades (e.g. `make venue` in one shell, `freqtrade trade -c "
            "config/dry-run.json` in another), or point --db-url at an existing database.")
    engine = create_engine(db_url)
    try:
        if not inspect(engine).has_table("trades"):
            raise MissingDatabase(f"{shown_db_url(db_url)} has no freqtrade 'trades' table. "
                                  "Fix: point "
                                  "--db-url at the database of a freqtrade bot.")
        with engine.connect() as connection:
            trades = [_dated(dict(r._mapping)) for r in connection.execute(
                text(f"SELECT {_TRADE_COLUMNS} FROM trades ORDER BY id"))]
            orders = [_dated(dict(r._mapping)) for r in connection.execute(
                text(f"SELECT {_ORDER_COLUMNS} FROM orders ORDER BY id"))]
    finally:
        engine.dispose()
    return trades, orders


def _dated(row: dict[str, Any]) -> dict[str, Any]:
    for key, value in row.items():
        if key.endswith("_date") and value is not None:
            row[key] = utc(value)
    return row


def utc(value: Any) -> pd.Timestamp:
    """freqtrade stores naive UTC datetimes; every date in the rows is tz-aware UTC."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class ReadOnlyState:
    """A state-store file read through a read-only connection: ``items(namespace)``.

    Never ``StateStore`` on a running bot's file: opening one migrates the file and moves an
    unreadable (e.g. locked) file aside."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    def items(self, namespace: str) -> dict[str, Any]:
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT key, value FROM state WHERE namespace=? ORDER BY key",
                              (namespace,)).fetchall()
        return {key: json.loads(value) for key, value in rows}


def _state(config: dict[str, Any]) -> ReadOnlyState | ReadOnlySqlState | None:
    """The bot's state store, read-only: its SQLite file (None when there is none yet) or its
    PostgreSQL tables (``centaur.state_sql``)."""
    path = state_path(config)
    if is_url(path):
        return ReadOnlySqlState(path)
    return ReadOnlyState(path) if Path(path).is_file() else None


def _namespace(store: ReadOnlyState | ReadOnlySqlState | None,
               namespace: str) -> tuple[dict[str, Any], ...]:
    if store is None:
        return ()
    return tuple({"key": key, **(value if isinstance(value, dict) else {"value": value})}
                 for key, value in store.items(namespace).items())


def read_fills(config: dict[str, Any]) -> list[dict[str, Any]]:
    url = settings_from(config).exchange.router.fills_log_url or fills_default_url(config)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return []
    log = FillsLog(url)
    try:
        return [{**row, "recorded_at": utc(row["recorded_at"])} for row in log.rows()]
    finally:
        log.close()


def read_hedge_legs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The spot hedge's filled legs: one row per leg with its trade, side and result."""
    path = Path(config.get("user_data_dir") or "user_data") / legs_file_name(config)
    if not path.is_file():
        return []
    rows = []
    for key, record in HedgeLegStore(ReadOnlyState(path)).items().items():  # type: ignore[arg-type]
        result = record.result
        if result is None or result.filled_base <= 0:
            continue
        rows.append({"key": key, "trade_id": result.request.trade_id,
                     "perp_pair": result.request.perp_pair,
                     "spot_symbol": result.request.spot_symbol, "side": result.request.side,
                     "action": result.request.action, "filled_base": result.filled_base,
                     "average_price": result.average_price, "fee_quote": result.fee_quote,
                     "fee_base": result.fee_base, "client_order_id": result.client_order_id,
                     "time": utc(pd.Timestamp(record.sent_ms, unit="ms"))})
    return rows


def read_vetoes(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The trading bot's veto decisions (``mode == 'live'``) from the LLM record."""
    path = llm_store_path(config, settings_from(config).llm)
    if not Path(path).is_file():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT pair, side, decided_at, allowed, reason_code, scale, detail, "
                          "origin, latency_ms FROM decisions WHERE kind='veto' AND mode='live' "
                          "AND decided_at IS NOT NULL ORDER BY id").fetchall()
    return [{**dict(r), "decided_at": utc(r["decided_at"])} for r in rows]


def read_candles(config: dict[str, Any], datadir: Path | None, pairs: Iterable[str],
                 start: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    """Candles of ``pairs`` over [start, end] from the data directory (missing pairs left out)."""
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import load_pair_history
    from freqtrade.enums import CandleType

    folder = data_directory(config, datadir)
    timeframe = str(config.get("timeframe") or "5m")
    candle_type = CandleType.FUTURES if config.get("trading_mode") == "futures" \
        else CandleType.SPOT
    span = TimeRange("date", "date", int((start - timedelta(days=1)).timestamp()),
                     int(end.timestamp()))
    out = {}
    for pair in sorted(pairs):
        frame = load_pair_history(pair, timeframe, folder, timerange=span,
                                  candle_type=candle_type, fill_up_missing=False)
        if len(frame):
            out[pair] = frame
    return out


def data_directory(config: dict[str, Any], datadir: Path | None) -> Path:
    """``--datadir``, else the config's ``datadir``, else freqtrade's default
    ``<user_data_dir>/data/<exchange>``."""
    if datadir is not None:
        return Path(datadir)
    if config.get("datadir"):
        return Path(config["datadir"])
    exchange = (config.get("exchange") or {}).get("name", "binance")
    return Path(config.get("user_data_dir") or "user_data") / "data" / exchange
