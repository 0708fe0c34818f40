"""The carry rule, its sizing and its two-leg accounting: pure functions, numbers by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from centaur.decision import ReasonCode
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.carry import CarrySettings
from strategies.carry_rule import (
    carry_columns,
    entry_mask,
    exit_decision,
    funding_forecast,
)
from strategies.carry_sizer import VenueCapital, carry_stake

SETTINGS = CarrySettings()


def test_costs_and_hurdle_follow_the_fees():
    # 2 x (5 bp perp + 10 bp spot) + 4 x 2 bp slippage = 38 bp; over 30 days of 3 settlements
    assert SETTINGS.round_trip_cost_ratio() == pytest.approx(0.0038)
    assert SETTINGS.entry_hurdle_per_settlement() == pytest.approx(0.0038 / 90)
    assert SETTINGS.perp_margin_share() == pytest.approx(1 / 3)


def test_forecast_is_binances_formula():
    # neutral premium: the interest component; a large premium passes through, clamp +-5 bp
    assert funding_forecast(0.0) == pytest.approx(0.0001)
    assert funding_forecast(0.0003) == pytest.approx(0.0001)  # I - P = -2 bp, within clamp
    assert funding_forecast(0.002) == pytest.approx(0.002 - 0.0005)
    assert funding_forecast(-0.002) == pytest.approx(-0.002 + 0.0005)


def frame(funding: np.ndarray, basis: float = 0.0) -> pd.DataFrame:
    n = len(funding)
    spot = np.full(n, 100.0)
    df = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC"),
                       "close": spot * (1 + basis), "funding_rate": funding})
    return carry_columns(df, spot, 1.0, SETTINGS)


def test_entry_needs_a_full_window_above_the_hurdle_and_a_near_spot_perp():
    high = frame(np.full(200, 0.0001))
    mask = entry_mask(high, SETTINGS)
    assert not mask[:167].any()  # the 7-day window is not full yet
    assert mask[167:].all()
    low = frame(np.full(200, 0.00001))  # 1.1 %/year: below the 4.6 %/year hurdle
    assert not entry_mask(low, SETTINGS).any()
    dislocated = frame(np.full(200, 0.0001), basis=0.01)
    assert not entry_mask(dislocated, SETTINGS).any()
    missing = frame(np.full(200, np.nan))
    assert not entry_mask(missing, SETTINGS).any()


@pytest.mark.parametrize(("funding", "forecast", "basis", "move", "reason"), [
    (0.0001, 0.0001, 0.0, 0.0, None),
    (-0.0001, -0.0001, 0.0, 0.0, ReasonCode.CARRY_FUNDING_FLIP),
    (-0.0001, 0.0001, 0.0, 0.0, None),  # the forecast still pays: stay
    (-0.00003, -0.00003, 0.0, 0.0, None),  # slightly negative: cheaper to hold than to churn
    (0.0001, 0.0001, 0.04, 0.0, ReasonCode.CARRY_BASIS_BLOWOUT),
    (0.0001, 0.0001, -0.04, 0.0, ReasonCode.CARRY_BASIS_BLOWOUT),
    (0.0001, 0.0001, 0.0, 0.21, ReasonCode.CARRY_DELEVERAGE),
    (0.0001, 0.0001, 0.0, -0.5, None),  # a crash helps the short's margin
    (None, None, None, 0.0, None),  # unknown inputs never force an exit on their own
])
def test_exit_rules(funding, forecast, basis, move, reason):
    decision = exit_decision(funding, forecast, basis, move, SETTINGS)
    assert decision.allowed == (reason is None)
    if reason is not None:
        assert decision.reason == reason


def test_stake_is_an_equal_share_of_the_margin_under_the_venue_cap():
    decision, stake = carry_stake(SETTINGS, VenueCapital(9000.0, 0.0), 6, 1.0, 5.0, 1e9)
    assert decision.allowed and stake == pytest.approx(9000 / 3 / 6)
    capped = SETTINGS.model_copy(update={"max_venue_capital_ratio": 0.5})
    # room: 9000 x 0.5 / 3 = 1500 of margin; 1000 already open leaves 500
    decision, stake = carry_stake(capped, VenueCapital(9000.0, 1000.0), 6, 1.0, 5.0, 1e9)
    assert decision.allowed and stake == pytest.approx(500.0)
    decision, stake = carry_stake(capped, VenueCapital(9000.0, 1500.0), 6, 1.0, 5.0, 1e9)
    assert not decision.allowed and decision.reason == ReasonCode.CAP_EXCHANGE and stake == 0


def test_bad_carry_settings_name_the_key():
    with pytest.raises(CentaurConfigError, match="centaur.carry.leverage"):
        settings_from({"centaur": {"carry": {"leverage": 20}}})
    with pytest.raises(CentaurConfigError, match="centaur.carry.hurdle"):
        settings_from({"centaur": {"carry": {"hurdle": 1}}})


def test_the_spot_legs_result_is_proceeds_plus_holding_less_cost():
    from sor_exchange.hedge_leg import HedgeRequest, HedgeResult
    from strategies.carry_account import spot_leg_pnl_usd

    opened = HedgeResult(HedgeRequest(1, "BTC/USDT:USDT", "open", 1.0, 100.0), "a", "filled",
                         1.0, 100.0, 0.1, "")
    closed = HedgeResult(HedgeRequest(1, "BTC/USDT:USDT", "close", 1.0, 110.0), "b",
                         "filled", 1.0, 110.0, 0.11, "")
    assert spot_leg_pnl_usd({"open": opened}, 105.0) == pytest.approx(5.0 - 0.1)
    assert spot_leg_pnl_usd({"open": opened, "close": closed}, None) == pytest.approx(
        10.0 - 0.1 - 0.11)
    assert spot_leg_pnl_usd({"open": opened}, None) == pytest.approx(-0.1)  # at cost
    assert spot_leg_pnl_usd({}, 105.0) == 0.0
    # Binance takes a buy's commission in the base: bought 1.0, held 0.999
    in_base = HedgeResult(opened.request, "c", "filled", 1.0, 100.0, 0.0, "", fee_base=0.001)
    assert spot_leg_pnl_usd({"open": in_base}, 100.0) == pytest.approx(-0.1)


def test_the_random_direction_null_costs_the_fees_on_average():
    from research.carry_result import random_direction_null

    gross = np.array([10.0, 12.0, 8.0, 11.0] * 10)  # every trade received funding
    costs = np.full(40, 2.0)
    null = random_direction_null(gross, costs, 10_000.0, draws=4000)
    assert null["null_mean_return_ratio"] == pytest.approx(-80 / 10_000, abs=0.0015)
    assert null["actual_return_ratio"] == pytest.approx((410 - 80) / 10_000)
    assert null["p_value"] == 0.0  # no random assignment of sides earns all of it
