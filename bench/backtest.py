"""Benchmark: the flagship's backtest time against freqtrade's own SampleStrategy.

    python -m bench.backtest --timerange 20250101-20250401   (make bench-backtest)

Same config (config/backtest.json: the whole stack, FreqAI models included - saved per
window and reused, as FreqAI does), pairs, timerange and data; each strategy runs
``--repeat`` times, interleaved, as a real ``freqtrade backtesting`` process; the best run of
each is compared. ``ratio`` = flagship time / SampleStrategy time.
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

BASELINE = "SampleStrategy"  # freqtrade/templates/sample_strategy.py


def main() -> None:
    setup = bench_arguments(__doc__)
    args, config, pairs, candles = setup.args, setup.config, setup.pairs, setup.candles
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = config_variant(config, work, "config")
        runs = measure({
            "baseline": Variant(BASELINE, Path(freqtrade.__file__).parent / "templates", path),
            "flagship": Variant(FLAGSHIP, SUITE_STRATEGIES, path),
        }, args.timerange, args.repeat, work)
    best = best_runs(runs)
    write_result("backtest", {
        "baseline": BASELINE,
        "ratio": round(best["flagship"].wall_secs / best["baseline"].wall_secs, 3),
        "engine_ratio": round(best["flagship"].engine_secs
                              / max(best["baseline"].engine_secs, 1e-9), 3),
        "freqai": bool(config.get("freqai", {}).get("enabled")),
        "pairs": pairs, "timerange": args.timerange, "timeframe": config["timeframe"],
        "candles": candles, "repeat": args.repeat,
        **run_figures(runs, candles),
    })


if __name__ == "__main__":
    main()
