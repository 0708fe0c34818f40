"""Benchmark: veto latency per local model against the live timeout, prompt cache on and off.

For every model of ``llm_layer/models.py`` present on this machine (the split ones after
``make llm-fetch``), the server is started as ``centaur llm serve --model NAME`` starts it and
the veto's real path (prompt from real candles and headlines, call, validation, record) decides
``--decisions`` proposals with llama.cpp's prompt cache (the default: the fixed system prompt
is evaluated once), then the first ``--uncached-decisions`` of them again without it. Reported per model and mode: the first call
(model load warm-up excluded: the server answers /health first), p50/p95 over the rest, the
share over ``centaur.llm.timeout_secs`` (the live limit), the opinions given, and the p50 ratio
against the baseline SmolLM2-135M.

    python -m bench.llm_models [--decisions 20]     -> bench/results/llm_models.json
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import write_result
from bench.llm import _cases, _engine, _free_port, _percentiles
from centaur.settings.llm import LlmSettings
from llm_layer import models, server

BASELINE = "SmolLM2-135M-Instruct"


def _run(name: str, prompt_cache: bool, cases, work: Path, live_timeout_secs: float) -> dict:
    spec = server.model_spec(name, port=_free_port(), prompt_cache=prompt_cache)
    tag = f"{name}-{'cache' if prompt_cache else 'nocache'}"
    pidfile, store = work / f"{tag}.json", work / f"{tag}.sqlite"
    load_started = time.perf_counter()
    server.start(spec, pidfile, work / f"{tag}.log", ready_timeout_secs=300)
    load_secs = time.perf_counter() - load_started
    engine = _engine("record", spec.base_url, store)
    times_ms, opinions = [], Counter()
    try:
        for proposal, market in cases:
            started = time.perf_counter()
            decision = engine.decide(proposal, market)
            times_ms.append((time.perf_counter() - started) * 1000)
            opinions[str(decision.reason)] += 1
    finally:
        server.stop(pidfile)
    over = sum(t > live_timeout_secs * 1000 for t in times_ms)
    return {"load_secs": round(load_secs, 1), "first_call_ms": round(times_ms[0], 1),
            "ms": _percentiles(times_ms[1:]), "over_live_timeout": over,
            "over_live_timeout_share": round(over / len(times_ms), 3),
            "reason_codes": dict(opinions), "threads": spec.threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=21)
    parser.add_argument("--uncached-decisions", type=int, default=6)
    parser.add_argument("--models", nargs="*", default=list(models.MODELS))
    args = parser.parse_args()
    live_timeout = LlmSettings().timeout_secs
    cases = _cases(args.decisions)
    results, missing = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-llm-models-") as tmp:
        for name in args.models:
            try:
                path, _ = models.resolve(name)
            except models.ModelUnavailable as err:
                missing[name] = str(err)
                continue
            results[name] = {"gguf_mb": round(path.stat().st_size / 1e6),
                             "licence": models.MODELS[name].licence}
            results[name]["prompt_cache"] = _run(name, True, cases, Path(tmp), live_timeout)
            results[name]["no_prompt_cache"] = _run(
                name, False, cases[:args.uncached_decisions], Path(tmp), live_timeout)
    base = results.get(BASELINE, {}).get("prompt_cache", {}).get("ms", {}).get("p50")
    for row in results.values():
        cached, uncached = row["prompt_cache"]["ms"], row["no_prompt_cache"]["ms"]
        row["p50_ratio_vs_baseline"] = round(cached["p50"] / base, 2) if base else None
        row["prompt_cache_speedup_p50"] = round(uncached["p50"] / cached["p50"], 2)
        row["fits_live_timeout_p95"] = cached["p95"] <= live_timeout * 1000
    write_result("llm_models", {
        "baseline": BASELINE, "live_timeout_secs": live_timeout,
        "decisions": args.decisions, "uncached_decisions": args.uncached_decisions,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "path": "VetoEngine.decide, record mode, "
        "real BTC 5m candles and headlines, 2026-02-06 onwards every 2 h",
        "models": results, "not_available": missing})


if __name__ == "__main__":
    main()
