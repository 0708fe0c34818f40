"""Benchmark: the flagship's backtest time with the whole risk layer on against off.

Same config, pairs and timerange; ``centaur.risk.enabled`` true vs false; ``--repeat`` runs of
each, interleaved, as real ``freqtrade backtesting`` processes; best run of each compared.

    python -m bench.risk --timerange 20250101-20250401   (make bench-risk)
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from pathlib import Path

from bench.common import PROJECT_ROOT, candle_count, timed_backtest, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timerange", default="20250101-20250401")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default="config/backtest.json")
    args = parser.parse_args()
    config = json.loads((PROJECT_ROOT / args.config).read_text())
    pairs = config["exchange"]["pair_whitelist"]
    candles = candle_count((PROJECT_ROOT / config["datadir"]).resolve(), pairs,
                           config["timeframe"], args.timerange)
    runs: dict[str, list] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for label, enabled in (("on", True), ("off", False)):
            variant = copy.deepcopy(config)
            variant.setdefault("centaur", {}).setdefault("risk", {})["enabled"] = enabled
            paths[label] = Path(tmp) / f"risk-{label}.json"
            paths[label].write_text(json.dumps(variant))
        for _ in range(args.repeat):
            for label in ("off", "on"):
                runs[label].append(timed_backtest(
                    paths[label], strategy="CentaurEnsemble",
                    strategy_path=PROJECT_ROOT / "user_data" / "strategies",
                    timerange=args.timerange, work_dir=Path(tmp)))
    on = min(runs["on"], key=lambda r: r.wall_secs)
    off = min(runs["off"], key=lambda r: r.wall_secs)
    write_result("risk", {
        "baseline": "CentaurEnsemble with centaur.risk.enabled=false",
        "ratio": round(on.wall_secs / off.wall_secs, 3),
        "engine_ratio": round(on.engine_secs / max(off.engine_secs, 1e-9), 3),
        "on_secs": round(on.wall_secs, 2), "off_secs": round(off.wall_secs, 2),
        "on_engine_secs": round(on.engine_secs, 2), "off_engine_secs": round(off.engine_secs, 2),
        "on_trades": on.stats["total_trades"], "off_trades": off.stats["total_trades"],
        "pairs": pairs, "timerange": args.timerange, "candles": candles, "repeat": args.repeat,
        "all_wall_secs": {k: [round(r.wall_secs, 2) for r in v] for k, v in runs.items()},
    })


if __name__ == "__main__":
    main()
