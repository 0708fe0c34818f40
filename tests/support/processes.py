"""A ``freqtrade trade`` process for tests: started, polled, stopped, its log kept."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.support.freqtrade_run import freqtrade_env
from tests.support.paths import PROJECT_ROOT


T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_sigint() -> None:
    """In the child: SIGINT back to its default. A shell running the tests in the background
    without job control (``make test &``, some CI runners) starts them with SIGINT ignored,
    the child inherits that, and Python then never turns SIGINT into the KeyboardInterrupt
    freqtrade shuts down on: every ``stop`` would wait for its timeout and kill."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class TradeProcess:
    """``freqtrade <command> -c config`` (``trade`` by default; ``webserver`` for FreqUI's
    backtest mode), its output in ``log_path``."""

    def __init__(self, config: Path, log_path: Path, env: dict[str, str],
                 command: str = "trade"):
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "freqtrade", command, "-c", str(config)],
            cwd=PROJECT_ROOT, env=freqtrade_env(env), stdout=self._log,
            stderr=subprocess.STDOUT, preexec_fn=_default_sigint,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, sig: int = signal.SIGINT, attempts: int = 3,
             wait_secs: float = 20) -> int:
        """Send ``sig`` and wait; again, as an operator presses Ctrl-C again, when the process
        is still running: a SIGINT (or freqtrade's SIGTERM, also a KeyboardInterrupt) that
        lands while a finalizer runs (``__del__``, e.g. aiohttp's) is raised there and ignored
        by Python ("Exception ignored in"), and freqtrade trades on. Killed after that."""
        for _ in range(attempts):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=wait_secs)
            except subprocess.TimeoutExpired:
                continue
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()
        return self.process.returncode


def wait_until(probe: Callable[[], T | None], timeout: float, what: str,
               process: TradeProcess | None = None, interval: float = 1.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail with the bot's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.process.poll() is not None:
            raise AssertionError(f"freqtrade exited while waiting for {what}:\n"
                                 f"{process.log()[-5000:]}")
        try:
            value = probe()
        except Exception:  # noqa: BLE001 - the bot may not answer yet
            value = None
        if value:
            return value
        time.sleep(interval)
    tail = process.log()[-5000:] if process else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []
