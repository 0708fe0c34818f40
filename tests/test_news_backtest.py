"""Headline sentiment in a real freqtrade backtest: ``centaur.llm.news.sentiment`` scores the
2025-26 headlines once (lexicon, cached), the candles carry the per-asset ``news_*`` columns,
and the news signal traded alone (``SignalNewsSentiment``, as the evidence harness trades each
signal) enters on them - every entry tagged by it."""

from __future__ import annotations

import pytest

from tests.support.freqtrade_run import backtest, write_config
from tests.support.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

NEWS = PROJECT_ROOT.parent / "shared" / "data" / "news" / "crypto_headlines_2025-11_2026-02.csv"


def test_the_news_signal_trades_from_the_scored_headlines(tmp_path):
    config = write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
        "centaur": {"ensemble": {"signals": ["news_sentiment"]},
                    "llm": {"news": {"source": "csv", "csv_path": str(NEWS),
                                     "sentiment": True}}},
    })
    result = backtest(tmp_path, config, timerange="20260201-20260219",
                      strategy="SignalNewsSentiment")
    trades = result.stats["trades"]
    assert trades, "the news signal never traded in February 2026"
    assert all("news_sentiment" in (t["enter_tag"] or "") for t in trades)
    cache = tmp_path / "user_data" / "llm" / "sentiment.sqlite"
    assert cache.is_file()  # every headline scored once, kept for the next run
