"""Benchmark: the flagship's backtest time with the whole risk layer on against off.

    python -m bench.risk --timerange 20250101-20250401   (make bench-risk)

Same config, pairs and timerange; ``centaur.risk.enabled`` true vs false; ``--repeat`` runs of
each, interleaved, as real ``freqtrade backtesting`` processes; best run of each compared.
Layer off also trades differently (fixed stake and leverage, no breakers), so the figure is
what running the layer costs on this period, trades included.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

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


def main() -> None:
    setup = bench_arguments(__doc__)
    args, config, pairs, candles = setup.args, setup.config, setup.pairs, setup.candles
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = measure({
            "off": Variant(FLAGSHIP, SUITE_STRATEGIES, config_variant(
                config, work, "off", {"centaur.risk.enabled": False})),
            "on": Variant(FLAGSHIP, SUITE_STRATEGIES, config_variant(
                config, work, "on", {"centaur.risk.enabled": True})),
        }, args.timerange, args.repeat, work)
    best = best_runs(runs)
    write_result("risk", {
        "baseline": "CentaurEnsemble with centaur.risk.enabled=false",
        "ratio": round(best["on"].wall_secs / best["off"].wall_secs, 3),
        "engine_ratio": round(best["on"].engine_secs / max(best["off"].engine_secs, 1e-9), 3),
        "pairs": pairs, "timerange": args.timerange, "candles": candles, "repeat": args.repeat,
        **run_figures(runs, candles),
    })


if __name__ == "__main__":
    main()
