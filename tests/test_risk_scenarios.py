"""Every risk rule through freqtrade's real backtesting engine, on the real candles.

The scenario core enters every 30 minutes and never exits by signal, so every exit, lock and
denial in these runs is the risk layer's. Assertions read freqtrade's own trade export.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.support.freqtrade_run import BacktestResult, backtest, write_config
from centaur.offline.markets import load_snapshot
from tests.support.paths import BINANCE_DATA, RECORDINGS


pytestmark = pytest.mark.slow

PAIRS4 = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]
START_USD = 10_000.0


def run(tmp_path_factory, name: str, *, pairs=PAIRS4, timerange: str, risk: dict | None = None,
        strategy: str = "RiskScenario", max_open_trades: int = 4) -> BacktestResult:
    directory = tmp_path_factory.mktemp(name)
    config = write_config(directory, "backtest.json", {
        "exchange": {"pair_whitelist": pairs}, "max_open_trades": max_open_trades,
        "dry_run_wallet": START_USD, "stake_amount": "unlimited",
        "centaur": {"risk": risk or {}},
    })
    return backtest(directory, config, timerange=timerange, strategy=strategy)


def ts(value: str | int) -> datetime:
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    return datetime.fromisoformat(value)


def open_at(trades: list[dict], moment: datetime) -> list[dict]:
    return [t for t in trades if ts(t["open_date"]) <= moment < ts(t["close_date"])]


def equity_upper_bound(result: BacktestResult, moment: datetime) -> float:
    """Equity at ``moment`` can be no more than: start + profits closed by then + for trades
    open then, the most they were ever up (max/min rate over their whole life)."""
    closed = sum(t["profit_abs"] for t in result.trades if ts(t["close_date"]) <= moment)
    best_unrealised = sum(
        t["amount"] * ((t["open_rate"] - t["min_rate"]) if t["is_short"]
                       else (t["max_rate"] - t["open_rate"]))
        for t in open_at(result.trades, moment))
    return START_USD + closed + max(best_unrealised, 0.0)


# --- sizing, caps, leverage, stops ----------------------------------------------------------------


@pytest.fixture(scope="module")
def volatile(tmp_path_factory):
    """2025-10-05 .. 10-15: the 10 October liquidation cascade and its aftermath."""
    return run(tmp_path_factory, "volatile", timerange="20251005-20251015",
               risk={"breakers": {"daily_loss_limit_r": None, "daily_loss_limit_ratio": 0.5,
                                  "max_drawdown_ratio": 0.9}})


def test_every_entry_is_within_the_position_and_total_caps(volatile):
    trades = volatile.trades
    assert len(trades) >= 15
    for trade in trades:
        opened = ts(trade["open_date"])
        bound = equity_upper_bound(volatile, opened)
        assert trade["stake_amount"] <= 0.05 * bound * (1 + 1e-6), trade
        deployed = sum(t["stake_amount"] for t in open_at(trades, opened))
        assert deployed <= 0.20 * bound * (1 + 1e-6)


def test_leverage_is_clamped_and_rises_at_most_one_step_per_hour_per_pair(volatile):
    by_pair: dict[str, list[dict]] = {}
    for trade in sorted(volatile.trades, key=lambda t: t["open_timestamp"]):
        assert 1.0 <= trade["leverage"] <= 10.0
        by_pair.setdefault(trade["pair"], []).append(trade)
    assert len({t["leverage"] for t in volatile.trades}) > 1, "leverage never moved"
    for trades in by_pair.values():
        for before, after in zip(trades, trades[1:], strict=False):
            gap = ts(after["open_date"]) - ts(before["open_date"])
            rise = after["leverage"] - before["leverage"]
            allowed = 1.0 * (gap // timedelta(hours=1))  # one step per elapsed interval
            assert rise <= allowed + 1e-9, (before["open_date"], after["open_date"], rise)


def test_stops_cap_the_adverse_price_move_at_the_hard_stop(volatile):
    stops = [t for t in volatile.trades if t["exit_reason"] in ("stop_loss", "trailing_stop_loss")]
    assert stops
    for trade in stops:
        move = trade["close_rate"] / trade["open_rate"] - 1
        adverse = move if trade["is_short"] else -move
        assert adverse <= 0.02 + 0.002, trade  # the 2 % hard stop (+ a candle's slippage)


def test_time_exits_only_after_six_hours_without_profit(tmp_path_factory):
    result = run(tmp_path_factory, "time_exit", timerange="20250303-20250310",
                 # a 10 % stop at 10x would sit at the liquidation price: the schema refuses it
                 risk={"stops": {"hard_stop_ratio": 0.1, "chandelier_atr_multiplier": 50.0},
                       "leverage": {"ceiling": 5.0}})
    timed = [t for t in result.trades if t["exit_reason"] == "TIME_EXIT"]
    assert timed
    for trade in timed:
        assert trade["trade_duration"] >= 360
        assert trade["profit_ratio"] <= 0.002  # decided on an unprofitable candle


def test_take_profit_ladder_exits_half_at_plus_three_percent(volatile):
    laddered = [t for t in volatile.trades
                if any(o["ft_order_tag"] == "TAKE_PROFIT" for o in t["orders"])]
    assert laddered, "no trade reached +3 % in the most volatile week of the data"
    for trade in laddered:
        entry = next(o for o in trade["orders"] if o["ft_is_entry"])
        partial = next(o for o in trade["orders"] if o["ft_order_tag"] == "TAKE_PROFIT")
        step = load_snapshot("binance", RECORDINGS).markets[trade["pair"]]["precision"]["amount"]
        assert abs(partial["amount"] - entry["amount"] / 2) <= step + 1e-12
        move = partial["safe_price"] / trade["open_rate"] - 1
        assert (-move if trade["is_short"] else move) >= 0.03 - 1e-9


# --- daily drawdown kill switch -------------------------------------------------------------------


@pytest.fixture(scope="module")
def crash(tmp_path_factory):
    """Four longs at a time, big enough for the 10 October cascade to breach a 2 % day."""
    return run(tmp_path_factory, "crash", timerange="20251008-20251014",
               risk={"breakers": {"daily_loss_limit_r": None, "daily_loss_limit_ratio": 0.02,
                                  "max_drawdown_ratio": 0.9},
                     "caps": {"max_position_ratio": 0.25, "max_total_ratio": 1.0,
                              "max_correlation": 1.0},
                     "sizing": {"default_risk_ratio": 0.015}})


def test_daily_breach_flattens_and_locks_until_the_next_utc_day(crash):
    locks = [lock for lock in crash.locks if lock["reason"].startswith("[DAILY_DRAWDOWN]")]
    assert locks, "the 10 October crash did not breach a 2 % daily limit"
    for lock in locks:
        start, end = ts(lock["lock_timestamp"]), ts(lock["lock_end_timestamp"])
        midnight = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), UTC)
        assert midnight <= end <= midnight + timedelta(minutes=5)  # freqtrade: next candle
        flattened = [t for t in crash.trades if t["exit_reason"] == "DAILY_DRAWDOWN"
                     and start <= ts(t["close_date"]) <= start + timedelta(minutes=5)]
        still_open = [t for t in open_at(crash.trades, start + timedelta(minutes=5))]
        assert flattened and not still_open
        assert not [t for t in crash.trades if start <= ts(t["open_date"]) < end]
    last_end = max(ts(lock["lock_end_timestamp"]) for lock in locks)
    assert any(ts(t["open_date"]) >= last_end for t in crash.trades), "trading never resumed"


def test_max_drawdown_halts_for_good_without_the_operator(tmp_path_factory):
    result = run(tmp_path_factory, "maxdd", timerange="20251008-20251014",
                 risk={"breakers": {"daily_loss_limit_ratio": 0.5, "daily_loss_limit_r": None,
                                    "max_drawdown_ratio": 0.01}})
    (lock,) = [lock for lock in result.locks if lock["reason"].startswith("[MAX_DRAWDOWN]")]
    halted_at = ts(lock["lock_timestamp"])
    assert ts(lock["lock_end_timestamp"]) > halted_at + timedelta(days=365)
    assert not [t for t in result.trades if ts(t["open_date"]) >= halted_at]


# --- loss streak ---------------------------------------------------------------------------------


def test_three_losses_in_a_row_halve_the_next_stake(tmp_path_factory):
    loose = {"caps": {"max_position_ratio": 1.0, "max_total_ratio": 1.0},
             "breakers": {"daily_loss_limit_ratio": 0.9, "daily_loss_limit_r": None,
                          "max_drawdown_ratio": 0.9, "pause_after_losses": 50}}
    kwargs = {"pairs": ["BTC/USDT:USDT"], "timerange": "20250301-20250310", "max_open_trades": 1}
    halved = run(tmp_path_factory, "streak_half", risk={**loose, "breakers": {
        **loose["breakers"], "reduce_size_factor": 0.5}}, **kwargs)
    full = run(tmp_path_factory, "streak_full", risk={**loose, "breakers": {
        **loose["breakers"], "reduce_size_factor": 1.0}}, **kwargs)
    first_diff = next(i for i, (a, b) in enumerate(zip(halved.trades, full.trades, strict=False))
                      if a["stake_amount"] != pytest.approx(b["stake_amount"]))
    before = full.trades[:first_diff]
    assert [t["profit_abs"] < 0 for t in before[-3:]] == [True, True, True]
    assert halved.trades[first_diff]["open_date"] == full.trades[first_diff]["open_date"]
    assert halved.trades[first_diff]["stake_amount"] == pytest.approx(
        0.5 * full.trades[first_diff]["stake_amount"], rel=1e-6)


# --- funding trap --------------------------------------------------------------------------------


def _last_settled_rate(pair: str, moment: datetime) -> float:
    stem = pair.replace("/", "_").replace(":", "_")
    funding = pd.read_feather(BINANCE_DATA / "futures" / f"{stem}-1h-funding_rate.feather")
    funding["date"] = pd.to_datetime(funding["date"], utc=True)
    return float(funding.loc[funding["date"] <= pd.Timestamp(moment), "open"].iloc[-1])


def test_funding_cost_in_the_entry_value_blocks_the_paying_side(tmp_path_factory):
    result = run(tmp_path_factory, "funding_ev", timerange="20250301-20250308",
                 risk={"funding": {"max_funding_cost_r": 0.005}})
    reference = run(tmp_path_factory, "funding_ev_ref", timerange="20250301-20250308",
                    risk={"funding": {"max_funding_cost_r": 100.0}})
    assert len(result.trades) < len(reference.trades)
    # A long pays a positive rate; 0.005 R over 1.5 settlements with a stop of at most 2 %
    # allows at most 0.005 x 0.02 / 1.5 per settlement.
    for trade in result.trades:
        rate = _last_settled_rate(trade["pair"], ts(trade["open_date"]) - timedelta(minutes=5))
        assert rate <= 0.005 * 0.02 / 1.5 + 1e-12, (trade["pair"], trade["open_date"], rate)


def test_a_position_bleeding_funding_is_exited(tmp_path_factory):
    result = run(tmp_path_factory, "bleed", timerange="20250301-20250308",
                 risk={"funding": {"bleed_after_hours": 1, "bleed_max_funding_ratio": 1e-5,
                                   "bleed_min_profit_ratio": 0.01},
                       "stops": {"time_exit_minutes": 10_000, "hard_stop_ratio": 0.1,
                                 "chandelier_atr_multiplier": 50.0},
                       "leverage": {"ceiling": 5.0}})
    bled = [t for t in result.trades if t["exit_reason"] == "FUNDING_TRAP"]
    assert bled
    for trade in bled:
        assert trade["funding_fees"] < 0 and trade["trade_duration"] >= 60


# --- correlation gate ----------------------------------------------------------------------------


def test_no_two_correlated_positions_on_the_same_side(tmp_path_factory):
    pairs = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    gated = run(tmp_path_factory, "corr_on", pairs=pairs, timerange="20250301-20250308")
    free = run(tmp_path_factory, "corr_off", pairs=pairs, timerange="20250301-20250308",
               risk={"caps": {"max_correlation": 1.0}})

    def overlaps(result):
        trades = result.trades
        return [(a, b) for a in trades for b in trades if a["pair"] < b["pair"]
                and ts(a["open_date"]) < ts(b["close_date"])
                and ts(b["open_date"]) < ts(a["close_date"])]
    assert overlaps(free), "BTC and ETH never overlapped: the scenario proves nothing"
    assert not overlaps(gated)


# --- interventions -------------------------------------------------------------------------------


def test_interventions_disable_an_asset_cap_leverage_and_shrink_size(tmp_path_factory):
    kwargs = {"timerange": "20250301-20250305", "pairs": ["BTC/USDT:USDT", "ETH/USDT:USDT"]}
    with_interventions = run(tmp_path_factory, "interventions",
                             strategy="RiskScenarioInterventions", **kwargs)
    trades = with_interventions.trades
    assert not [t for t in trades if t["pair"] == "ETH/USDT:USDT"]
    btc = [t for t in trades if t["pair"] == "BTC/USDT:USDT"]
    assert btc and all(t["leverage"] <= 2.0 for t in btc)
    locks = [lock for lock in with_interventions.locks
             if lock["reason"].startswith("[ASSET_DISABLED]")]
    assert locks and all(lock["pair"] == "ETH/USDT:USDT" for lock in locks)
