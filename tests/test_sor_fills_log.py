"""The fills log on SQLite (the default) and PostgreSQL (through a SQLAlchemy URL).

PostgreSQL is a real server started for the test from the machine's PostgreSQL binaries
(``initdb``/``postgres`` run as the ``postgres`` user) and reached through ``pg8000``; the
PostgreSQL case is skipped, saying why, where either is missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sor_exchange.fills_log import Fill, FillsLog
from tests.support.processes import free_port, wait_until


def _fill(parent: str, strategy: str, venue: str, price: float, amount: float) -> Fill:
    return Fill(parent_order_id=parent, strategy=strategy, pair="BTC/USDT:USDT", side="buy",
                venue=venue, client_order_id=f"ctr{parent}{venue}", venue_order_id="1",
                price=price, amount=amount, fee_quote=price * amount * 0.0005,
                fee_estimated=False, arrival_mid=100_000.0, dry_run=True)


@pytest.fixture(scope="module")
def postgres_url():
    binaries = Path("/usr/lib/postgresql")
    found = sorted(binaries.glob("*/bin/initdb")) if binaries.is_dir() else []
    initdb = found[-1] if found else None
    try:
        import pg8000  # noqa: F401 - the driver the URL names
        pwd.getpwnam("postgres")
    except (ImportError, KeyError) as missing:
        pytest.skip(f"PostgreSQL case needs pg8000 and a postgres user: {missing}")
    if initdb is None or os.geteuid() != 0:
        pytest.skip("PostgreSQL case needs the PostgreSQL binaries and root to run them as "
                    "the postgres user")
    folder = Path(tempfile.mkdtemp(prefix="sor-pg-"))
    shutil.chown(folder, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(initdb), "-D", str(folder / "data"), "-A", "trust",
                    "-U", "centaur"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([*as_postgres, str(initdb.parent / "postgres"), "-D",
                               str(folder / "data"), "-p", str(port), "-k", str(folder),
                               "-c", "listen_addresses=127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql+pg8000://centaur@127.0.0.1:{port}/postgres"
    try:
        wait_until(lambda: FillsLog(url).close() is None, 30, "PostgreSQL to accept connections",
                   interval=0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def fills(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'fills.sqlite'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres_url")
    log = FillsLog(url)
    yield log
    if request.param == "postgresql":
        from sor_exchange.fills_log import FILLS

        with log._engine.begin() as connection:
            connection.execute(FILLS.delete())
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
