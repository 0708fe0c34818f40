"""Benchmark: backtest throughput of the full flagship against freqtrade's SampleStrategy.

    python -m bench.strategy [--timerange 20250101-20250401] [--repeat 2]   (make bench-strategy)

Same config, pairs, timerange and data; each variant runs ``--repeat`` times, interleaved, as
a real ``freqtrade backtesting`` process, and the best run of each is compared (the estimator
least disturbed by other load on a shared 2-core machine). Variants:

- ``SampleStrategy`` (freqtrade/templates/sample_strategy.py): the baseline;
- the flagship with every signal, the tracker, the ensemble and the risk layer on;
- the flagship with the risk layer off (``centaur.risk.enabled = false``): what the signals,
  tracker and ensemble cost without the risk layer's per-trade callbacks.

``ratio`` = flagship time / SampleStrategy time (target: at most 3). Candles per second count
the 5m candles of the timerange over all pairs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import freqtrade

from bench.common import PROJECT_ROOT, TimedBacktest, candle_count, timed_backtest, write_result


BASELINE = "SampleStrategy"
FLAGSHIP = "CentaurEnsemble"
TARGET_RATIO = 3.0


def variants(config: dict, work: Path) -> dict[str, tuple[str, Path, Path]]:
    """name -> (strategy, strategy path, config file)."""
    files = {}
    for label, risk in (("flagship", True), ("flagship_risk_off", False)):
        variant = json.loads(json.dumps(config))
        variant.setdefault("centaur", {}).setdefault("risk", {})["enabled"] = risk
        files[label] = work / f"{label}.json"
        files[label].write_text(json.dumps(variant))
    base = work / "baseline.json"
    base.write_text(json.dumps(config))
    suite = PROJECT_ROOT / "user_data" / "strategies"
    return {"baseline": (BASELINE, Path(freqtrade.__file__).parent / "templates", base),
            "flagship": (FLAGSHIP, suite, files["flagship"]),
            "flagship_risk_off": (FLAGSHIP, suite, files["flagship_risk_off"])}


def measure(config: dict, timerange: str, repeat: int) -> dict[str, list[TimedBacktest]]:
    runs: dict[str, list[TimedBacktest]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _ in range(repeat):
            for name, (strategy, path, config_file) in variants(config, work).items():
                runs.setdefault(name, []).append(timed_backtest(
                    config_file, strategy=strategy, strategy_path=path, timerange=timerange,
                    work_dir=work))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timerange", default="20250101-20250401")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default="config/backtest.json")
    args = parser.parse_args()
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    pairs = config["exchange"]["pair_whitelist"]
    candles = candle_count((PROJECT_ROOT / config["datadir"]).resolve(), pairs,
                           config["timeframe"], args.timerange)
    runs = measure(config, args.timerange, args.repeat)
    best = {name: min(r, key=lambda t: t.wall_secs) for name, r in runs.items()}
    base = best["baseline"]
    figures = {
        "baseline": BASELINE,
        "ratio": round(best["flagship"].wall_secs / base.wall_secs, 3),
        "target_ratio": TARGET_RATIO,
        "engine_ratio": round(best["flagship"].engine_secs / max(base.engine_secs, 1e-9), 3),
        "risk_off_ratio": round(best["flagship_risk_off"].wall_secs / base.wall_secs, 3),
        "candles": candles,
        "pairs": pairs,
        "timerange": args.timerange,
        "timeframe": config["timeframe"],
        "repeat": args.repeat,
    }
    for name, run in best.items():
        figures[f"{name}_secs"] = round(run.wall_secs, 2)
        figures[f"{name}_engine_secs"] = round(run.engine_secs, 2)
        figures[f"{name}_candles_per_sec"] = round(candles / run.wall_secs)
        figures[f"{name}_trades"] = run.stats["total_trades"]
    figures["all_wall_secs"] = {name: [round(r.wall_secs, 2) for r in rs]
                                for name, rs in runs.items()}
    write_result("strategy", figures)


if __name__ == "__main__":
    main()
