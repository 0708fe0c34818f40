"""The study's storage: an Optuna RDB storage named by URL, with heartbeats.

A worker records a heartbeat for its running trial every ``heartbeat_secs``. A trial whose
heartbeat is older than ``grace_secs`` (its worker was killed, its machine lost) is failed by
the next worker that looks (``fail_stale_trials``) and enqueued again with the same parameters
(``RetryHeartbeatStaleTrialCallback``), so a kill leaves a FAILED trial and a retry, never a
corrupt study. Every write is one transaction of the database.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from freqtrade.misc import parse_db_uri_for_logging

from centaur.redaction import REDACTOR

DEFAULT_FILE = "centaur-studies.sqlite"

# Heartbeats with ask/tell (not Study.optimize) are this module's job; Optuna marks the API
# experimental and says so on every call.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning,
                        module=r"optuna\..*|dev_tools\.study\..*")
warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used",
                        category=UserWarning)


@dataclass(frozen=True)
class StorageSettings:
    url: str
    heartbeat_secs: int = 10
    grace_secs: int = 60
    max_retry: int = 2  # a trial is retried at most this often after its worker died

    def __post_init__(self) -> None:
        if self.heartbeat_secs < 1:
            raise ValueError(f"--heartbeat-secs {self.heartbeat_secs}: must be >= 1")
        if self.grace_secs <= self.heartbeat_secs:
            raise ValueError(f"--grace-secs {self.grace_secs} must exceed --heartbeat-secs "
                             f"{self.heartbeat_secs}: a live worker would be taken for dead")
        if not self.url.startswith(("sqlite:///", "postgresql", "mysql")):
            raise ValueError(f"--storage {shown_url(self.url)}: not an RDB URL. Fix: "
                             "sqlite:///path/to/studies.sqlite (one machine) or "
                             "postgresql+pg8000://user:password@host:5432/db (many)")


def shown_url(url: str) -> str:
    """The URL as it may be printed or stored: its password masked."""
    return parse_db_uri_for_logging(url)


def remember_password(url: str) -> None:
    """Mask the URL's password in every log line and error of this process."""
    password = re.match(r"^[^:]+://[^:/@]*:([^@]*)@", url)
    if password:
        REDACTOR.add([password.group(1)])


def default_url(user_data_dir: Path) -> str:
    """One machine: a SQLite file beside freqtrade's hyperopt results."""
    folder = Path(user_data_dir) / "hyperopt_results"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / DEFAULT_FILE).resolve()}"


def open_storage(settings: StorageSettings) -> RDBStorage:
    """The RDB storage with heartbeats and the retry of trials whose worker died."""
    try:
        return RDBStorage(settings.url, heartbeat_interval=settings.heartbeat_secs,
                          grace_period=settings.grace_secs,
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                              max_retry=settings.max_retry),
                          engine_kwargs=_engine_kwargs(settings.url))
    except Exception as err:  # noqa: BLE001 - SQLAlchemy/driver errors carry the URL
        raise ConnectionError(f"cannot open the study storage {shown_url(settings.url)}: "
                              f"{type(err).__name__}. Fix: start the database or correct "
                              "--storage") from None


def _engine_kwargs(url: str) -> dict:
    if url.startswith("sqlite"):
        # Several worker processes on one machine: wait for the writer instead of failing.
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


class Heartbeat:
    """Records the running trial's heartbeat on a thread until the block ends."""

    def __init__(self, storage: RDBStorage, trial_id: int, interval_secs: float):
        self._storage, self._trial_id, self._interval_secs = storage, trial_id, interval_secs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{trial_id}",
                                        daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_secs):
            self._storage.record_heartbeat(self._trial_id)

    def __enter__(self) -> Heartbeat:
        self._storage.record_heartbeat(self._trial_id)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
