"""The flagship's entries and exits come from the ensemble, weighted by each signal's excess
over its random-direction null.

A real freqtrade ``Backtesting`` of CentaurEnsemble (risk layer on, four perpetuals, three
weeks) runs in this process, so the strategy's per-candle ensemble (score, weights, exit calls)
can be read next to freqtrade's trades. Muting is checked against the regime recomputed from
the analysed 1h ADX; a second run through the ``freqtrade`` command trades an ensemble of one.
"""

from __future__ import annotations

import json
import zipfile
import numpy as np
import pandas as pd
import pytest
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.enums import RunMode
from freqtrade.optimize.backtesting import Backtesting

from centaur.settings.ensemble import EnsembleSettings
from research import attribution
from strategies.CentaurEnsemble import CentaurEnsemble
from strategies.signal_outcomes import dates_ns
from strategies.signals import REGISTRY, Family
from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]
TIMERANGE = "20250401-20250421"
FIVE_MIN_NS = 300 * 1_000_000_000
DEFAULTS = EnsembleSettings()


@pytest.fixture(scope="module")
def flagship(tmp_path_factory):
    path = write_config(tmp_path_factory.mktemp("flagship"), "backtest.json",
                        {"exchange": {"pair_whitelist": PAIRS}})
    config = setup_optimize_configuration({
        "config": [str(path)], "strategy": "CentaurEnsemble", "timerange": TIMERANGE,
        "strategy_path": str(PROJECT_ROOT / "user_data" / "strategies"), "export": "none",
        "backtest_cache": "none"}, RunMode.BACKTEST)
    engine = Backtesting(config)
    data, timerange = engine.load_bt_data()
    engine.backtest_one_strategy(engine.strategylist[0], data, timerange)
    strategy = engine.strategy
    trades = engine.all_bt_content["CentaurEnsemble"]["results"].to_dict("records")
    analysed = {p: strategy.advise_indicators(data[p].copy(), {"pair": p}) for p in PAIRS}
    return {"strategy": strategy, "trades": trades, "analysed": analysed}


def _candle_ns(moment) -> int:
    """The candle a decision at ``moment`` reads: the one that closed then."""
    return int(pd.Timestamp(moment).value) - FIVE_MIN_NS


def _side(trade) -> int:
    return -1 if trade["is_short"] else 1


def _row(flagship, trade, moment) -> tuple[int, pd.Series]:
    rows = flagship["strategy"].ensemble_rows(trade["pair"])
    index = rows.index_at(_candle_ns(moment))
    assert rows.dates_ns[index] == _candle_ns(moment)
    frame = flagship["analysed"][trade["pair"]]
    return index, frame.iloc[int(np.searchsorted(dates_ns(frame), _candle_ns(moment)))]


def test_every_entry_is_an_ensemble_vote_tagged_with_its_voters(flagship):
    strategy, trades = flagship["strategy"], flagship["trades"]
    assert len(trades) >= 10
    names = strategy.signals.signal_names
    for trade in trades:
        voters = trade["enter_tag"].split("+")
        assert voters == [name for name in REGISTRY if name in voters], trade["enter_tag"]
        rows = strategy.ensemble_rows(trade["pair"])
        index, candle = _row(flagship, trade, trade["open_date"])
        side = _side(trade)
        assert side * rows.score[index] >= DEFAULTS.vote_threshold - 1e-12
        assert side * rows.score[index - 1] < DEFAULTS.vote_threshold  # it crossed here
        for column, name in enumerate(names):
            counted = candle[f"sig_{name}_direction"] == side and \
                rows.effective_weight[index, column] > 0
            assert counted == (name in voters), (name, trade["enter_tag"], trade["open_date"])


def test_trend_votes_only_in_trending_and_reversion_only_in_ranging_candles(flagship):
    families = {Family.TREND: True, Family.REVERSION: False}
    checked = 0
    for trade in flagship["trades"]:
        _, candle = _row(flagship, trade, trade["open_date"])
        trending = candle["adx_1h"] >= DEFAULTS.regime_fallback.adx_trending
        for name in trade["enter_tag"].split("+"):
            wanted = families.get(REGISTRY[name].signal.family)
            if wanted is not None:
                checked += 1
                assert trending == wanted, (name, trade["open_date"])
    assert checked, "no trend or reversion signal voted for any entry"


def test_the_ranker_abstains_and_several_signals_vote(flagship):
    tags = {t["enter_tag"] for t in flagship["trades"]}
    assert not any("ranker" in tag for tag in tags)
    assert len({n for tag in tags for n in tag.split("+")}) >= 2, tags


