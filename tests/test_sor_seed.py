"""The seed's 50 BTC sell (Binance, Bybit, OKX, Hyperliquid), reproduced and explained.

Interpretation (``sor_exchange.seed``): each venue's depth rests evenly over 20 bid levels
falling linearly so that sweeping it all costs the stated slippage; the fee column is what a
taking sell pays (negative: a rebate). The seed's decision 20 / 15 / 5 / 10 cannot be executed:
Hyperliquid is given 10 BTC against 5 BTC of depth. The router instead fills every venue to
one marginal fee-adjusted price: Binance 25 (its whole depth: its worst level, 99,900 after a
1 bp rebate, beats OKX's and Hyperliquid's next levels), Bybit 15 (all of it, the largest
rebate), then OKX 7.75 and Hyperliquid 2.25 until their next levels cost more than the
marginal price of 50 BTC.
"""

from __future__ import annotations

import pytest

from sor_exchange.router import plan_route
from sor_exchange.seed import SEED_MID, SEED_ORDER_BASE, SEED_SIDE, SEED_TABLE, seed_inputs
from sor_exchange.walk import build_curve


def _proceeds_bps(amounts: dict[str, float]) -> float:
    """Fee-adjusted cost in bps of the mid of selling ``amounts`` on the seed's books."""
    books, terms = seed_inputs()
    signed = sum(build_curve(books[v], terms[v], SEED_SIDE).cost(a) for v, a in amounts.items())
    filled = sum(amounts.values())
    return (signed + SEED_MID * filled) / (SEED_MID * filled) * 1e4


def test_router_reproduces_the_seed_sell_with_a_feasible_split():
    books, terms = seed_inputs()
    plan = plan_route(SEED_SIDE, SEED_ORDER_BASE, books, terms, mid=SEED_MID)
    assert plan.venues() == pytest.approx(
        {"binance": 25.0, "bybit": 15.0, "okx": 7.75, "hyperliquid": 2.25})
    assert plan.residual_base == 0
    assert plan.fees_quote < 0, "rebates outweigh Hyperliquid's taker fee"


def test_the_seed_table_is_infeasible_and_its_repairs_cost_more():
    books, terms = seed_inputs()
    decision = {row.venue: row.seed_decision_base for row in SEED_TABLE}
    depth = {row.venue: row.depth_base for row in SEED_TABLE}
    assert decision["hyperliquid"] > depth["hyperliquid"], "the seed sends more than the depth"
    assert sum(decision.values()) == SEED_ORDER_BASE

    router = plan_route(SEED_SIDE, SEED_ORDER_BASE, books, terms, mid=SEED_MID)
    repaired = {**decision, "hyperliquid": 5.0, "okx": 10.0}  # the excess moved to OKX
    assert router.cost_bps == pytest.approx(_proceeds_bps(router.venues()))
    assert router.cost_bps < _proceeds_bps(repaired) - 0.1
    literal_fillable = {**decision, "hyperliquid": 5.0}  # what the table could really fill
    assert router.cost_bps < _proceeds_bps(literal_fillable)


def test_every_venue_is_filled_to_one_marginal_price():
    books, terms = seed_inputs()
    plan = plan_route(SEED_SIDE, SEED_ORDER_BASE, books, terms, mid=SEED_MID)
    partial = [c for c in plan.children if c.amount_base < books[c.venue].bids[:, 1].sum()]
    marginal = {c.venue: c.limit_price * (1 - terms[c.venue].taker_fee_ratio) for c in partial}
    assert max(marginal.values()) - min(marginal.values()) < 12.0, marginal  # one level apart
    for child in plan.children:
        if child not in partial:  # fully swept venues: their worst level beats the margin
            worst = child.limit_price * (1 - terms[child.venue].taker_fee_ratio)
            assert worst >= min(marginal.values())
