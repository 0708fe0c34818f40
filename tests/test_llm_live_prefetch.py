"""Trading mode on a real CentaurEnsemble instance: the signal's opinion is requested when the
signal forms (with the live order book's skew), sizing and confirmation only read it."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from freqtrade.enums import CandleType, RunMode

from centaur.decision import ReasonCode
from centaur.llm.market_state import add_market_features
from centaur.llm.runtime import open_runtime
from centaur.settings import settings_from
from strategies.CentaurEnsemble import CentaurEnsemble
from tests.fakes.openai_server import Fault, start_fake_openai, user_document
from tests.support.paths import BINANCE_DATA, PROJECT_ROOT


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
def strategy(tmp_path, fake):
    config = json.loads((PROJECT_ROOT / "config" / "backtest.json").read_text())
    config |= {"runmode": RunMode.DRY_RUN, "candle_type_def": CandleType.FUTURES,
               "user_data_dir": str(tmp_path)}
    config["centaur"]["llm"] = {"mode": "live", "base_url": fake.url, "timeout_secs": 5,
                                "store_path": str(tmp_path / "record.sqlite")}
    instance = CentaurEnsemble(config)
    instance.centaur = settings_from(config)
    instance._llm_runtime = open_runtime(config, instance.centaur.llm)
    instance.dp = LiveBook()
    yield instance
    instance.ft_bot_cleanup()


def _signal_frame() -> pd.DataFrame:
    frame = pd.read_feather(BINANCE_DATA / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    frame = add_market_features(frame.iloc[-1000:].reset_index(drop=True), "5m")
    frame.loc[frame.index[-1], ["enter_long", "enter_tag"]] = (1, "trend_pullback")
    return frame


def test_the_opinion_is_prefetched_and_only_read_at_entry(strategy, fake):
    frame = _signal_frame()
    entry_time = frame["date"].iloc[-1].to_pydatetime() + timedelta(minutes=5, seconds=20)
    fake.push(Fault.slow(1.0))
    before = len(fake.requests)
    strategy._prefetch_last(frame, PAIR)
    pending = strategy._veto_verdict(PAIR, "long", entry_time)
    assert pending.reason is ReasonCode.LLM_PENDING and not pending.allowed
    assert strategy.external_size_scale(PAIR, "long", entry_time, "trend_pullback") == 1.0
    assert strategy.llm.desk.wait_idle(10)
    decision = strategy._veto_verdict(PAIR, "long", entry_time)
    assert decision.reason in {ReasonCode.LLM_PROCEED, ReasonCode.LLM_REDUCE}
    assert strategy.external_size_scale(PAIR, "long", entry_time, "trend_pullback") \
        == pytest.approx(decision.scale)
    assert len(fake.requests) == before + 1, "confirmation or sizing called the endpoint"
    market = user_document(fake.requests[-1])["market"]
    assert market["order_book_skew"] == pytest.approx((6.0 - 1.0) / 7.0, abs=1e-3)
    row, = strategy.llm.store.decisions("default")
    assert row["origin"] == "call" and row["pair"] == PAIR


def test_a_signal_without_a_request_is_not_let_through(strategy):
    frame = _signal_frame()
    later = frame["date"].iloc[-1].to_pydatetime() + timedelta(hours=3)
    decision = strategy._veto_verdict(PAIR, "short", later)
    assert decision.reason is ReasonCode.LLM_TIMEOUT and not decision.allowed