def test_voter_exits_and_reversals_follow_the_signals(flagship):
    reasons = {t["exit_reason"] for t in flagship["trades"]}
    assert any(r.startswith("VOTER_EXIT ") for r in reasons), reasons
    for trade in flagship["trades"]:
        reason = trade["exit_reason"]
        rows = flagship["strategy"].ensemble_rows(trade["pair"])
        if reason.startswith("VOTER_EXIT "):
            index, _ = _row(flagship, trade, trade["close_date"])
            exiting = reason.removeprefix("VOTER_EXIT ").split("+")
            assert set(exiting) <= set(trade["enter_tag"].split("+")), (reason, trade)
            calls = rows.exit_short if trade["is_short"] else rows.exit_long
            assert all(calls[index, rows.names.index(n)] for n in exiting), (reason, trade)
        elif reason == "ENSEMBLE_REVERSAL":
            index, _ = _row(flagship, trade, trade["close_date"])
            assert -_side(trade) * rows.score[index] >= DEFAULTS.exit_threshold - 1e-12


def test_the_proposal_carries_the_score_and_the_trackers_weights_are_excess_based(flagship):
    strategy = flagship["strategy"]
    trade = flagship["trades"][-1]
    opened = pd.Timestamp(trade["open_date"]).to_pydatetime()
    strategy.bot_loop_start(current_time=opened)
    voters = tuple(trade["enter_tag"].split("+"))
    side = "short" if trade["is_short"] else "long"
    proposal = strategy._proposal_at(trade["pair"], side, opened, trade["enter_tag"])
    assert proposal.voters == voters
    assert proposal.stats is None  # sizing reads realised trades, not the tracker's calls
    ledger = strategy.signals.tracker_ledger
    excess = ledger.excess_at(_candle_ns(opened))
    weights, status = ledger.state_at(np.array([_candle_ns(opened)]))
    assert max(excess[v] for v in voters) > 0  # an entry needs a voter that beats random
    for voter in voters:
        live = status[0, ledger.names.index(voter)] == 1
        assert weights[0, ledger.names.index(voter)] == pytest.approx(
            (2 * max(excess[voter], 0)) ** 2 if live else 0.0)
    rows = strategy.ensemble_rows(trade["pair"])
    confidence = proposal.confidence
    assert confidence == abs(rows.score[rows.index_at(_candle_ns(opened))])
    assert confidence >= DEFAULTS.vote_threshold
    assert strategy._proposal_at(trade["pair"], "long", opened, None).confidence == 1.0  # not ours


def test_the_plot_columns_are_in_the_analysed_dataframe(flagship):
    strategy = flagship["strategy"]
    frame = strategy.advise_entry(flagship["analysed"]["BTC/USDT:USDT"].copy(),
                                  {"pair": "BTC/USDT:USDT"})
    plotted = [column for panel in CentaurEnsemble.plot_config.fget(None)["subplots"].values()
               for column in panel]
    assert plotted and all(column in frame for column in plotted)
    assert frame["ens_score"].abs().max() > 0


def test_an_ensemble_of_one_trades_only_that_signal(tmp_path):
    """A month in which the bb_rsi signal, alone, beats its random-direction null in the
    tracker's windows (weight > 0) and trades.

    Its excess there is marginal (weight below the evidence floor, which would shrink its score
    under the vote threshold: ``test_ensemble_vote``), so the floor is off: this is about who
    trades and how the trade is tagged."""
    config = write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": PAIRS[:2]},
        "centaur": {"ensemble": {"signals": ["bb_rsi"], "evidence_floor_weight": 0.0}}})
    results = tmp_path / "results"
    results.mkdir()
    process = run_freqtrade([
        "backtesting", "-c", str(config), "--timerange", "20250801-20250901", "--cache", "none",
        "--export", "trades", "--backtest-directory", str(results),
        "--strategy-path", str(PROJECT_ROOT / "user_data" / "strategies")])
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    with zipfile.ZipFile(next(results.glob("*.zip"))) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".json") and "_config" not in n)
        trades = json.loads(zipped.read(name))["strategy"]["CentaurEnsemble"]["trades"]
    assert trades and {t["enter_tag"] for t in trades} == {"bb_rsi"}


def test_attribution_by_enter_tag_accounts_for_every_trade(flagship):
    trades = flagship["trades"]
    stop = flagship["strategy"].centaur.risk.stops.hard_stop_ratio
    by_tag, by_signal = attribution.by_tag(trades, stop), attribution.by_signal(trades, stop)
    assert sum(group["trades"] for group in by_tag.values()) == len(trades)
    assert sum(group["profit_usd"] for group in by_tag.values()) == pytest.approx(
        sum(t["profit_abs"] for t in trades), abs=0.01 * len(by_tag))
    for name, group in by_signal.items():
        mine = [t for t in trades if name in t["enter_tag"].split("+")]
        assert group["trades"] == len(mine)
        assert group["win_rate"] == pytest.approx(
            sum(t["profit_abs"] > 0 for t in mine) / len(mine), abs=1e-4)
    for trade in trades:
        multiple = attribution.r_multiple(trade, stop)
        initial_notional = trade["max_stake_amount"] * trade["leverage"]  # before partial exits
        assert multiple == pytest.approx(trade["profit_abs"] / (initial_notional * stop))
    stopped = [t for t in trades if t["exit_reason"] in ("stop_loss", "trailing_stop_loss")
               and t["profit_abs"] < 0]
    assert stopped and all(attribution.r_multiple(t, stop) >= -1.5 for t in stopped), \
        "a stopped trade lost far more than 1 R: R is not the stop's risk"
