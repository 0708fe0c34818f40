"""Benchmark: the order router's planning time and a routed dry-run order end to end.

1. Planning: ``plan_route`` for 4 venues x 1,000 levels each. The books are the four real
   1,000-level ask sides recorded by cryptofeed (Binance SUSHIUSDT USDT-M, NKNUSDT, BLZETH,
   LRCBTC spot), rescaled to a common mid; lots 0.001, minimum notional 5, and a run with a
   fixed cost on every venue (16 venue subsets enumerated). Baseline: HiGHS solving the same
   split as a linear programme (``sor_exchange.optimum.lp_optimum``).
2. End to end: ``create_order`` of ``CentaurBinance`` in dry-run routing a market order across
   three local venues (Binance, Bybit, OKX protocols on 127.0.0.1, ccxt's own classes), books
   fetched over HTTP and children filled against them. Baseline: freqtrade's stock dry-run
   ``create_order`` on the same primary venue (router off). The venues run in this process.

    python -m bench.sor        (make bench-sor) -> bench/results/sor.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.common import PROJECT_ROOT, write_result
from dev_tools.venue.clients import ccxt_urls
from dev_tools.venue.recorded_books import rest_depth
from dev_tools.venue.server import running_venues
from dev_tools.venue.state import VenueSettings
from sor_exchange.book import VenueBook, VenueTerms
from sor_exchange.optimum import lp_optimum
from sor_exchange.router import plan_route

SHARED = PROJECT_ROOT.parent / "shared" / "data"
CRYPTOFEED = SHARED / "orderbooks" / "cryptofeed"
BOOKS_1000 = (("venue_a", "BINANCE_FUTURES.http.0.0", "SUSHIUSDT"),
              ("venue_b", "BINANCE.http.0.0", "NKNUSDT"),
              ("venue_c", "BINANCE.http.0.0", "BLZETH"),
              ("venue_d", "BINANCE.http.0.0", "LRCBTC"))
MID = 100_000.0


def _p50_ms(call: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def planning(repeat: int) -> dict[str, float]:
    books, terms = {}, {}
    for i, (venue, recording, symbol) in enumerate(BOOKS_1000):
        book = rest_depth(CRYPTOFEED / recording, symbol).rescaled(MID)
        books[venue] = VenueBook.from_levels(venue, book.bids, book.asks[:1000])
        terms[venue] = VenueTerms(venue, taker_fee_ratio=0.0004 + 0.0001 * i, lot_base=0.001,
                                  min_notional_quote=5.0)
    fixed = {v: VenueTerms(v, t.taker_fee_ratio, lot_base=0.001, min_notional_quote=5.0,
                           fixed_cost_quote=5.0) for v, t in terms.items()}
    levels = [len(b.asks) for b in books.values()]
    amount = round(0.5 * sum(float(b.asks[:, 1].sum()) for b in books.values()) / 4, 3)
    plan_p50, _ = _p50_ms(lambda: plan_route("buy", amount, books, terms, mid=MID), repeat)
    fixed_p50, _ = _p50_ms(lambda: plan_route("buy", amount, books, fixed, mid=MID), repeat)
    lp_p50, _ = _p50_ms(lambda: lp_optimum("buy", amount, books, terms), max(repeat // 10, 5))
    return {"venues": len(books), "levels_per_venue": levels, "order_base": amount,
            "plan_p50_ms": round(plan_p50, 3), "plan_fixed_costs_p50_ms": round(fixed_p50, 3),
            "baseline_lp_highs_p50_ms": round(lp_p50, 3),
            "lp_over_plan_ratio": round(lp_p50 / plan_p50, 2)}


def _venue_settings(anchor: datetime) -> dict[str, VenueSettings]:
    return {p: VenueSettings.for_protocol(p, datadir=SHARED / "binance", recordings_dir=CRYPTOFEED,
                                          anchor=anchor) for p in ("binance", "bybit", "okx")}


def _exchange(venues, routed: bool, directory: Path):
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import ExchangeResolver

    config = json.loads((PROJECT_ROOT / "config" / "dry-run.json").read_text())
    config["exchange"]["ccxt_config"]["urls"] = ccxt_urls("binance", venues["binance"].url)
    config["exchange"]["ccxt_config"]["enableRateLimit"] = False
    config.update({"runmode": RunMode.DRY_RUN, "candle_type_def": "futures",
                   "db_url": f"sqlite:///{directory / 'bench.sqlite'}",
                   "api_server": {"enabled": False}, "user_data_dir": str(directory)})
    extra = {n: {"enabled": routed, "ccxt_config": {"urls": ccxt_urls(n, venues[n].url),
                                                    "enableRateLimit": False}}
             for n in ("bybit", "okx")}
    config["centaur"] = {"exchange": {"router": {"enabled": True, "venues": extra,
                                                 "fills_log_url": "sqlite://"}}}
    return ExchangeResolver.load_exchange(copy.deepcopy(config), validate=False)


def end_to_end(repeat: int) -> dict[str, float]:
    pair = "BTC/USDT:USDT"
    with running_venues(_venue_settings(datetime(2025, 10, 10, 12, tzinfo=UTC))) as venues, \
            tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, routed in (("routed", True), ("stock", False)):
            exchange = _exchange(venues, routed, Path(tmp) / label)
            rate = exchange.fetch_l2_order_book(pair, 5)["asks"][0][0]

            def order() -> dict:
                return exchange.create_order(pair=pair, ordertype="market", side="buy",
                                             amount=3.0, rate=rate, leverage=1.0)

            sample = order()
            results[label] = _p50_ms(order, repeat)[0]
            results[f"{label}_venues"] = len({c["venue"] for c in
                                              sample.get("info", {}).get("sor", {})
                                              .get("children", [])}) or 1
            exchange.close()
    return {"e2e_order_base": 3.0, "e2e_routed_dry_run_p50_ms": round(results["routed"], 2),
            "e2e_routed_venues_used": results["routed_venues"],
            "baseline_stock_dry_run_p50_ms": round(results["stock"], 2),
            "routed_over_stock_ratio": round(results["routed"] / results["stock"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--e2e-repeat", type=int, default=20)
    args = parser.parse_args()
    figures = {**planning(args.repeat), **end_to_end(args.e2e_repeat)}
    write_result("sor", figures)


if __name__ == "__main__":
    main()
