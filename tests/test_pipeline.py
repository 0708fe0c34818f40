"""The entry pipeline with fakes at its edges (fast tier): gate order, scales, fail-closed
errors; and the four bugs of the mixin stack, each pinned here:

1. a replay miss was recorded twice (sizing and confirmation each recorded one);
2. live, an opinion pending at sizing followed by ``reduce`` at confirmation entered at full
   size;
3. ``leverage()`` saved the next leverage step before the entry was confirmed, so a denied
   entry still ratcheted leverage up;
4. the risk layer's ``__getstate__`` did not chain: each part now pickles its own state.
"""

from __future__ import annotations

import cloudpickle
import threading
from datetime import UTC, datetime, timedelta

import pytest

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink
from centaur.interventions import InterventionBook
from centaur.pipeline import Denials, EntryPipeline, EntryProposal, EntryRequest
from centaur.settings import settings_from
from centaur.state import StateStore
from llm_layer.runtime import RuntimeHandle
from llm_layer.veto_gate import LlmVetoGate
from risk_protections.engine import RiskCollaborators, RiskEngine
from risk_protections.risk_inputs import CandleRows
from tests.support.accounts import FlatAccount


CANDLE = datetime(2026, 2, 6, 12, tzinfo=UTC)
NOW = CANDLE + timedelta(minutes=5)


def _proposal(side: str = "long", tag: str | None = "bb_rsi") -> EntryProposal:
    return EntryProposal("BTC/USDT:USDT", side, tag, ("bb_rsi",) if tag else (), 0.6, None,
                         CANDLE, NOW, 70_000.0)


class Rule:
    def __init__(self, name: str, sizing: Decision | None = None,
                 confirm: Decision | None = None, raises: bool = False):
        self.name = name
        self._sizing = sizing or Decision.allow()
        self._confirm = confirm or Decision.allow()
        self._raises = raises
        self.asked: list[str] = []

    def at_sizing(self, proposal, request):
        self.asked.append("size")
        if self._raises:
            raise ValueError("a bug")
        return self._sizing

    def at_confirm(self, proposal, request):
        self.asked.append("confirm")
        if self._raises:
            raise ValueError("a bug")
        return self._confirm


class Sizer:
    name = "fixed"

    def __init__(self):
        self.scales: list[float] = []

    def stake(self, proposal, request, scale):
        self.scales.append(scale)
        return Decision.allow(), 100.0 * scale


def test_gates_run_in_order_and_the_first_denial_stops_the_entry():
    first = Rule("first")
    denying = Rule("denying", confirm=Decision(False, ReasonCode.CORRELATED_POSITION, "r 0.9"))
    last = Rule("last")
    denials = Denials(trading=False)
    pipeline = EntryPipeline([], [first, denying, last], Sizer(), on_denial=denials)
    verdict = pipeline.confirm(_proposal(), EntryRequest(NOW, 1.0))
    assert not verdict.decision.allowed and verdict.gate == "denying"
    assert first.asked == ["confirm"] and denying.asked == ["confirm"] and last.asked == []
    assert denials.counts == {"CORRELATED_POSITION": 1}
    assert denials.last("BTC/USDT:USDT").reason is ReasonCode.CORRELATED_POSITION


def test_sizing_multiplies_the_gates_scales_before_the_sizer():
    sizer = Sizer()
    pipeline = EntryPipeline([], [Rule("a", sizing=Decision(True, ReasonCode.LLM_REDUCE,
                                                             scale=0.5)),
                                  Rule("b", sizing=Decision(True, ReasonCode.OK, scale=0.8))],
                             sizer)
    verdict = pipeline.size(_proposal(), EntryRequest(NOW, 1.0))
    assert verdict.decision.allowed and verdict.stake_usd == pytest.approx(40.0)
    assert sizer.scales == [pytest.approx(0.4)]


def test_a_gate_or_sizer_that_raises_denies_the_entry():
    pipeline = EntryPipeline([], [Rule("broken", raises=True)], Sizer())
    for verdict in (pipeline.size(_proposal(), EntryRequest(NOW, 1.0)),
                    pipeline.confirm(_proposal(), EntryRequest(NOW, 1.0))):
        assert not verdict.decision.allowed
        assert verdict.decision.reason is ReasonCode.RISK_CHECK_FAILED
        assert "broken" in verdict.decision.detail

    class BrokenSizer(Sizer):
        def stake(self, proposal, request, scale):
            raise ZeroDivisionError

    verdict = EntryPipeline([], [], BrokenSizer()).size(_proposal(), EntryRequest(NOW, 1.0))
    assert not verdict.decision.allowed and verdict.stake_usd == 0.0


def test_the_pipeline_describes_itself():
    pipeline = EntryPipeline([], [Rule("halts"), Rule("llm_veto")], Sizer())
    assert pipeline.describe() == {"candle": [], "gates": ["halts", "llm_veto"],
                                   "sizer": ["fixed"]}
    assert "halts -> llm_veto" in pipeline.summary()


# --- bugs 1 and 2: the veto reads an opinion once ------------------------------------------------

class Store:
    def __init__(self):
        self.recorded: list = []

    def record_decisions(self, records):
        self.recorded += list(records)


