"""The suite's state store in PostgreSQL: a real server (``tests/support/postgres.py``), a fresh
database per test, and a ``freqtrade trade`` dry-run bot whose ``db_url`` is PostgreSQL keeping
its risk state there, beside freqtrade's tables, with no SQLite state file.

Where the store lives (``state_path``) and the ``centaur.state_url`` errors need no server.
"""

from __future__ import annotations

import json
import math
import pickle
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from freqtrade.enums import RunMode
from freqtrade_client import FtRestClient
from sqlalchemy import create_engine, text

from centaur.settings import CentaurConfigError, settings_from
from centaur.state import StateCorrupt, StateStore, StoreHealth, open_state, state_path
from centaur.state_sql import SCHEMA_VERSION, ReadOnlySqlState, SqlStateStore
from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import freqtrade_env, venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT, RECORDINGS
from tests.support.processes import TradeProcess, free_port, wait_until

PASSWORD = "pg-test-password-5e1d"  # trust auth ignores it; it must never be shown


def _with_password(url: str) -> str:
    return url.replace("centaur@", f"centaur:{PASSWORD}@", 1)


def _trading(**config) -> dict:
    return {"runmode": RunMode.DRY_RUN, "bot_name": "b", "user_data_dir": "/ud", **config}


@pytest.fixture
def store(postgres_database):
    opened = SqlStateStore(_with_password(postgres_database))
    yield opened
    opened.close()


