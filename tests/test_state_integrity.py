"""The state store and the start-up check as pure pieces: every way of losing the risk state
starts HALTED with its code; only a clean store that agrees with freqtrade's locks starts as
stored. (The same in a running dry-run bot: tests/test_state_fail_closed.py.)"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from centaur.decision import ReasonCode
from centaur.state import SCHEMA_VERSION, StateCorrupt, StateStore, StoreHealth
from risk_protections import trading_state as ts
from risk_protections.state_integrity import StartFacts, checked_start, suite_lock


NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
KILL = ts.Halt(ReasonCode.KILL_SWITCH, NOW - timedelta(hours=1), None, "operator", True)
KILL_LOCK = suite_lock(KILL.lock_reason, KILL.since, KILL.since + timedelta(days=3650))


def facts(raw=None, health=StoreHealth.OK, history=True, locks=(), read_error=None):
    return StartFacts("x.centaur.sqlite", health, "x.corrupt-1 (file is not a database)", raw,
                      read_error, history, tuple(locks))


def test_a_first_start_with_no_history_is_trusted():
    state, verdict = checked_start(facts(health=StoreHealth.NEW, history=False), NOW)
    assert verdict.allowed and state == ts.RiskState()


@pytest.mark.parametrize("health", [StoreHealth.NEW, StoreHealth.EMPTY])
def test_a_missing_or_truncated_file_with_history_is_lost_and_keeps_the_locks(health):
    state, verdict = checked_start(facts(health=health, locks=[KILL_LOCK]), NOW)
    assert not verdict.allowed and verdict.reason is ReasonCode.STATE_LOST
    assert "x.centaur.sqlite" in verdict.detail
    adopted, = state.active_halts(NOW)
    assert adopted.source is ReasonCode.KILL_SWITCH and adopted.until is None
    assert adopted.flatten


@pytest.mark.parametrize(("raw", "health", "read_error"), [
    (None, StoreHealth.CORRUPT, None),  # random bytes
    ({}, StoreHealth.OK, None),  # a stored state of {}
    ({**ts.to_json(ts.RiskState((KILL,))), "halts": [{**ts.to_json(ts.RiskState((KILL,)))[
        "halts"][0], "since": "yesterday"}]}, StoreHealth.OK, None),  # a bad stored date
    (None, StoreHealth.OK, "x.centaur.sqlite: risk/state fails its checksum"),
])
def test_an_unreadable_or_invalid_state_is_corrupt(raw, health, read_error):
    _, verdict = checked_start(facts(raw, health, read_error=read_error), NOW)
    assert not verdict.allowed and verdict.reason is ReasonCode.STATE_CORRUPT


def test_a_state_that_disagrees_with_freqtrades_locks_is_corrupt_and_adopts_them():
    state, verdict = checked_start(facts(ts.to_json(ts.RiskState()), locks=[KILL_LOCK]), NOW)
    assert verdict.reason is ReasonCode.STATE_CORRUPT and "disagrees" in verdict.detail
    assert [h.source for h in state.active_halts(NOW)] == [ReasonCode.KILL_SWITCH]


def test_a_timed_lock_outliving_its_halt_by_a_candle_is_adopted_not_corrupt():
    # freqtrade rounds a lock's end up to the next candle; the suite drops the halt on time
    timed = suite_lock("[EXCHANGE_ERROR_RATE] halted until the lock ends",
                       NOW - timedelta(minutes=10), NOW + timedelta(minutes=3))
    state, verdict = checked_start(facts(ts.to_json(ts.RiskState()), locks=[timed]), NOW)
    assert verdict.allowed
    halt, = state.active_halts(NOW)
    assert halt.source is ReasonCode.EXCHANGE_ERROR_RATE and halt.until == timed.until


def test_a_state_that_agrees_starts_as_stored():
    stored = ts.RiskState((KILL,), peak_equity_usd=10_500.0)
    state, verdict = checked_start(facts(ts.to_json(stored), locks=[KILL_LOCK]), NOW)
    assert verdict.allowed and state == stored


def test_resume_never_clears_a_state_halt():
    lost = ts.Halt(ReasonCode.STATE_LOST, NOW, None, "lost", False)
    state, cleared = ts.resumed(ts.RiskState((KILL, lost)), include_timed=True)
    assert cleared == [KILL] and state.halts == (lost,)


def test_other_locks_are_not_suite_locks():
    assert suite_lock("[LOSS_STREAK] 5 losses", NOW, NOW) is None
    assert suite_lock("manual lock", NOW, NOW) is None
    assert suite_lock("[MAX_DRAWDOWN] halted", NOW, NOW).source is ReasonCode.MAX_DRAWDOWN


# --- the store --------------------------------------------------------------------------------


def test_the_store_keeps_a_checksum_the_previous_value_and_a_backup(tmp_path):
    path = str(tmp_path / "bot.centaur.sqlite")
    store = StateStore(path)
    assert store.health is StoreHealth.NEW
    store.put("risk", "state", {"v": 1})
    store.put("risk", "state", {"v": 2})
    backup = store.backup()
    store.close()
    with sqlite3.connect(path) as db:
        value, previous = db.execute("SELECT value, previous_value FROM state").fetchone()
        version, = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert (value, previous, int(version)) == ('{"v": 2}', '{"v": 1}', SCHEMA_VERSION)
    assert StateStore(backup).get("risk", "state") == {"v": 2}
    assert StateStore(path).health is StoreHealth.OK


def test_a_tampered_value_fails_its_checksum(tmp_path):
    path = str(tmp_path / "bot.centaur.sqlite")
    StateStore(path).put("risk", "state", {"halts": ["KILL_SWITCH"]})
    with sqlite3.connect(path) as db:
        db.execute("UPDATE state SET value='{\"halts\": []}'")
    with pytest.raises(StateCorrupt, match="bot.centaur.sqlite: risk/state fails its checksum"):
        StateStore(path).get("risk", "state")


def test_random_bytes_are_moved_aside_never_overwritten(tmp_path):
    path = tmp_path / "bot.centaur.sqlite"
    garbage = os.urandom(4096)
    path.write_bytes(garbage)
    store = StateStore(str(path))
    assert store.health is StoreHealth.CORRUPT and store.is_empty()
    aside, = tmp_path.glob("bot.centaur.sqlite.corrupt-*")
    assert aside.read_bytes() == garbage and "file is not a database" in store.moved_aside


def test_a_truncated_file_is_empty(tmp_path):
    path = tmp_path / "bot.centaur.sqlite"
    path.write_bytes(b"")
    assert StateStore(str(path)).health is StoreHealth.EMPTY


def test_a_first_layout_store_is_migrated_with_its_values(tmp_path):
    path = str(tmp_path / "old.centaur.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE state (namespace TEXT NOT NULL, key TEXT NOT NULL, "
                   "value TEXT NOT NULL, PRIMARY KEY (namespace, key))")
        db.execute("INSERT INTO state VALUES ('risk', 'state', '{\"peak\": 1}')")
    store = StateStore(path)
    assert store.health is StoreHealth.OK and store.get("risk", "state") == {"peak": 1}
    store.put("risk", "state", {"peak": 2})
    assert StateStore(path).get("risk", "state") == {"peak": 2}