class Engine:
    def record_of(self, proposal, decision, key, origin):
        return (proposal.pair, str(decision.reason), origin)


class Desk:
    """The live prefetch desk: pending first, then the model's ``reduce``."""

    def __init__(self):
        self.answer = Decision(False, ReasonCode.LLM_PENDING, "waiting 1.0 s")

    def read(self, key):
        return self.answer


class Runtime:
    def __init__(self, trading: bool, policy: str = "skip"):
        self.settings = settings_from({"centaur": {"llm": {"failure_policy": policy}}}).llm
        self.trading = trading
        self.desk = Desk() if trading else None
        self.store = Store()
        self.veto = Engine()


class Handle:
    def __init__(self, runtime):
        self.runtime = runtime

    def get(self):
        return self.runtime


def _gate(runtime) -> LlmVetoGate:
    return LlmVetoGate(Handle(runtime), EventSink(StateStore()), "5m", None, True,
                       book_skew=lambda pair: None)


def test_a_replay_miss_is_recorded_once():
    runtime = Runtime(trading=False)
    gate = _gate(runtime)
    request = EntryRequest(NOW, 1.0)
    sizing = gate.at_sizing(_proposal(), request)
    confirm = gate.at_confirm(_proposal(), request)
    assert sizing.allowed  # the denial is the confirmation's, after the risk rules
    assert confirm.reason is ReasonCode.LLM_REPLAY_MISS and not confirm.allowed
    assert runtime.store.recorded == [("BTC/USDT:USDT", "LLM_REPLAY_MISS", "policy")]


def test_a_pending_opinion_at_sizing_defers_the_entry_instead_of_full_size():
    runtime = Runtime(trading=True)
    gate = _gate(runtime)
    pipeline = EntryPipeline([], [gate], Sizer())
    request = EntryRequest(NOW, 1.0)
    first = pipeline.size(_proposal(), request)
    assert not first.decision.allowed and first.decision.reason is ReasonCode.LLM_PENDING
    runtime.desk.answer = Decision(True, ReasonCode.LLM_REDUCE, "crowded", scale=0.5)
    second = pipeline.size(_proposal(), request)  # freqtrade asks again next loop
    assert second.decision.allowed and second.stake_usd == pytest.approx(50.0)
    assert pipeline.confirm(_proposal(), request).decision.allowed


# --- bug 3: the leverage step is committed on fill ------------------------------------------------

class FilledTrade:
    open_rate = 70_000.0
    is_short = False
    stake_amount = 500.0
    leverage = 3.0


def _engine() -> RiskEngine:
    config = {"runmode": "backtest", "stake_currency": "USDT",
              "exchange": {"name": "binance"}}
    store = StateStore()
    return RiskEngine(settings_from({}).risk, RiskCollaborators(
        config=config, store=store, events=EventSink(store),
        interventions=InterventionBook(store), rows=CandleRows(timedelta(minutes=5)),
        account=FlatAccount(), order_book=lambda pair, depth: {}, candles_per_day=288))


def test_a_denied_entry_does_not_ratchet_leverage_and_a_fill_commits_it():
    engine = _engine()
    engine.start(NOW)
    proposed = engine.leverage("BTC/USDT:USDT", NOW, max_leverage=20.0)
    assert proposed > 0
    assert engine.state.leverage == {}, "the step was saved before the entry was confirmed"
    engine.on_entry_filled("BTC/USDT:USDT", FilledTrade(), NOW)
    assert engine.state.leverage["BTC/USDT:USDT"].value == proposed
    assert engine.state.leverage["BTC/USDT:USDT"].changed_at == NOW


# --- bug 4: each part pickles its own state (hyperopt sends the strategy with cloudpickle) -----

def test_each_part_keeps_its_locks_and_connections_out_of_the_pickle(tmp_path):
    engine = _engine()
    copy = cloudpickle.loads(cloudpickle.dumps(engine))
    assert isinstance(copy.lock, type(threading.RLock())) and copy.lock is not engine.lock
    config = {"runmode": "backtest", "user_data_dir": str(tmp_path),
              "centaur": {"llm": {"mode": "replay", "store_path": str(tmp_path / "r.sqlite")}}}
    handle = RuntimeHandle(config, settings_from(config).llm)
    assert handle.get() is not None
    revived = cloudpickle.loads(cloudpickle.dumps(handle))
    assert revived._runtime is None  # a worker opens its own on first use
    assert revived.get() is not None
    revived.close()
    handle.close()


# --- the shell's start-up check: the suite's exchange class, or fail closed ----------------------

def test_a_config_asking_for_the_suite_exchange_fails_without_it():
    from centaur.settings import CentaurConfigError
    from sor_exchange.binance import CentaurBinance
    from sor_exchange.selection import check_exchange_class

    config = {"exchange": {"name": "binance"},
              "centaur": {"exchange": {"offline_markets": {"enabled": True}}}}
    with pytest.raises(CentaurConfigError, match="plugin hooks are not active"):
        check_exchange_class(config, object())
    check_exchange_class(config, object.__new__(CentaurBinance))  # the suite's class: fine
    check_exchange_class({"exchange": {"name": "binance"}}, object())  # not asked for: fine