def _sql(url: str, statement: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.begin() as db:
            result = db.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


# --- where the store lives: no server needed ----------------------------------------------


def test_the_store_follows_a_postgresql_db_url_or_the_explicit_state_url():
    pg = "postgresql+pg8000://bot:pw@db.example:5432/trades"
    assert state_path(_trading(db_url=pg)) == pg  # freqtrade's own database
    assert state_path(_trading(db_url="sqlite:///x/t.sqlite")) == "x/t.centaur.sqlite"
    assert state_path(_trading(db_url="mysql://u@h/d")) == "/ud/centaur_state/b.sqlite"
    explicit = "postgresql://state@db.example/centaur"
    assert state_path(_trading(db_url="sqlite:///t.sqlite",
                               centaur={"state_url": explicit})) == explicit
    assert state_path(_trading(db_url=pg, centaur={"state_url": "sqlite:////s/state.sqlite"})
                      ) == "/s/state.sqlite"
    assert state_path({"runmode": RunMode.BACKTEST, "db_url": pg}) == ":memory:"


@pytest.mark.parametrize(("value", "says"), [
    (5, "Input should be a valid string"),
    (f"mysql://bot:{PASSWORD}@db/centaur", "unknown URL scheme 'mysql'"),
    ("sqlite:///:memory:", "a sqlite state_url names a file"),
])
def test_a_bad_state_url_names_the_key_and_the_fix_never_the_password(value, says):
    with pytest.raises(CentaurConfigError) as raised:
        settings_from({"centaur": {"state_url": value}})
    message = str(raised.value)
    assert "centaur.state_url" in message and says in message and "Fix:" in message
    assert PASSWORD not in message


# --- the store against the real server --------------------------------------------------


@pytest.mark.slow
def test_values_round_trip_with_checksum_previous_value_and_schema(store, postgres_database):
    assert store.health is StoreHealth.NEW and store.is_empty()
    assert PASSWORD not in store.path and store.path.endswith("table centaur_state")
    store.put("risk", "state", {"peak": 1.5, "halts": []})
    store.put("risk", "state", {"peak": 2.0, "halts": ["KILL_SWITCH"]})
    store.put_many("journal", {"b": [1, 2], "a": None, "c": "text"})
    assert store.get("risk", "state") == {"peak": 2.0, "halts": ["KILL_SWITCH"]}
    assert store.get("risk", "missing", "default") == "default"
    assert list(store.items("journal")) == ["a", "b", "c"]  # ordered by key
    (value, previous), = _sql(postgres_database, "SELECT value, previous_value FROM "
                              "centaur_state WHERE namespace='risk'")
    assert json.loads(previous) == {"peak": 1.5, "halts": []}  # the previous good value
    assert json.loads(value)["peak"] == 2.0
    assert _sql(postgres_database, "SELECT value FROM centaur_state_meta WHERE "
                "key='schema_version'") == [(str(SCHEMA_VERSION),)]
    store.delete("journal", "b")
    assert list(store.items("journal")) == ["a", "c"]
    store.clear("journal")
    assert store.items("journal") == {} and not store.is_empty()


@pytest.mark.slow
def test_put_many_writes_all_of_a_batch_or_none(store):
    store.put_many("journal", {"a": 1, "b": 2})
    with pytest.raises(ValueError):  # not JSON: refused before anything is written
        store.put_many("journal", {"a": 10, "b": math.nan})
    with pytest.raises(Exception, match="0x00"):  # PostgreSQL refuses a NUL in the second key
        store.put_many("journal", {"a": 10, "b\x00": 20, "c": 30})
    assert store.items("journal") == {"a": 1, "b": 2}


@pytest.mark.slow
def test_a_tampered_row_raises_state_corrupt_naming_where(store, postgres_database):
    store.put("risk", "state", {"halts": ["KILL_SWITCH"]})
    _sql(postgres_database, "UPDATE centaur_state SET value = :v WHERE key = 'state'",
         v=json.dumps({"halts": []}))  # the kill switch edited away, checksum left
    with pytest.raises(StateCorrupt) as raised:
        store.get("risk", "state")
    message = str(raised.value)
    assert "table centaur_state: risk/state fails its checksum" in message
    assert postgres_database.rsplit("/", 1)[1] in message  # the database
    assert "centaur_state_backup" in message and PASSWORD not in message
    _sql(postgres_database, "UPDATE centaur_state SET value = '{not json', checksum = "
         "encode(sha256('{not json'), 'hex') WHERE key = 'state'")
    with pytest.raises(StateCorrupt, match="risk/state is not JSON"):
        store.items("risk")


@pytest.mark.slow
def test_a_new_store_and_a_fresh_process_see_the_values(store, postgres_database):
    store.put_many("risk", {"state": {"peak": 3.0}, "day": "2025-06-10"})
    reopened = SqlStateStore(postgres_database)
    assert reopened.health is StoreHealth.OK
    assert reopened.items("risk") == {"day": "2025-06-10", "state": {"peak": 3.0}}
    reopened.close()
    read = ("import json, sys\nfrom centaur.state_sql import SqlStateStore\n"
            "print(json.dumps(SqlStateStore(sys.argv[1]).items('risk')))")
    done = subprocess.run([sys.executable, "-c", read, postgres_database], cwd=PROJECT_ROOT,
                          env=freqtrade_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"day": "2025-06-10", "state": {"peak": 3.0}}


@pytest.mark.slow
def test_a_pickled_store_reconnects(store):
    store.put("tracker", "stats", {"n": 1})
    copy = pickle.loads(pickle.dumps(store))  # what hyperopt does to a strategy's store
    try:
        assert copy is not store and copy.health is StoreHealth.OK
        copy.put("tracker", "stats", {"n": 2})  # written through its own connection
        assert store.get("tracker", "stats") == {"n": 2}
    finally:
        copy.close()


@pytest.mark.slow
def test_the_backup_keeps_the_last_state_checked_good(store, postgres_database):
    assert store.backup_path() is None
    store.put("risk", "state", {"peak": 1.0})
    assert store.backup() == store.backup_path()
    assert store.backup_path().endswith("table centaur_state_backup")
    store.put("risk", "state", {"peak": 9.0})
    assert _sql(postgres_database, "SELECT value FROM centaur_state_backup") == [
        ('{"peak": 1.0}',)]


@pytest.mark.slow
def test_tables_of_a_newer_schema_are_moved_aside_never_dropped(store, postgres_database):
    store.put("risk", "state", {"peak": 1.0})
    _sql(postgres_database, "UPDATE centaur_state_meta SET value = '99' "
         "WHERE key = 'schema_version'")
    reopened = SqlStateStore(postgres_database)
    try:
        assert reopened.health is StoreHealth.CORRUPT and reopened.is_empty()
        assert "schema version 99 is newer" in reopened.moved_aside
        aside = reopened.moved_aside.split()[1]
        assert _sql(postgres_database, f'SELECT key FROM "{aside}".centaur_state') == [
            ("state",)]
    finally:
        reopened.close()


@pytest.mark.slow
def test_a_reader_of_a_running_bots_tables_never_creates_or_writes_them(postgres_database):
    reader = ReadOnlySqlState(_with_password(postgres_database))
    assert reader.items("events") == {}  # the bot has not written yet: empty, nothing made
    assert _sql(postgres_database, "SELECT tablename FROM pg_tables "
                "WHERE tablename LIKE 'centaur_state%'") == []
    written = SqlStateStore(postgres_database)
    try:
        written.put("events", "0001", {"code": "KILL_SWITCH"})
    finally:
        written.close()
    assert reader.items("events") == {"0001": {"code": "KILL_SWITCH"}}
    assert reader.items("risk") == {}


@pytest.mark.slow
def test_open_state_gives_one_postgresql_store_per_url(postgres_database):
    config = _trading(db_url=postgres_database)
    first = open_state(config)
    assert isinstance(first, SqlStateStore) and open_state(config) is first
    first.put("risk", "state", {"peak": 1.0})
    explicit = open_state(_trading(db_url="sqlite:///unused.sqlite",
                                   centaur={"state_url": postgres_database}))
    assert explicit is first
    assert isinstance(open_state({"runmode": RunMode.BACKTEST, "db_url": postgres_database}),
                      StateStore)  # a backtest: its own memory store, never the bot's


# --- a dry-run bot on PostgreSQL ---------------------------------------------------------

USER, API_PASSWORD = "centaur", "pg-bot-api-password-19af"
ENV = {"FREQTRADE__API_SERVER__PASSWORD": API_PASSWORD,
       "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "j" * 24 + "-pg-state-jwt",
       "FREQTRADE__API_SERVER__WS_TOKEN": "pg-state-ws-token-3b7c"}


class Bot:
    def __init__(self, config, log_path, api_port: int):
        self.process = TradeProcess(config, log_path, env=ENV)
        self.client = FtRestClient(f"http://127.0.0.1:{api_port}", USER, API_PASSWORD,
                                   timeout=120)
        wait_until(lambda: self.client.ping() == {"status": "pong"}, 180, "the REST API",
                   self.process)
        wait_until(lambda: self.status().get("trading_state"), 60, "the risk state",
                   self.process)

    def status(self) -> dict:
        return self.client._get("centaur/status")["strategy_status"]

    def stop(self) -> None:
        assert self.process.stop(signal.SIGINT) in (0, 130)


@pytest.mark.slow
def test_a_dry_run_bot_on_postgresql_keeps_the_suite_state_there(postgres_database,
                                                                  tmp_path):
    db_url = _with_password(postgres_database)  # freqtrade's URL form, driver pg8000
    api_port = free_port()
    venue_settings = VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                   anchor=datetime(2025, 6, 10, 12, tzinfo=UTC))
    with running_venue(venue_settings) as venue:
        config = write_config(tmp_path, "dry-run.json", {
            "db_url": db_url, "exchange": {"ccxt_config": venue_ccxt_config(venue.url)},
            "api_server": {"listen_port": api_port}})
        first = Bot(config, tmp_path / "first.log", api_port)
        try:
            assert first.status()["trading_state"] == "ACTIVE"
            assert first.client._post("centaur/killswitch")["halted"].startswith(
                "[KILL_SWITCH]")
        finally:
            first.stop()
        stored = SqlStateStore(postgres_database)
        try:
            halts = stored.get("risk", "state")["halts"]
            assert [halt["source"] for halt in halts] == ["KILL_SWITCH"]
            assert stored.backup_path()  # the start-up check passed and backed it up
        finally:
            stored.close()
        tables = {name for name, in _sql(postgres_database, "SELECT tablename FROM pg_tables "
                                         "WHERE schemaname = 'public'")}
        assert {"trades", "pairlocks", "centaur_state", "centaur_state_meta"} <= tables

        # restarted: the halt comes back from PostgreSQL (not STATE_LOST beside the lock)
        second = Bot(config, tmp_path / "second.log", api_port)
        try:
            assert set(second.status()["halt_codes"]) == {"KILL_SWITCH"}
        finally:
            second.stop()
    assert not (tmp_path / "user_data" / "centaur_state").exists()
    assert not list(tmp_path.rglob("*.centaur.sqlite"))
    for bot in (first, second):
        assert PASSWORD not in bot.process.log()

    # the weekly report reads the suite's records from the same PostgreSQL tables
    out = tmp_path / "weekly"
    report_run = subprocess.run(
        [sys.executable, "-m", "control_tower.weekly_report", "--config", str(config),
         "--out", str(out)],
        cwd=PROJECT_ROOT, env=freqtrade_env(), capture_output=True, text=True, timeout=300)
    assert report_run.returncode == 0, report_run.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    assert [h["code"] for h in report["halts"]] == ["KILL_SWITCH"]
    assert [(o["source"], o["code"]) for o in report["overrides"]] == [
        ("events", "KILL_SWITCH")]
    assert "REST API" in report["overrides"][0]["message"]
    for written in (*out.parent.glob("weekly.*"), ):
        if written.suffix in (".json", ".md", ".html"):
            assert PASSWORD not in written.read_text()
    assert PASSWORD not in report_run.stdout + report_run.stderr
