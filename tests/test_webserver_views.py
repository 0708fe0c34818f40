"""What FreqUI reads from the suite's strategies outside a running bot, and how it shows it.

- ``freqtrade webserver`` loads a strategy without ``bot_start``: its settings parse on first
  use and its plot_config names the model columns the risk layer reads;
- the leverage the risk layer asks for is cut to two decimals, never rounded up;
- the GARCH fallback is logged when a pair's reasons change, not on every re-analysis;
- the backtest report's wallet statistics are plain Python numbers (REST-serialisable).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import CandleType, RunMode
from hypothesis import given
from hypothesis import strategies as st

from centaur.events import EventSink
from centaur.interventions import InterventionBook
from centaur.settings import settings_from
from centaur.state import StateStore
from centaur_plugins.hooks import python_numbers
from freqai_models.garch import FallbackLog
from risk_protections.dynamic_leverage import rounded_down
from risk_protections.engine import RiskCollaborators, RiskEngine
from risk_protections.risk_columns import RiskRows
from risk_protections.risk_inputs import CandleRows
from strategies.CentaurCarry import CentaurCarry
from strategies.CentaurEnsemble import CentaurEnsemble
from strategies.CentaurRanker import CentaurRanker
from tests.support.accounts import FlatAccount
from tests.support.freqtrade_run import load_project_config

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
PAIR = "BTC/USDT:USDT"


def _webserver_config(name: str) -> dict:
    return load_project_config(name) | {"candle_type_def": CandleType.FUTURES,
                                        "runmode": RunMode.WEBSERVER}


def _plotted(plot_config: dict) -> set[str]:
    return {column for subplot in plot_config["subplots"].values() for column in subplot}


@pytest.mark.parametrize(("strategy_class", "config_name", "columns"), [
    (CentaurEnsemble, "backtest.json", {"garch_sigma", "regime_position_scale",
                                        "regime_stop_multiplier", "funding_z", "basis_z_1h"}),
    (CentaurRanker, "freqai.json", {"garch_sigma", "regime_position_scale",
                                    "regime_stop_multiplier"}),
    (CentaurCarry, "carry.json", {"funding_rate", "carry_basis", "carry_forecast"}),
])
def test_plot_config_and_settings_without_bot_start(strategy_class, config_name, columns):
    config = _webserver_config(config_name)
    strategy = strategy_class(config)  # what the webserver's strategy routes do: no bot_start
    assert columns <= _plotted(strategy.plot_config)
    json.dumps(strategy.plot_config)  # served as JSON
    assert strategy.centaur == settings_from(config)
    assert strategy.centaur is strategy.centaur  # parsed once


def test_bot_start_settings_replace_the_lazily_parsed_ones():
    strategy = CentaurEnsemble(_webserver_config("backtest.json"))
    replaced = settings_from({})
    strategy.centaur = replaced
    assert strategy.centaur is replaced


@given(st.floats(min_value=1.0, max_value=125.0, allow_nan=False))
def test_leverage_is_cut_to_two_decimals_never_up(leverage):
    cut = rounded_down(leverage)
    assert 1.0 <= cut <= leverage + 1e-9
    assert leverage - cut < 0.01
    assert cut == round(cut, 2)


def test_float_noise_does_not_cost_a_hundredth():
    assert rounded_down(4.47 + 0.01) == 4.48
    assert rounded_down(4.4812755394686565) == 4.48
    assert rounded_down(1.0) == 1.0


def _engine_with_volatility(daily: float, normal: float) -> RiskEngine:
    dates = pd.date_range(NOW - timedelta(minutes=10), NOW, freq="5min", tz="UTC")
    frame = pd.DataFrame({"date": dates, "close": 70_000.0, "risk_vol_daily": daily,
                          "risk_vol_normal": normal})
    rows = CandleRows(timedelta(minutes=5))
    rows.update(PAIR, RiskRows.from_dataframe(frame))
    store = StateStore()
    return RiskEngine(settings_from({}).risk, RiskCollaborators(
        config={"runmode": "backtest", "stake_currency": "USDT", "exchange": {"name": "binance"}},
        store=store, events=EventSink(store), interventions=InterventionBook(store), rows=rows,
        account=FlatAccount(), order_book=lambda pair, depth: {}, candles_per_day=288))


def test_the_risk_layer_asks_for_a_two_decimal_leverage_at_or_below_its_rule():
    engine = _engine_with_volatility(daily=0.0317, normal=0.0283)
    engine.start(NOW)
    leverage = engine.leverage(PAIR, NOW + timedelta(minutes=1), max_leverage=20.0)
    settings = settings_from({}).risk.leverage
    unrounded = settings.base * 0.0283 / 0.0317  # vol factor alone (no drawdown, no record)
    assert leverage == round(leverage, 2)
    assert unrounded - 0.01 < leverage <= unrounded


def test_garch_fallback_is_due_when_a_pairs_reasons_change():
    log = FallbackLog()
    warmup = Counter({"too few returns": 2})
    assert log.due(PAIR, warmup)
    assert not log.due(PAIR, Counter({"too few returns": 3}))  # the next candle, same news
    assert log.due("ETH/USDT:USDT", warmup)
    assert log.due(PAIR, warmup + Counter({"explosive persistence": 1}))
    assert not log.due(PAIR, Counter())  # clean: nothing to say
    assert log.due(PAIR, warmup)  # and a fallback after a clean run is news again


def test_wallet_statistics_become_plain_numbers():
    stats = {"start_balance": np.int64(10_000), "sharpe": np.float64(0.5),
             "ts": [np.int64(1)], "low_date": "2025-06-01 00:05:00", "none": None}
    plain = python_numbers(stats)
    assert plain == {"start_balance": 10_000, "sharpe": 0.5, "ts": [1],
                     "low_date": "2025-06-01 00:05:00", "none": None}
    assert type(plain["start_balance"]) is int and type(plain["sharpe"]) is float
    assert type(plain["ts"][0]) is int
