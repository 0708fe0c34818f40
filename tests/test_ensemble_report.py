"""The signals report's comparison rule: the best single signal is picked in sample, and the
ensemble is compared to it out of sample (never to the best in hindsight)."""

from __future__ import annotations

from research.signals_report import comparison, markdown


def _run(trades: int, sharpe: float, return_ratio: float = 0.0) -> dict:
    return {"trades": trades, "sharpe": sharpe, "return_ratio": return_ratio,
            "max_drawdown_ratio": 0.1, "fees_usd": 1.0, "funding_fees_usd": -1.0, "halts": []}


SINGLES = {
    "basis": {"in_sample": _run(40, 1.5), "out_of_sample": _run(30, -0.4, -0.02)},
    "bb_rsi": {"in_sample": _run(90, 0.8), "out_of_sample": _run(70, 0.9, 0.03)},
    "funding": {"in_sample": _run(4, 3.0), "out_of_sample": _run(3, 2.0, 0.01)},
}


def test_the_best_single_is_chosen_in_sample_among_signals_that_traded_enough():
    result = comparison(_run(50, 0.1, 0.01), SINGLES, min_trades=10)
    assert result["best_by_in_sample"] == "basis"  # funding traded too little in sample
    assert result["best_in_hindsight_oos"] == "funding"
    assert result["ensemble_wins"] is True
    assert result["sharpe_difference"] == 0.5


def test_no_eligible_single_signal_is_said_plainly():
    result = comparison(_run(50, 0.1), SINGLES, min_trades=1000)
    assert result["best_by_in_sample"] is None and "1000" in result["note"]


def test_markdown_states_the_verdict_and_the_comparison():
    walk = {"in_sample": _run(100, 1.0) | {"return_before_fees_ratio": 0.05},
            "out_of_sample": _run(80, 0.2) | {"return_before_fees_ratio": 0.01},
            "verdict": {"fit": False, "reason": "out-of-sample Sharpe 0.20 < 0.3",
                        "oos_to_is_ratio": 0.2},
            "rule": "unfit below 0.5 x in-sample Sharpe or below 0.3 out of sample",
            "params": {"ensemble": {"ensemble_vote_threshold": 0.3}}}
    empty = {"trades": 0, "win_rate": None, "profit_usd": 0, "mean_profit_ratio": None,
             "expectancy_r": None, "funding_usd": 0}
    report = {"pairs": ["BTC/USDT:USDT"], "windows": {"in_sample": "a", "out_of_sample": "b"},
              "runtime_secs": 1, "walk_forward": walk, "single_signals": SINGLES,
              "ensemble_vs_best_single": comparison(walk["out_of_sample"], SINGLES, 10),
              "skipped_signals": {"ranker": "abstains"},
              "attribution_oos": {"by_signal": {}, "by_tag": {}, "by_exit": {},
                                  "total": empty, "one_r": "notional x 0.02 (the hard stop)"}}
    text = markdown(report)
    assert "**Verdict: UNFIT**" in text and "**basis**" in text and "the ensemble beats it" in text
