"""Trading mode on the real veto gate of the pipeline: the signal's opinion is requested when the
signal forms (with the live order book's skew), sizing and confirmation only read it."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from freqtrade.enums import CandleType, RunMode

from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings import settings_from
from centaur.state import StateStore
from llm_layer.market_state import add_market_features, book_skew
from llm_layer.runtime import RuntimeHandle
from llm_layer.veto_gate import LlmVetoGate
from tests.fakes.openai_server import Fault, start_fake_openai, user_document
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT


pytestmark = pytest.mark.slow

PAIR = "BTC/USDT:USDT"


class LiveBook:
    """The one DataProvider call the veto makes live: the order book."""

    def orderbook(self, pair: str, maximum: int) -> dict:
        return {"bids": [[70_000.0, 3.0], [69_990.0, 3.0]], "asks": [[70_010.0, 1.0]]}


@pytest.fixture(scope="module")
def fake():
    server, stop = start_fake_openai()
    yield server
    stop()


@pytest.fixture
def gate(tmp_path, fake):
    config = json.loads((PROJECT_ROOT / "config" / "backtest.json").read_text())
    config |= {"runmode": RunMode.DRY_RUN, "candle_type_def": CandleType.FUTURES,
               "user_data_dir": str(tmp_path)}
    config["centaur"]["llm"] = {"mode": "live", "base_url": fake.url, "timeout_secs": 5,
                                "store_path": str(tmp_path / "record.sqlite")}
    handle = RuntimeHandle(config, settings_from(config).llm)
    book = LiveBook().orderbook(PAIR, 10)
    yield LlmVetoGate(handle, EventSink(StateStore()), "5m", None, True,
                      book_skew=lambda pair: book_skew(book["bids"], book["asks"]))
    handle.close()


def _signal_frame() -> pd.DataFrame:
    frame = pd.read_feather(BINANCE_DATA / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    frame = add_market_features(frame.iloc[-1000:].reset_index(drop=True), "5m")
    frame.loc[frame.index[-1], ["enter_long", "enter_tag"]] = (1, "trend_pullback")
    return frame


def _proposal(frame: pd.DataFrame, side: str, candle=None) -> EntryProposal:
    candle = frame["date"].iloc[-1].to_pydatetime() if candle is None else candle
    return EntryProposal(PAIR, side, "trend_pullback", (), 1.0, None, candle,
                         candle + timedelta(minutes=5), float(frame["close"].iloc[-1]))


def test_the_opinion_is_prefetched_and_only_read_at_entry(gate, fake):
    frame = _signal_frame()
    proposal = _proposal(frame, "long")
    entry = EntryRequest(proposal.decided_at + timedelta(seconds=20), proposal.close)
    fake.push(Fault.slow(1.0))
    before = len(fake.requests)
    gate.on_analysis([(proposal, frame.iloc[-1])])
    pending = gate.opinion(proposal)
    assert pending.reason is ReasonCode.LLM_PENDING and not pending.allowed
    sizing = gate.at_sizing(proposal, entry)  # never sized at full size while pending
    assert sizing.reason is ReasonCode.LLM_PENDING and not sizing.allowed
    assert gate.runtime.desk.wait_idle(10)
    decision = gate.opinion(proposal)
    assert decision.reason in {ReasonCode.LLM_PROCEED, ReasonCode.LLM_REDUCE}
    assert gate.at_sizing(proposal, entry).scale == pytest.approx(decision.scale)
    assert gate.at_confirm(proposal, entry) == decision
    assert len(fake.requests) == before + 1, "confirmation or sizing called the endpoint"
    market = user_document(fake.requests[-1])["market"]
    assert market["order_book_skew"] == pytest.approx((6.0 - 1.0) / 7.0, abs=1e-3)
    row, = gate.runtime.store.decisions("default")
    assert row["origin"] == "call" and row["pair"] == PAIR


def test_a_signal_without_a_request_is_not_let_through(gate):
    frame = _signal_frame()
    later = frame["date"].iloc[-1].to_pydatetime() + timedelta(hours=3)
    proposal = _proposal(frame, "short", later)
    decision = gate.at_confirm(proposal, EntryRequest(proposal.decided_at, 1.0))
    assert decision.reason is ReasonCode.LLM_TIMEOUT and not decision.allowed
