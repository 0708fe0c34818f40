"""The test session's PostgreSQL: pytest fixtures over ``dev_tools.postgres``.

The session fixture ``postgres_server`` starts one server (Debian's binaries, a free port, a
temporary data directory) on first use and stops it at the end of the session;
``postgres_database`` is a fresh database's URL per test, so no test sees another's rows
(``postgresql+pg8000://centaur@127.0.0.1:<port>/<database>``). Where the binaries, the
``postgres`` user or ``pg8000`` are missing, those tests are skipped saying which
(``dev_tools/system_packages.sh`` installs Debian's ``postgresql``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dev_tools.postgres import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's server: started by the first test that asks, stopped at session end."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as missing:
        pytest.skip(f"PostgreSQL tests need a local server: {missing}")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh database for this test: ``postgresql+pg8000://centaur@127.0.0.1:<port>/<db>``."""
    return postgres_server.database(request.node.name)
