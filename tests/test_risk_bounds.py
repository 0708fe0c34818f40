"""Every risk number is bounded: no configuration the schema accepts can size past 1.5 % of
equity at risk, past the stake caps, or lever past the hard cap and the exchange maximum.

The configurations are drawn at random over wide ranges (negative, huge, inverted); those the
schema refuses must name the key, those it accepts must keep every invariant.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.risk import HARD_LEVERAGE_CAP, MAX_RISK_PER_TRADE_RATIO
from risk_protections.dynamic_leverage import LeverageInputs, target_leverage
from risk_protections.exposure_caps import OpenExposure, cap_stake
from risk_protections.position_sizing import SizingInputs, size_position
from risk_protections.trade_record import TagRecord


wide = st.floats(-10, 2000, allow_nan=False)
ratio = st.floats(-0.5, 2, allow_nan=False)

risk_blocks = st.fixed_dictionaries({}, optional={
    "sizing": st.fixed_dictionaries({}, optional={
        "kelly_fraction": ratio, "max_risk_per_trade_ratio": ratio, "default_risk_ratio": ratio,
        "vol_scale_min": wide, "vol_scale_max": wide, "vol_target_daily_ratio": ratio,
        "min_trades_for_kelly": st.integers(-5, 200), "kelly_prior_trades": wide,
        "kelly_lookback_days": st.one_of(st.none(), wide)}),
    "caps": st.fixed_dictionaries({}, optional={
        "max_position_ratio": ratio, "max_total_ratio": ratio,
        "max_exchange_ratio": st.dictionaries(st.just("binance"), ratio, max_size=1)}),
    "leverage": st.fixed_dictionaries({}, optional={
        "base": wide, "ceiling": wide, "floor": wide, "vol_factor_min": wide,
        "vol_factor_max": wide, "perf_factor_min": wide, "perf_factor_max": wide}),
    "stops": st.fixed_dictionaries({}, optional={"hard_stop_ratio": ratio}),
})


def _accepted(risk: dict):
    try:
        return settings_from({"centaur": {"risk": risk}}).risk
    except CentaurConfigError as err:
        assert "centaur.risk" in str(err) and "Fix:" in str(err)
        return None


@settings(max_examples=400, deadline=None)
@given(risk=risk_blocks, equity=st.floats(100, 1e7), stop=st.floats(1e-4, 0.9),
       win=st.floats(0, 1), payoff=st.floats(0.05, 20), samples=st.integers(0, 5000),
       confidence=st.floats(0, 1), sigma=st.one_of(st.none(), st.floats(1e-7, 0.2)),
       regime=st.floats(0, 5), external=st.floats(0, 5), state=st.floats(0, 5),
       normal_vol=st.floats(0, 1), current_vol=st.floats(0, 1), drawdown=st.floats(0, 1),
       exchange_max=st.floats(1, 125), open_stakes=st.lists(st.floats(0, 1e6), max_size=6))
def test_no_accepted_configuration_sizes_past_the_bounds(
        risk, equity, stop, win, payoff, samples, confidence, sigma, regime, external, state,
        normal_vol, current_vol, drawdown, exchange_max, open_stakes):
    accepted = _accepted(risk)
    if accepted is None:
        return
    leverage = target_leverage(LeverageInputs(normal_vol, current_vol, drawdown, win, payoff,
                                              exchange_max), accepted.leverage)
    assert 1.0 <= leverage <= min(HARD_LEVERAGE_CAP, exchange_max) + 1e-9
    sized = size_position(SizingInputs(equity, stop, leverage,
                                       TagRecord("basis", samples, win, payoff),
                                       confidence, sigma, 288, regime, external, state),
                          accepted.sizing)
    assert sized.risk_ratio <= MAX_RISK_PER_TRADE_RATIO + 1e-12
    assert sized.stake_usd * leverage * stop <= equity * MAX_RISK_PER_TRADE_RATIO * (1 + 1e-9)
    positions = [OpenExposure(f"P{i}/USDT:USDT", s, "binance", False)
                 for i, s in enumerate(open_stakes)]
    stake, _ = cap_stake(sized.stake_usd, equity_usd=equity, available_usd=equity,
                         exchange="binance", open_positions=positions, min_stake_usd=5.0,
                         settings=accepted.caps)
    assert stake <= equity * accepted.caps.max_position_ratio + 1e-6 <= equity + 1e-6
    assert stake <= max(equity * accepted.caps.max_total_ratio - sum(open_stakes), 0) + 1e-6
    assert stake * leverage * stop <= equity * MAX_RISK_PER_TRADE_RATIO * (1 + 1e-9)


@pytest.mark.parametrize(("risk", "key", "fix"), [
    ({"leverage": {"ceiling": 1000, "base": 1000}}, "centaur.risk.leverage.ceiling", "20"),
    ({"leverage": {"floor": 8, "base": 5}}, "centaur.risk.leverage", "floor <= base <= ceiling"),
    ({"leverage": {"base": 12}}, "centaur.risk.leverage", "floor <= base <= ceiling"),
    ({"leverage": {"vol_factor_min": -0.5}}, "centaur.risk.leverage.vol_factor_min",
     "greater than 0"),
    ({"leverage": {"drawdown_tiers": [[0.1, 1.0], [0.05, 0.5]]}}, "centaur.risk.leverage",
     "strictly increasing"),
    ({"sizing": {"max_risk_per_trade_ratio": 0.05}},
     "centaur.risk.sizing.max_risk_per_trade_ratio", "0.015"),
    ({"caps": {"max_exchange_ratio": {"binance": 3}}}, "centaur.risk.caps.max_exchange_ratio",
     "less than or equal to 1"),
    ({"stops": {"hard_stop_ratio": 0.1}, "leverage": {"ceiling": 10}}, "centaur.risk",
     "liquidation"),
])
def test_an_out_of_bounds_number_names_the_key_and_the_fix(risk, key, fix):
    with pytest.raises(CentaurConfigError) as err:
        settings_from({"centaur": {"risk": risk}})
    assert key in str(err.value) and fix in str(err.value) and "Fix:" in str(err.value)


def test_infinity_in_a_config_file_is_refused():
    # json.load reads the literal Infinity as float("inf"): a config file can hold it
    with pytest.raises(CentaurConfigError, match="centaur.risk.leverage.ceiling.*finite"):
        settings_from({"centaur": {"risk": {"leverage": {"ceiling": float("inf")}}}})
