"""The router's maths: invariants as properties, and the gap to an independent optimum.

Books here are real recorded L2 books (``dev_tools.venue.recorded_books``) rescaled to a common
mid, or books hypothesis draws; the optimum is solved by HiGHS (``sor_exchange.optimum``).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev_tools.venue.recorded_books import load_book
from sor_exchange.book import VenueBook, VenueTerms
from sor_exchange.optimum import lp_optimum, milp_optimum
from sor_exchange.router import plan_route, resting_children
from sor_exchange.slicing import SliceBounds, choose_slicing, timing_risk_bps
from sor_exchange.walk import merge
from tests.support.paths import DATA


MID = 100_000.0
VENUES = ("binance", "bybit", "okx", "kraken")


@st.composite
def venue_books(draw, venues=VENUES):
    """2-4 venues with random ladders around MID, lots, minimums, caps and fees."""
    chosen = draw(st.lists(st.sampled_from(venues), min_size=2, max_size=len(venues),
                           unique=True))
    books, terms = {}, {}
    for name in chosen:
        levels = draw(st.integers(3, 30))
        spread = draw(st.floats(0.0, 0.001))
        steps = draw(st.lists(st.floats(1e-5, 5e-4), min_size=levels, max_size=levels))
        sizes = draw(st.lists(st.floats(0.001, 3.0), min_size=levels, max_size=levels))
        offsets = spread + np.cumsum(steps)
        books[name] = VenueBook.from_levels(
            name, np.column_stack([MID * (1 - offsets), sizes]),
            np.column_stack([MID * (1 + offsets), sizes]))
        terms[name] = VenueTerms(
            name, taker_fee_ratio=draw(st.floats(-0.0003, 0.001)),
            lot_base=draw(st.sampled_from([0.001, 0.01])),
            min_notional_quote=draw(st.sampled_from([0.0, 5.0, 100.0, 2_000.0])),
            max_base=draw(st.sampled_from([math.inf, 0.5, 2.0])),
            max_notional_quote=draw(st.sampled_from([math.inf, 150_000.0])),
            fixed_cost_quote=draw(st.sampled_from([0.0, 0.0, 5.0, 40.0])))
    return books, terms


amounts = st.integers(1, 400).map(lambda n: n / 100)  # multiples of the coarsest lot
sides = st.sampled_from(["buy", "sell"])
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _capacity(books, terms, side):
    merged = merge(books, terms, side)
    return merged.capacity


@FAST
@given(venue_books(), amounts, sides)
def test_children_sum_to_the_parent_and_respect_each_venue(market, amount, side):
    books, terms = market
    plan = plan_route(side, amount, books, terms)
    assert plan.filled_base + plan.residual_base == pytest.approx(amount, abs=1e-9)
    for child in plan.children:
        venue = terms[child.venue]
        lots = child.amount_base / venue.lot_base
        assert lots == pytest.approx(round(lots), abs=1e-6), "child off its venue's lot grid"
        best = float(books[child.venue].taking(side)[0, 0])
        assert child.amount_base >= venue.min_size_base(best) - 1e-9
        assert child.amount_base <= venue.max_base + 1e-9
        assert child.amount_base * child.expected_avg_price <= venue.max_notional_quote + 1e-6
    if _capacity(books, terms, side) >= 2 * amount + 1.0 and \
            all(t.min_notional_quote <= 100 for t in terms.values()):
        assert plan.residual_base <= 0.01 + 1e-9


@FAST
@given(venue_books(), amounts, sides, st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_venues_are_listed(market, amount, side, rnd):
    books, terms = market
    names = list(books)
    rnd.shuffle(names)
    reordered_books = {n: books[n] for n in names}
    reordered_terms = {n: terms[n] for n in reversed(names)}
    assert plan_route(side, amount, books, terms) == \
        plan_route(side, amount, reordered_books, reordered_terms)


@FAST
@given(venue_books(), amounts, sides)
def test_cost_never_exceeds_the_best_single_venue(market, amount, side):
    books, terms = market
    plan = plan_route(side, amount, books, terms)
    mid = plan.arrival_mid
    for name in books:
        single = plan_route(side, amount, {name: books[name]}, {name: terms[name]}, mid=mid)
        if single.filled_base >= plan.filled_base - 1e-9:
            assert plan.cost_quote <= single.cost_quote + 1e-6, name


def _recorded(mid: float = MID) -> dict[str, VenueBook]:
    cryptofeed = DATA / "orderbooks" / "cryptofeed"
    sources = {"bybit": ("BYBIT.ws.26.0", "BTCUSD"), "okx": ("OKX.ws.1.0", "BTC-USDT"),
               "kraken": ("KRAKEN.ws.50.0", "XBT/CHF")}
    out = {}
    for venue, (name, symbol) in sources.items():
        book = load_book(cryptofeed / name, symbol).rescaled(mid)
        out[venue] = VenueBook.from_levels(venue, book.bids, book.asks)
    tardis = load_book(DATA / "orderbooks" / "nautilus" / "tardis" /
                       "binance-futures_book_snapshot_25_BTCUSDT.csv").rescaled(mid)
    out["binance"] = VenueBook.from_levels("binance", tardis.bids, tardis.asks)
    return out


@pytest.mark.parametrize("side", ["buy", "sell"])
@pytest.mark.parametrize("amount", [0.5, 5.0, 40.0])
def test_real_books_plan_matches_the_linear_programme(side, amount):
    books = _recorded()
    terms = {v: VenueTerms(v, taker_fee_ratio=f) for v, f in
             zip(sorted(books), (0.0005, 0.00075, 0.0026, 0.0005), strict=True)}
    plan = plan_route(side, amount, books, terms, mid=MID)
    optimum = lp_optimum(side, amount, books, terms)
    assert plan.residual_base == 0
    assert plan.cost_bps == pytest.approx(optimum.cost_bps(side, MID), abs=1e-6)
    for venue, taken in optimum.amounts.items():
        assert plan.venues().get(venue, 0.0) == pytest.approx(taken, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_lots_minimums_and_fixed_costs_stay_near_the_exact_optimum(seed):
    rng = random.Random(seed)
    books = {v: VenueBook.from_levels(v, b.bids[:12], b.asks[:12]) for v, b in _recorded().items()}
    terms = {v: VenueTerms(v, taker_fee_ratio=rng.choice([0.0002, 0.0005, 0.001]),
                           lot_base=rng.choice([0.001, 0.01]), min_notional_quote=100.0,
                           fixed_cost_quote=rng.choice([0.0, 10.0, 60.0])) for v in books}
    side = rng.choice(["buy", "sell"])
    amount = round(rng.uniform(0.5, 4.0), 2)
    plan = plan_route(side, amount, books, terms, mid=MID)
    exact = milp_optimum(side, amount, books, terms)
    assert plan.residual_base == 0
    router_bps, exact_bps = plan.cost_bps, exact.cost_bps(side, MID)
    assert router_bps >= exact_bps - 1e-6, "the router beat the exact optimum: a modelling bug"
    assert router_bps - exact_bps < 0.1, (plan.venues(), exact.amounts)


def test_fixed_costs_keep_small_orders_on_one_venue():
    books = {v: b for v, b in _recorded().items() if v in ("binance", "okx")}
    cheap = {v: VenueTerms(v, taker_fee_ratio=0.0005, lot_base=0.001) for v in books}
    costly = {v: VenueTerms(v, taker_fee_ratio=0.0005, lot_base=0.001, fixed_cost_quote=50.0)
              for v in books}
    assert len(plan_route("buy", 1.0, books, cheap, mid=MID).children) == 2
    assert len(plan_route("buy", 1.0, books, costly, mid=MID).children) == 1


def test_a_limit_parent_takes_only_levels_within_its_price_and_rests_the_rest():
    books = {v: b for v, b in _recorded().items() if v in ("binance", "okx", "kraken")}
    terms = {"binance": VenueTerms("binance", 0.0005, 0.0002, lot_base=0.001),
             "okx": VenueTerms("okx", 0.0005, -0.0001, lot_base=0.01),
             "kraken": VenueTerms("kraken", 0.0026, 0.0016, lot_base=0.001)}
    limit = MID * 1.0001
    plan = plan_route("buy", 3.0, books, terms, limit_price=limit, mid=MID)
    assert all(c.limit_price <= limit for c in plan.children)
    resting = resting_children("buy", plan.residual_base, limit, terms, plan.venues())
    assert resting[0].venue == "okx", "the rest waits where the maker fee is lowest"
    assert sum(c.amount_base for c in plan.children + resting) == pytest.approx(3.0)


def test_sweep_or_slice_follows_the_impact_model():
    books = _recorded()
    terms = {v: VenueTerms(v, taker_fee_ratio=0.0005) for v in books}
    merged = merge(books, terms, "buy")

    def cost(q):
        return merged.cost_bps(q, MID, "buy")

    bounds = SliceBounds(max_slices=8, interval_secs=10, risk_aversion=1.0,
                         volatility_bps_per_sqrt_sec=0.5)
    small = choose_slicing(cost, 1.0, MID, bounds)
    assert not small.sliced and small.expected_cost_bps == pytest.approx(cost(1.0))
    huge = choose_slicing(cost, merged.capacity * 1.5, MID, bounds)
    assert huge.sliced, "deeper than every visible book: only slicing can fill it"
    calm = choose_slicing(cost, 150.0, MID, SliceBounds(8, 10, None, 1.0, 0.01))
    storm = choose_slicing(cost, 150.0, MID, SliceBounds(8, 10, None, 1.0, 50.0))
    assert calm.slices > storm.slices, "timing risk makes slicing less attractive"
    assert timing_risk_bps(1, 10, 1.0) == 0
    assert timing_risk_bps(4, 10, 1.0) < timing_risk_bps(8, 10, 1.0)
