"""The veto report's R: measured on the initial stake; on minus off with a paired bootstrap."""

from __future__ import annotations

import math

import pytest

from research.llm_report_markdown import _difference_line
from research.llm_report_metrics import initial_notional, on_minus_off, r_multiple

HARD_STOP = 0.02


def _trade(pair: str, opened: str, profit: float, *, partial: bool = False) -> dict:
    """A long of 10 units at 100 with 2x leverage (stake 500, notional 1000); ``partial``: a
    take-profit rung sold half at 110 before the rest closed, as freqtrade exports it."""
    orders = [{"amount": 10.0, "safe_price": 100.0, "ft_order_side": "buy",
               "order_filled_timestamp": 1_740_000_000_000, "ft_is_entry": True,
               "ft_order_tag": "", "cost": 1000.5}]
    if partial:
        orders.append({"amount": 5.0, "safe_price": 110.0, "ft_order_side": "sell",
                       "order_filled_timestamp": 1_740_000_600_000, "ft_is_entry": False,
                       "ft_order_tag": "TAKE_PROFIT", "cost": 550.3})
    return {"pair": pair, "is_short": False, "open_date": opened, "profit_abs": profit,
            "leverage": 2.0, "amount": 5.0 if partial else 10.0, "open_rate": 100.0,
            "stake_amount": 250.0 if partial else 500.0, "max_stake_amount": 500.0,
            "orders": orders}


def test_r_is_measured_on_the_initial_stake_after_a_partial_take_profit():
    trade = _trade("BTC/USDT:USDT", "2025-12-01 10:00:00+00:00", 60.0, partial=True)
    assert initial_notional(trade) == pytest.approx(1000.0)  # not the 250 x 2 left
    assert r_multiple(trade, HARD_STOP) == pytest.approx(60.0 / 20.0)  # 3 R, not 6 R
    whole = _trade("BTC/USDT:USDT", "2025-12-01 10:00:00+00:00", 60.0)
    assert r_multiple(whole, HARD_STOP) == r_multiple(trade, HARD_STOP)


def test_without_orders_the_stake_before_any_exit_is_used():
    trade = _trade("BTC/USDT:USDT", "2025-12-01 10:00:00+00:00", 20.0, partial=True)
    trade["orders"] = []
    assert initial_notional(trade) == pytest.approx(1000.0)  # max_stake_amount x leverage


def test_on_minus_off_pairs_trades_and_counts_a_missing_trade_as_zero_r():
    off = [_trade("BTC/USDT:USDT", f"2025-12-0{d} 10:00:00+00:00", p)
           for d, p in ((1, -20.0), (2, 40.0), (3, -20.0), (4, 10.0))]
    on = [off[1], off[3], _trade("ETH/USDT:USDT", "2025-12-05 10:00:00+00:00", 20.0)]
    result = on_minus_off(on, off, HARD_STOP)
    # paired R (on, off): (0,-1) (2,2) (0,-1) (0.5,0.5) (1,0) -> differences 1 0 1 0 1
    assert result["pairs"] == 5
    assert (result["in_both"], result["only_on"], result["only_off"]) == (2, 1, 2)
    assert result["mean"] == pytest.approx(0.6)
    assert result["total_r_difference"] == pytest.approx(3.0)
    assert 0 < result["standard_error"] < 0.5
    assert result["lower"] <= result["mean"] <= result["upper"]
    assert "0 R" in result["pairing"]


def test_identical_runs_differ_by_exactly_zero():
    off = [_trade("BTC/USDT:USDT", f"2025-12-0{d} 10:00:00+00:00", 10.0 * d) for d in (1, 2, 3)]
    result = on_minus_off(off, off, HARD_STOP)
    assert result["mean"] == 0 and result["standard_error"] == 0
    assert result["only_on"] == result["only_off"] == 0


def test_too_few_pairs_give_no_interval_and_the_line_still_renders():
    result = on_minus_off([], [_trade("BTC/USDT:USDT", "2025-12-01 10:00:00+00:00", 5.0)],
                          HARD_STOP)
    assert result["pairs"] == 1 and result["standard_error"] is None
    assert not math.isnan(result["total_r_difference"])
    assert "standard error -" in _difference_line("Veto on minus off", result)


