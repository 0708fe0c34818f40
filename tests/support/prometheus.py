"""Debian's real Prometheus server for tests: a temp config, a free port, PromQL over HTTP.

``running_prometheus(directory, targets)`` starts ``/usr/bin/prometheus`` (the ``prometheus``
package; ``dev_tools/system_packages.sh`` installs it) scraping each ``host:port`` target every
second as job ``centaur``, with its TSDB in ``directory``; ``query`` answers an instant PromQL
query through ``/api/v1/query``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.processes import free_port, wait_until

PROMETHEUS = "/usr/bin/prometheus"
JOB = "centaur"
_TARGET = ("__name__", "job", "instance")


class PromQLError(RuntimeError):
    """Prometheus refused a query (its ``errorType`` and ``error``)."""


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen
    log_path: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar as one element) ``expr`` evaluates to now."""
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr},
                              timeout=10).json()
        if answer.get("status") != "success":
            raise PromQLError(f"{answer.get('errorType')}: {answer.get('error')} in {expr!r}")
        data = answer["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def values(self, expr: str) -> dict[tuple, float]:
        """``expr``'s series as {sorted label items but the name, job and instance: value}."""
        return {tuple(sorted((k, v) for k, v in r["metric"].items() if k not in _TARGET)):
                float(r["value"][1]) for r in self.query(expr)}

    def targets_up(self) -> bool:
        active = requests.get(f"{self.url}/api/v1/targets", timeout=10).json()["data"][
            "activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)

    def log(self) -> str:
        return self.log_path.read_text()


def available() -> bool:
    return shutil.which(PROMETHEUS) is not None


@contextmanager
def running_prometheus(directory: Path, targets: list[str], scrape_interval_secs: int = 1
                       ) -> Iterator[Prometheus]:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"  # JSON is YAML
    config.write_text(json.dumps({
        "global": {"scrape_interval": f"{scrape_interval_secs}s",
                   "evaluation_interval": f"{scrape_interval_secs}s"},
        "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": targets}]}],
    }))
    port = free_port()
    log_path = directory / "prometheus.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={directory / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)
    server = Prometheus(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until(lambda: _ready(server), 60, "Prometheus to be ready")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _ready(server: Prometheus) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"prometheus exited:\n{server.log()[-3000:]}")
    return requests.get(f"{server.url}/-/ready", timeout=5).status_code == 200
