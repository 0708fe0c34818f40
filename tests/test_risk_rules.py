"""The risk rules as pure functions: the seed's figures, and invariants over any inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.decision import ReasonCode
from centaur.settings.risk import (
    BreakerSettings,
    CapsSettings,
    FundingSettings,
    LeverageSettings,
    SizingSettings,
)
from centaur.signal_stats import SignalStats
from risk_protections import trading_state as ts
from risk_protections.daily_drawdown import (
    DayAnchor,
    daily_drawdown_decision,
    daily_limit_usd,
    roll_day,
)
from risk_protections.dynamic_leverage import (
    LeverageInputs,
    LeverageState,
    rate_limited,
    target_leverage,
)
from risk_protections.exchange_error_rate import error_rate_decision
from risk_protections.exposure_caps import OpenExposure, cap_stake
from risk_protections.funding_trap import bleeding_decision, entry_funding_decision
from risk_protections.kelly import kelly_fraction
from risk_protections.loss_streak import consecutive_losses, loss_streak_scale
from risk_protections.max_drawdown import max_drawdown_decision
from risk_protections.position_sizing import SizingInputs, size_position
from risk_protections.trade_record import TagRecord


NOW = datetime(2025, 10, 10, 21, 15, tzinfo=UTC)
LEVERAGE = LeverageSettings()


def _lev(normal=0.02, current=0.02, dd=0.0, win=None, payoff=None, exchange_max=125.0):
    return target_leverage(LeverageInputs(normal, current, dd, win, payoff, exchange_max),
                           LEVERAGE)


# --- dynamic leverage: the seed's scenario table ------------------------------------------------


@pytest.mark.parametrize(("scenario", "inputs", "expected"), [
    ("normal", {}, 5.0),
    ("high vol (5%)", {"current": 0.05}, 2.0),
    ("in 12% drawdown", {"dd": 0.12}, 2.5),
    ("strong performance + low vol", {"current": 0.01, "win": 0.6, "payoff": 2.0}, 9.0),
    ("all bad: high vol + drawdown + losing", {"current": 0.05, "dd": 0.12, "win": 0.3,
                                               "payoff": 0.8}, 1.0),
])
def test_leverage_reproduces_the_seed_scenarios(scenario, inputs, expected):
    assert _lev(**inputs) == pytest.approx(expected), scenario


@settings(max_examples=300, deadline=None)
@given(normal=st.floats(0, 1), current=st.floats(0, 1), dd=st.floats(0, 1),
       win=st.one_of(st.none(), st.floats(0, 1)), payoff=st.floats(0.01, 20),
       exchange_max=st.floats(1, 200), ceiling=st.one_of(st.none(), st.floats(1, 50)))
def test_leverage_stays_in_its_clamps_for_any_inputs(normal, current, dd, win, payoff,
                                                     exchange_max, ceiling):
    value = target_leverage(LeverageInputs(normal, current, dd, win, payoff if win else None,
                                           exchange_max, ceiling), LEVERAGE)
    top = max(min([LEVERAGE.ceiling, exchange_max] + ([ceiling] if ceiling else [])), 1.0)
    assert 1.0 <= value <= top + 1e-12


def test_leverage_rises_one_step_per_interval_and_cuts_at_once():
    last = LeverageState(3.0, NOW)
    assert rate_limited(9.0, last, NOW + timedelta(minutes=30), LEVERAGE) == last
    risen = rate_limited(9.0, last, NOW + timedelta(minutes=60), LEVERAGE)
    assert risen.value == 4.0
    cut = rate_limited(1.0, risen, risen.changed_at + timedelta(minutes=1), LEVERAGE)
    assert cut.value == 1.0


@settings(max_examples=200, deadline=None)
@given(start=st.floats(1, 10), targets=st.lists(st.floats(1, 10), min_size=1, max_size=20),
       gaps=st.lists(st.integers(0, 180), min_size=20, max_size=20))
def test_increases_never_exceed_one_step_per_interval(start, targets, gaps):
    state = LeverageState(start, NOW)
    moment = NOW
    for target, gap in zip(targets, gaps, strict=False):
        moment += timedelta(minutes=gap)
        new = rate_limited(target, state, moment, LEVERAGE)
        if new.value > state.value:
            assert new.value - state.value <= LEVERAGE.step + 1e-12
            assert moment - state.changed_at >= timedelta(minutes=LEVERAGE.step_interval_minutes)
        state = new


# --- sizing and caps ------------------------------------------------------------------------------


def test_kelly_fraction():
    assert kelly_fraction(0.5, 2.0) == pytest.approx(0.25)
    assert kelly_fraction(0.4, 1.0) < 0


def test_risk_per_trade_is_capped_at_one_and_a_half_percent():
    strong = TagRecord("basis", trades=500, win_rate=0.7, payoff_ratio=3.0)  # full Kelly 0.6
    result = size_position(SizingInputs(10_000, 0.02, 5.0, strong, 1.0, 0.001, 288),
                           SizingSettings(kelly_fraction=0.5))
    assert result.risk_ratio == pytest.approx(0.015)
    assert result.notional_usd == pytest.approx(10_000 * 0.015 / 0.02)
    assert result.stake_usd == pytest.approx(result.notional_usd / 5.0)


def test_no_edge_is_a_denial_with_its_reason():
    weak = TagRecord("basis", trades=200, win_rate=0.35, payoff_ratio=1.0)
    result = size_position(SizingInputs(10_000, 0.02, 2.0, weak, 1.0, 0.002, 288),
                           SizingSettings())
    assert result.stake_usd == 0 and result.decision.reason is ReasonCode.NO_EDGE


def test_unknown_volatility_sizes_smallest_not_largest():
    settings = SizingSettings()
    known = size_position(SizingInputs(10_000, 0.02, 2.0, None, 1.0, 0.0005, 288), settings)
    unknown = size_position(SizingInputs(10_000, 0.02, 2.0, None, 1.0, None, 288), settings)
    assert unknown.stake_usd < known.stake_usd


@settings(max_examples=400, deadline=None)
@given(equity=st.floats(100, 1e7), proposed=st.floats(0, 1e7), available=st.floats(0, 1e7),
       stakes=st.lists(st.floats(0, 1e6), max_size=6), min_stake=st.floats(0, 100))
def test_stake_never_exceeds_any_cap(equity, proposed, available, stakes, min_stake):
    caps = CapsSettings()
    positions = [OpenExposure(f"P{i}/USDT:USDT", s, "binance", False) for i, s in
                 enumerate(stakes)]
    stake, decision = cap_stake(proposed, equity_usd=equity, available_usd=available,
                                exchange="binance", open_positions=positions,
                                min_stake_usd=min_stake, settings=caps)
    deployed = sum(stakes)
    assert stake >= 0
    assert stake <= proposed + 1e-9
    assert stake <= equity * caps.max_position_ratio + 1e-6
    assert stake <= max(equity * caps.max_total_ratio - deployed, 0) + 1e-6
    assert stake <= available + 1e-6
    assert stake == 0 or stake >= min_stake
    assert decision.allowed == (stake > 0) or proposed == 0


@settings(max_examples=300, deadline=None)
@given(equity=st.floats(100, 1e7), stop=st.floats(1e-4, 0.5), leverage=st.floats(1, 125),
       win=st.floats(0, 1), payoff=st.floats(0.1, 10), samples=st.integers(0, 1000),
       confidence=st.floats(0, 1), sigma=st.one_of(st.none(), st.floats(1e-6, 0.1)),
       regime=st.floats(0, 2), external=st.floats(0, 3), state=st.floats(0, 2))
def test_risk_at_the_stop_never_exceeds_the_cap(equity, stop, leverage, win, payoff, samples,
                                                confidence, sigma, regime, external, state):
    settings_ = SizingSettings()
    result = size_position(SizingInputs(equity, stop, leverage,
                                        TagRecord("basis", samples, win, payoff),
                                        confidence, sigma, 288, regime, external, state),
                           settings_)
    assert result.stake_usd >= 0
    loss_at_stop = result.stake_usd * leverage * stop
    assert loss_at_stop <= equity * settings_.max_risk_per_trade_ratio * (1 + 1e-9)


# --- breakers -------------------------------------------------------------------------------------


def test_daily_limit_in_r_warns_at_80_percent_and_breaches_at_3r():
    settings = BreakerSettings(daily_loss_limit_r=3.0, daily_loss_limit_ratio=0.05)
    anchor = DayAnchor(NOW.date(), 10_000.0, first_trade_risk_usd=50.0)  # 3 R = 150 USD
    assert daily_drawdown_decision(anchor, 9_890.0, NOW, settings).allowed
    warning = daily_drawdown_decision(anchor, 9_875.0, NOW, settings)
    assert warning.allowed and warning.reason is ReasonCode.DAILY_DRAWDOWN_WARNING
    breach = daily_drawdown_decision(anchor, 9_850.0, NOW, settings)
    assert not breach.allowed and breach.reason is ReasonCode.DAILY_DRAWDOWN
    assert breach.until == datetime(2025, 10, 11, tzinfo=UTC)


def test_a_dust_first_trade_does_not_shrink_r_below_its_floor():
    settings = BreakerSettings(daily_loss_limit_r=3.0, daily_loss_limit_ratio=0.05)
    dust = DayAnchor(NOW.date(), 10_000.0, first_trade_risk_usd=0.9)  # R floored at 25 USD
    assert daily_limit_usd(dust, settings) == pytest.approx(75.0)
    assert daily_drawdown_decision(dust, 9_930.0, NOW, settings).allowed
    assert not daily_drawdown_decision(dust, 9_925.0, NOW, settings).allowed
    unfloored = BreakerSettings(daily_loss_limit_r=3.0, daily_r_floor_ratio=0.0)
    assert daily_limit_usd(dust, unfloored) == pytest.approx(2.7)


def test_daily_limit_as_a_ratio_before_any_trade_and_the_24h_lock():
    settings = BreakerSettings(daily_loss_limit_ratio=0.05, daily_lock="24h")
    anchor = DayAnchor(NOW.date(), 10_000.0)
    breach = daily_drawdown_decision(anchor, 9_499.0, NOW, settings)
    assert not breach.allowed and breach.until == NOW + timedelta(hours=24)


def test_the_day_anchor_rolls_at_utc_midnight():
    anchor = DayAnchor(date(2025, 10, 9), 11_000.0, 40.0, warned=True)
    rolled = roll_day(anchor, NOW, 9_000.0)
    assert rolled == DayAnchor(NOW.date(), 9_000.0)
    assert roll_day(rolled, NOW + timedelta(hours=1), 8_000.0) is rolled


@settings(max_examples=300, deadline=None)
@given(start=st.floats(100, 1e6), loss=st.floats(0, 1), r=st.one_of(st.none(), st.floats(1, 1e4)),
       minutes=st.integers(0, 24 * 60 - 1), mode=st.sampled_from(["next_utc_day", "24h"]))
def test_a_lock_never_ends_before_the_breach_that_caused_it(start, loss, r, minutes, mode):
    now = datetime(2025, 10, 10, tzinfo=UTC) + timedelta(minutes=minutes)
    decision = daily_drawdown_decision(DayAnchor(now.date(), start, r), start * (1 - loss), now,
                                       BreakerSettings(daily_lock=mode))
    if not decision.allowed:
        assert decision.until > now


def test_max_drawdown_halts_until_the_operator():
    decision = max_drawdown_decision(10_000.0, 8_400.0, 0.15)
    assert not decision.allowed and decision.until is None
    assert max_drawdown_decision(10_000.0, 8_600.0, 0.15).allowed


def test_loss_streak_reduces_after_three():
    assert consecutive_losses([0.01, -0.01, -0.02, -0.01]) == 3
    assert consecutive_losses([-0.01, 0.02]) == 0
    assert loss_streak_scale(3, 3, 0.5).scale == 0.5
    assert loss_streak_scale(2, 3, 0.5).scale == 1.0


def test_error_rate_safe_mode_clears_when_the_window_passes():
    errors = [NOW - timedelta(seconds=s) for s in (100, 50, 10)]
    decision = error_rate_decision(errors, NOW, 3, timedelta(seconds=300))
    assert not decision.allowed and decision.until == errors[0] + timedelta(seconds=300)
    assert error_rate_decision(errors, decision.until, 3, timedelta(seconds=300)).allowed


def test_funding_enters_expected_value():
    settings = FundingSettings()
    stats = SignalStats(0.55, 1.0, 100)  # EV +0.10 R before funding
    assert entry_funding_decision(0.0001, False, 0.01, stats, 30, settings).allowed
    denied = entry_funding_decision(0.001, False, 0.01, stats, 30, settings)  # 0.15 R of funding
    assert denied.reason is ReasonCode.FUNDING_EV_NEGATIVE
    assert entry_funding_decision(0.001, True, 0.01, stats, 30, settings).allowed  # shorts earn


def test_a_position_bleeding_funding_without_progress_exits():
    settings = FundingSettings(bleed_after_hours=24, bleed_max_funding_ratio=0.004)
    assert not bleeding_decision(30, 0.006, -0.001, settings).allowed
    assert bleeding_decision(30, 0.006, 0.02, settings).allowed
    assert bleeding_decision(10, 0.006, -0.001, settings).allowed


# --- trading state --------------------------------------------------------------------------------


def test_halts_do_not_retrigger_and_resume_clears_operator_halts_only():
    daily = ts.Halt(ReasonCode.DAILY_DRAWDOWN, NOW, NOW + timedelta(hours=3), "d", True)
    maxdd = ts.Halt(ReasonCode.MAX_DRAWDOWN, NOW, None, "m", False)
    state, added = ts.with_halt(ts.RiskState(), daily, NOW)
    state, again = ts.with_halt(state, daily, NOW + timedelta(minutes=5))
    state, _ = ts.with_halt(state, maxdd, NOW)
    assert added and not again
    assert ts.trading_state(state, NOW, reducing=False) is ts.TradingState.HALTED
    resumed, cleared = ts.resumed(state, include_timed=False)
    assert cleared == [maxdd] and resumed.halts == (daily,)
    later = NOW + timedelta(hours=4)
    assert ts.trading_state(resumed, later, reducing=True) is ts.TradingState.REDUCING


@settings(max_examples=100, deadline=None)
@given(peak=st.one_of(st.none(), st.floats(1, 1e7)), start=st.floats(1, 1e7),
       r=st.one_of(st.none(), st.floats(0.01, 1e4)), lev=st.floats(1, 20),
       until_hours=st.one_of(st.none(), st.integers(1, 48)))
def test_risk_state_round_trips_through_persistence(peak, start, r, lev, until_hours):
    halt = ts.Halt(ReasonCode.DAILY_DRAWDOWN, NOW,
                   NOW + timedelta(hours=until_hours) if until_hours else None, "x", True)
    state = ts.RiskState((halt,), DayAnchor(NOW.date(), start, r, True, False), peak,
                         {"BTC/USDT:USDT": LeverageState(lev, NOW)})
    assert ts.from_json(ts.to_json(state)) == state