# --- the random null, the lexicon rule, the null comparison, degradation episodes -----------

def test_the_random_veto_skips_at_its_rate_and_the_same_candidate_the_same_way():
    from research.llm_report_rules import parse_random_model, random_decision, random_model

    rate, seed = parse_random_model(random_model(0.3, 4))
    assert (rate, seed) == (0.3, 4)
    trades = [{"pair": "BTC/USDT:USDT", "side": "long", "time_utc": f"2025-12-01T{h:02d}:{m:02d}Z"}
              for h in range(24) for m in range(0, 60, 5)]
    skips = [random_decision(t, rate, seed)["decision"] == "skip" for t in trades]
    assert abs(sum(skips) / len(skips) - 0.3) < 0.06  # 288 candidates: within ~2.5 sd
    again = [random_decision(t, rate, seed)["decision"] == "skip" for t in trades]
    other_seed = [random_decision(t, rate, 5)["decision"] == "skip" for t in trades]
    assert skips == again and skips != other_seed


def test_the_lexicon_rule_skips_against_the_side_only_on_the_assets_headlines():
    from research.llm_report_rules import lexicon_decision

    def scorer(titles):
        return [-0.6 if "crash" in t else 0.6 for t in titles]

    def case(side, *titles):
        return {"trade": {"pair": "BTC/USDT:USDT", "side": side},
                "headlines": [{"title": t} for t in titles]}

    assert lexicon_decision(case("long", "Bitcoin crash deepens"), scorer)["decision"] == "skip"
    assert lexicon_decision(case("short", "Bitcoin crash deepens"), scorer)["decision"] == \
        "proceed"
    assert lexicon_decision(case("short", "BTC rallies"), scorer)["decision"] == "skip"
    # a headline about another asset does not count
    assert lexicon_decision(case("long", "Solana crash deepens"), scorer)["decision"] == \
        "proceed"


def test_the_arm_is_read_against_the_random_distribution():
    from research.llm_report_metrics import null_comparison

    result = null_comparison(2.0, [-1.0, 0.5, 2.5, -3.0])
    assert result["seeds"] == 4 and result["share_at_least_as_good"] == 0.25
    assert result["p_value"] == pytest.approx(2 / 5)
    assert result["null_min"] == -3.0 and result["null_max"] == 2.5
    assert null_comparison(None, [1.0])["p_value"] is None


def test_the_total_interval_contains_the_point_estimate():
    off = [_trade("BTC/USDT:USDT", f"2025-12-{d:02d} 10:00:00+00:00", p)
           for d, p in zip(range(1, 21), [-20.0, 40.0, -20.0, 10.0] * 5, strict=True)]
    on = off[1::2]
    result = on_minus_off(on, off, HARD_STOP)
    assert result["total_lower"] <= result["total_r_difference"] <= result["total_upper"]
    assert result["lower"] <= result["mean"] <= result["upper"]


def test_degradation_episodes_follow_the_breakers_triggers():
    from centaur.settings.llm import BreakerSettings
    from research.llm_report_episodes import episode_effects, episodes

    settings = BreakerSettings(max_consecutive_losses=3, min_trades=100)
    profits = [5.0, -1.0, -1.0, -1.0, -1.0, 2.0, 3.0, -1.0]
    trades = [_trade("BTC/USDT:USDT", f"2025-12-{d:02d} 10:00:00+00:00", p)
              | {"close_date": f"2025-12-{d:02d} 12:00:00+00:00", "is_short": False,
                 "profit_ratio": p / 500}
              for d, p in zip(range(1, 9), profits, strict=True)]
    found = episodes(trades, 10_000.0, settings)
    assert len(found) == 1
    episode = found[0]
    assert episode.start.day == 4 and episode.end.day == 6 and episode.closes == 2
    assert episode.triggers == ("3 consecutive losses >= 3",)
    # the breaker run lacks the trade opened on day 5 (inside the episode): +1 R vs no action
    breaker_trades = [t for t in trades if not t["open_date"].startswith("2025-12-05")]
    effect, = episode_effects(found, [], breaker_trades, trades, HARD_STOP)
    assert effect["trades_without"] == 2 and effect["trades_with_breaker"] == 1
    assert effect["r_difference"] == pytest.approx(1.0 / 20.0)
