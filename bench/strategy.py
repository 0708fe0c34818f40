"""Benchmark: backtest throughput of the full flagship against freqtrade's SampleStrategy.

    python -m bench.strategy [--timerange 20250101-20250401] [--repeat 2]   (make bench-strategy)

Same config, pairs, timerange and data; each variant runs ``--repeat`` times, interleaved, as
a real ``freqtrade backtesting`` process, and the best run of each is compared. Variants:

- ``SampleStrategy`` (freqtrade/templates/sample_strategy.py): the baseline;
- the flagship with every signal, the tracker, the ensemble, the models and the risk layer on;
- the flagship with the risk layer off (``centaur.risk.enabled = false``): what the signals,
  tracker and ensemble cost without the risk layer's per-trade callbacks.

``ratio`` = flagship time / SampleStrategy time (target: at most 3). Candles per second count
the 5m candles of the timerange over all pairs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import freqtrade

from bench.common import (
    FLAGSHIP,
    SUITE_STRATEGIES,
    Variant,
    bench_arguments,
    best_runs,
    config_variant,
    measure,
    run_figures,
    write_result,
)

BASELINE = "SampleStrategy"
TARGET_RATIO = 3.0


def main() -> None:
    setup = bench_arguments(__doc__)
    args, config, pairs, candles = setup.args, setup.config, setup.pairs, setup.candles
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = measure({
            "baseline": Variant(BASELINE, Path(freqtrade.__file__).parent / "templates",
                                config_variant(config, work, "baseline")),
            "flagship": Variant(FLAGSHIP, SUITE_STRATEGIES,
                                config_variant(config, work, "flagship")),
            "flagship_risk_off": Variant(FLAGSHIP, SUITE_STRATEGIES, config_variant(
                config, work, "risk_off", {"centaur.risk.enabled": False})),
        }, args.timerange, args.repeat, work)
    best = best_runs(runs)
    base = best["baseline"]
    write_result("strategy", {
        "baseline": BASELINE,
        "ratio": round(best["flagship"].wall_secs / base.wall_secs, 3),
        "target_ratio": TARGET_RATIO,
        "engine_ratio": round(best["flagship"].engine_secs / max(base.engine_secs, 1e-9), 3),
        "risk_off_ratio": round(best["flagship_risk_off"].wall_secs / base.wall_secs, 3),
        "freqai": bool(config.get("freqai", {}).get("enabled")),
        "candles": candles, "pairs": pairs, "timerange": args.timerange,
        "timeframe": config["timeframe"], "repeat": args.repeat,
        **run_figures(runs, candles),
    })


if __name__ == "__main__":
    main()
