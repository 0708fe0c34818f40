"""The fills log on SQLite (the default) and PostgreSQL (through a SQLAlchemy URL).

PostgreSQL is the session's real server (``tests/support/postgres.py``: Debian's binaries,
reached through ``pg8000``), a fresh database per test; the PostgreSQL case is skipped, saying
why, where the server cannot run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centaur.redaction import REDACTOR
from sor_exchange.fills_log import Fill, FillsLog, default_url


def _fill(parent: str, strategy: str, venue: str, price: float, amount: float) -> Fill:
    return Fill(parent_order_id=parent, strategy=strategy, pair="BTC/USDT:USDT", side="buy",
                venue=venue, client_order_id=f"ctr{parent}{venue}", venue_order_id="1",
                price=price, amount=amount, fee_quote=price * amount * 0.0005,
                fee_estimated=False, arrival_mid=100_000.0, dry_run=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def fills(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'fills.sqlite'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres_database")
    log = FillsLog(url)
    yield log
    log.close()


def test_fills_attribute_cost_per_strategy_and_venue(fills):
    at = datetime(2025, 10, 10, 12, tzinfo=UTC)
    fills.record(_fill("sor-a", "Trend", "binance", 100_010.0, 1.0), at)
    fills.record(_fill("sor-a", "Trend", "okx", 100_030.0, 1.0), at)
    fills.record(_fill("sor-b", "MeanRev", "binance", 100_020.0, 3.0), at)
    assert sorted(fills.unattributed_parents()) == ["sor-a", "sor-b"]
    assert fills.attribute("sor-a", 7, "trend_pullback") == 2
    assert fills.unattributed_parents() == ["sor-b"]
    by_venue = {(r["strategy"], r["venue"]): r for r in fills.summary("strategy", "venue")}
    assert by_venue[("Trend", "okx")]["slippage_bps"] == pytest.approx(3.0)
    assert by_venue[("MeanRev", "binance")]["notional_quote"] == pytest.approx(300_060.0)
    by_strategy = {r["strategy"]: r for r in fills.summary("strategy")}
    notional = 100_010.0 + 100_030.0  # slippage is weighted by notional
    assert by_strategy["Trend"]["slippage_bps"] == pytest.approx(
        (1.0 * 100_010.0 + 3.0 * 100_030.0) / notional)
    assert by_strategy["Trend"]["fills"] == 2
    rows = [r for r in fills.rows() if r["parent_order_id"] == "sor-a"]
    assert {r["trade_id"] for r in rows} == {7}
    assert {r["signal_tag"] for r in rows} == {"trend_pullback"}



def test_the_log_follows_the_bots_database(tmp_path):
    assert default_url({"db_url": f"sqlite:///{tmp_path / 'bot.sqlite'}"}) == \
        f"sqlite:///{tmp_path / 'bot.sor-fills.sqlite'}"
    postgres = "postgresql+pg8000://bot:fills-pw-71c2@db-host:5432/trading"
    assert default_url({"db_url": postgres}) == postgres  # table sor_fills beside freqtrade's
    assert default_url({"db_url": "sqlite://", "user_data_dir": str(tmp_path)}) == \
        f"sqlite:///{tmp_path / 'sor-fills.sqlite'}"


@pytest.mark.slow
def test_a_postgresql_password_is_never_shown(postgres_database):
    password = "fills-pw-71c2"  # trust auth ignores it
    log = FillsLog(postgres_database.replace("centaur@", f"centaur:{password}@", 1))
    try:
        assert password not in log.shown_url and ":***@" in log.shown_url
        assert password not in REDACTOR.text(f"could not reach {log.url}")
    finally:
        log.close()
