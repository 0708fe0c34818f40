"""Benchmark: the flagship's backtest time against freqtrade's own SampleStrategy.

Same config, pairs, timerange and data; each strategy runs ``--repeat`` times, interleaved,
as a real ``freqtrade backtesting`` process; the best run of each is compared (min is the
estimator least disturbed by other load on a 2-core machine).

    python bench/backtest.py --timerange 20250101-20250401   (make bench-backtest)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import freqtrade

from bench.common import PROJECT_ROOT, candle_count, timed_backtest, write_result


BASELINE = "SampleStrategy"  # freqtrade/templates/sample_strategy.py
FLAGSHIP = "CentaurEnsemble"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timerange", default="20250101-20250401")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default="config/backtest.json")
    args = parser.parse_args()

    config_path = PROJECT_ROOT / args.config
    config = json.loads(config_path.read_text())
    pairs = config["exchange"]["pair_whitelist"]
    datadir = (PROJECT_ROOT / config["datadir"]).resolve()
    candles = candle_count(datadir, pairs, config["timeframe"], args.timerange)
    baseline_path = Path(freqtrade.__file__).parent / "templates"
    flagship_path = PROJECT_ROOT / "user_data" / "strategies"

    runs: dict[str, list] = {BASELINE: [], FLAGSHIP: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, path in ((BASELINE, baseline_path), (FLAGSHIP, flagship_path)):
                runs[name].append(timed_backtest(config_path, strategy=name, strategy_path=path,
                                                 timerange=args.timerange, work_dir=Path(tmp)))
    best = {name: min(r, key=lambda t: t.wall_secs) for name, r in runs.items()}
    flagship, baseline = best[FLAGSHIP], best[BASELINE]
    write_result("backtest", {
        "baseline": BASELINE,
        "ratio": round(flagship.wall_secs / baseline.wall_secs, 3),
        "engine_ratio": round(flagship.engine_secs / max(baseline.engine_secs, 1e-9), 3),
        "flagship_secs": round(flagship.wall_secs, 2),
        "baseline_secs": round(baseline.wall_secs, 2),
        "flagship_engine_secs": round(flagship.engine_secs, 2),
        "baseline_engine_secs": round(baseline.engine_secs, 2),
        "flagship_candles_per_sec": round(candles / flagship.wall_secs),
        "baseline_candles_per_sec": round(candles / baseline.wall_secs),
        "pairs": pairs,
        "timerange": args.timerange,
        "timeframe": config["timeframe"],
        "candles": candles,
        "repeat": args.repeat,
        "all_wall_secs": {name: [round(r.wall_secs, 2) for r in rs] for name, rs in runs.items()},
        "flagship_trades": flagship.stats["total_trades"],
        "baseline_trades": baseline.stats["total_trades"],
    })


if __name__ == "__main__":
    main()
