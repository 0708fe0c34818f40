"""Stand-ins for separate machines: Linux network namespaces joined to this host by veth pairs.

Each ``Machine`` is a namespace with only its own loopback and one link to the host (host
side ``10.231.<n>.1``, machine side ``10.231.<n>.2``): a process started in it through
``ip netns exec`` reaches a server on the host only at ``host_ip``, as a worker on another
machine would. Needs root (CAP_NET_ADMIN) and iproute2; ``machines()`` yields None where
either is missing so the caller can say so and fall back to plain processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Machine:
    namespace: str
    host_ip: str  # the host as this machine sees it
    ip: str

    def command(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextmanager
def machines(count: int) -> Iterator[list[Machine] | None]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield None
        return
    tag = os.getpid() % 10_000
    made: list[Machine] = []
    try:
        for n in range(1, count + 1):
            namespace, host_link, link = f"centaur-m{n}-{tag}", f"cvh{n}x{tag}", f"cvm{n}x{tag}"
            _ip("netns", "add", namespace)
            made.append(Machine(namespace, f"10.231.{n}.1", f"10.231.{n}.2"))
            _ip("link", "add", host_link, "type", "veth", "peer", "name", link)
            _ip("link", "set", link, "netns", namespace)
            _ip("addr", "add", f"10.231.{n}.1/24", "dev", host_link)
            _ip("link", "set", host_link, "up")
            _ip("netns", "exec", namespace, "ip", "addr", "add", f"10.231.{n}.2/24", "dev", link)
            _ip("netns", "exec", namespace, "ip", "link", "set", link, "up")
            _ip("netns", "exec", namespace, "ip", "link", "set", "lo", "up")
    except subprocess.CalledProcessError:
        for machine in made:
            subprocess.run(["ip", "netns", "del", machine.namespace], capture_output=True)
        yield None
        return
    try:
        yield made
    finally:
        for machine in made:  # deleting the namespace deletes its end of the veth pair
            subprocess.run(["ip", "netns", "del", machine.namespace], capture_output=True)
