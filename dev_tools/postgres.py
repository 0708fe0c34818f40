"""A throw-away PostgreSQL server from Debian's packages, for tests and benchmarks.

The server is the machine's own ``initdb`` / ``pg_ctl`` (``/usr/lib/postgresql/<version>/bin``,
the newest version found), run as the ``postgres`` user when run as root (the server refuses
root), else as the current user: trust authentication for the role ``centaur``, listening on
127.0.0.1 on a free port, fsync off, its data directory in a temporary folder removed when the
server stops. ``database(hint)`` creates a fresh database and gives its URL, which names the
``pg8000`` driver that freqtrade, the fills log, the state store and Optuna's ``RDBStorage``
all accept through SQLAlchemy (``postgresql+pg8000://centaur@127.0.0.1:<port>/<database>``).

    with running_postgres() as server:
        url = server.database("bench")

Where the binaries, the ``postgres`` user or ``pg8000`` are missing, ``PostgresServer()``
raises ``PostgresUnavailable`` saying which (``dev_tools/system_packages.sh`` installs Debian's
``postgresql``). The pytest fixtures are in ``tests/support/postgres.py``.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BINARIES = Path("/usr/lib/postgresql")
ROLE = "centaur"
START_TIMEOUT_SECS = 60


class PostgresUnavailable(RuntimeError):
    """This machine cannot run the server; the message says what is missing."""


def find_bin_dir(root: Path = BINARIES) -> Path:
    """The newest ``<version>/bin`` of Debian's PostgreSQL packages."""
    found = [path.parent for path in root.glob("*/bin/postgres")] if root.is_dir() else []
    numeric = [path for path in found if path.parent.name.isdigit()]
    if not numeric:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries under {root}/<version>/bin. Fix: install Debian's "
            "'postgresql' package (bash dev_tools/system_packages.sh)")
    return max(numeric, key=lambda path: int(path.parent.name))


def _run_as() -> tuple[list[str], str | None]:
    """The command prefix that runs the server's binaries, and the owner of its files."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam("postgres")
    except KeyError as missing:
        raise PostgresUnavailable("running as root, but there is no 'postgres' user to run "
                                  "the server as. Fix: install Debian's 'postgresql' package"
                                  ) from missing
    return ["runuser", "-u", "postgres", "--"], "postgres"


class PostgresServer:
    """A throw-away PostgreSQL cluster: ``start()``, ``database()`` per user, ``stop()``."""

    def __init__(self, bin_dir: Path | None = None, listen: tuple[str, ...] = ("127.0.0.1",),
                 trusted_networks: tuple[str, ...] = ()):
        """``listen``: the addresses it accepts connections on; ``trusted_networks``: CIDR
        ranges besides loopback allowed in without a password (e.g. other machines' links)."""
        self.listen, self.trusted_networks = listen, trusted_networks
        try:
            import pg8000.native  # noqa: F401 - the driver every URL here names
        except ImportError as missing:
            raise PostgresUnavailable(f"the pg8000 driver is not installed ({missing}). Fix: "
                                      "install the project's test dependencies") from missing
        self.bin_dir = bin_dir or find_bin_dir()
        self._prefix, owner = _run_as()
        self.folder = Path(tempfile.mkdtemp(prefix="centaur-pg-"))
        if owner:
            shutil.chown(self.folder, owner)
        self.data = self.folder / "data"
        self.log_path = self.folder / "server.log"
        self.port = 0
        self._names = itertools.count(1)

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self._prefix, str(self.bin_dir / tool), *args],
                              capture_output=True, text=True, timeout=START_TIMEOUT_SECS + 30)
        if done.returncode != 0:
            log = self.log_path.read_text() if self.log_path.is_file() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}\n{log[-3000:]}")
        return done

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", ROLE, "-E", "UTF8",
                  "--no-sync")
        if self.trusted_networks:
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.writelines(f"host all all {net} trust\n" for net in self.trusted_networks)
        self.port = _free_port()
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses={','.join(self.listen)} "
                   "-c fsync=off -c max_connections=200")
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log_path), "-w",
                  "-t", str(START_TIMEOUT_SECS), "-o", options)
        return self

    def stop(self) -> None:
        """Fast shutdown (open sessions are ended), then the folder is removed."""
        try:
            if (self.data / "postmaster.pid").is_file():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+pg8000://{ROLE}@127.0.0.1:{self.port}/{database}"

    def database(self, hint: str = "test") -> str:
        """A new, empty database's URL (its name: ``hint`` made an identifier + a number)."""
        import pg8000.native

        stem = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:40].strip("_") or "test"
        name = f"{stem}_{next(self._names)}"
        connection = pg8000.native.Connection(ROLE, host="127.0.0.1", port=self.port,
                                              database="postgres")
        try:
            connection.run(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server, stopped and removed on exit (raises ``PostgresUnavailable``)."""
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
