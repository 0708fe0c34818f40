"""Headline sentiment: lexicon scores, scored once (cache by hash), no look-ahead, per-asset
windows, the LLM scorer against the local OpenAI stand-in (malformed answers stay unscored),
the veto prompt's market state, and the news signal through the signal contract's checks on
real candles with real headlines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType

import tests.test_signal_contract as contract
from centaur.market_data import FUNDING_TIMEFRAME
from centaur.settings.llm import LlmSettings, NewsSettings
from llm_layer.market_state import MarketState
from llm_layer.news import Headline, read_csv_headlines
from llm_layer.sentiment import (
    LEXICON_SCORER,
    LexiconScorer,
    ScoredHeadline,
    add_sentiment_features,
    headline_key,
    parse_scores,
    sentiment_features,
)
from llm_layer.sentiment_cache import SentimentCache, llm_scorer, score_headlines
from strategies.signals import REGISTRY
from strategies.signals.hourly import spot_pair
from strategies.signals.news_sentiment import NewsSentiment
from tests.fakes.openai_server import Fault, start_fake_openai
from tests.support.paths import BINANCE_DATA, DATA

NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)
RECENT = DATA / "news" / "crypto_headlines_2025-11_2026-02.csv"


def _clock() -> datetime:
    return NOW


class CountingScorer:
    """A scorer that scores by the title's length and counts what it was asked."""

    name = "counting"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score_many(self, titles):
        self.asked += titles
        return [min(1.0, len(title) / 100) for title in titles]


def _headline(hours_before: float, title: str, *currencies: str) -> Headline:
    return Headline(NOW - timedelta(hours=hours_before), title, "test", currencies)


@pytest.fixture(scope="module")
def recent() -> list[ScoredHeadline]:
    headlines = read_csv_headlines(RECENT, NewsSettings(source="csv", csv_path=str(RECENT)))
    scores = LexiconScorer().score_many([h.title for h in headlines])
    return [ScoredHeadline(h, s) for h, s in zip(headlines, scores)]


# --- the lexicon -----------------------------------------------------------------------------


def test_the_lexicon_scores_known_headlines_by_their_sign():
    scores = LexiconScorer().score_many([
        "Bitcoin mining difficulty drops 11% in largest negative adjustment since China's ban",
        "Exchange hacked, users lose millions in crypto theft",
        "Chainwire Wins Best Crypto PR Wire Award",
        "Ethereum gains as ETF inflows surge to a record",
        "Bitcoin price on Tuesday",
    ])
    assert scores[0] < -0.5 and scores[1] < -0.5
    assert scores[2] > 0.5 and scores[3] > 0.3
    assert scores[4] == 0.0
    assert all(-1.0 <= s <= 1.0 for s in scores)


# --- the cache -------------------------------------------------------------------------------


def test_each_headline_is_scored_once_and_found_by_its_hash(tmp_path):
    headlines = [_headline(1, "BTC rallies", "BTC"), _headline(2, "ETH slips", "ETH"),
                 _headline(3, "BTC rallies", "BTC")]  # the same title twice
    scorer = CountingScorer()
    cache = SentimentCache(tmp_path / "sentiment.sqlite", _clock)
    first = score_headlines(headlines, scorer, cache)
    assert scorer.asked == ["BTC rallies", "ETH slips"]
    assert cache.lookup([headline_key("BTC rallies", "counting")]) == {
        headline_key("BTC rallies", "counting"): first[0].score}
    cache.close()
    reopened = SentimentCache(tmp_path / "sentiment.sqlite", _clock)  # a restart
    again = score_headlines(headlines, scorer, reopened)
    assert scorer.asked == ["BTC rallies", "ETH slips"]  # no new scoring
    assert [s.score for s in again] == [s.score for s in first]
    assert headline_key("BTC rallies", "counting") != headline_key("BTC rallies", LEXICON_SCORER)


# --- aggregation: windows per asset, no look-ahead --------------------------------------------


def test_the_windows_aggregate_per_asset_and_skip_unscored_headlines():
    scored = [ScoredHeadline(_headline(1, "Bitcoin up", "BTC"), 0.5),
              ScoredHeadline(_headline(5, "BTC down", "BTC"), -0.2),
              ScoredHeadline(_headline(10, "bitcoin soars"), 0.9),  # named in the title
              ScoredHeadline(_headline(2, "BTC unscored", "BTC"), None),
              ScoredHeadline(_headline(2, "Ether news", "ETH"), -0.6),
              ScoredHeadline(_headline(30, "BTC old", "BTC"), 1.0)]  # outside both windows
    at = np.array([np.datetime64(NOW.replace(tzinfo=None), "ns")])
    btc = sentiment_features(scored, "BTC", at).iloc[0]
    assert (btc.news_count_6h, btc.news_min_6h) == (2, -0.2)
    assert btc.news_sent_6h == pytest.approx(0.15)
    assert (btc.news_count_24h, btc.news_min_24h) == (3, -0.2)
    assert btc.news_sent_24h == pytest.approx(0.4)
    assert (btc.news_all_count_6h, btc.news_all_count_24h) == (3, 4)
    eth = sentiment_features(scored, "ETH", at).iloc[0]
    assert (eth.news_count_6h, eth.news_sent_6h) == (1, -0.6)
    sol = sentiment_features(scored, "SOL", at).iloc[0]
    assert sol.news_count_6h == 0 and np.isnan(sol.news_sent_6h) and np.isnan(sol.news_min_6h)


def test_a_candle_sees_a_headline_published_at_its_close_but_not_one_second_later():
    frame = pd.DataFrame({"date": [pd.Timestamp(NOW) - pd.Timedelta(hours=1)]})  # closes at NOW
    at_close = [ScoredHeadline(Headline(NOW, "BTC at the close", "", ("BTC",)), 0.4)]
    after = [ScoredHeadline(Headline(NOW + timedelta(seconds=1), "BTC after", "", ("BTC",)),
                            0.4)]
    assert add_sentiment_features(frame.copy(), at_close, "BTC", "1h").news_count_6h[0] == 1
    assert add_sentiment_features(frame.copy(), after, "BTC", "1h").news_count_6h[0] == 0


def test_no_look_ahead_on_real_headlines_truncated_at_each_cut(recent):
    dates = pd.date_range("2026-02-01", "2026-02-12", freq="1h", tz="UTC")
    full = add_sentiment_features(pd.DataFrame({"date": dates}), recent, "BTC", "1h")
    assert full.news_count_6h.sum() > 100  # the period has BTC headlines
    for cut in pd.to_datetime(["2026-02-03 07:00", "2026-02-06 13:00", "2026-02-10 00:00"],
                              utc=True):
        known = [s for s in recent if s.headline.published_at <= cut]
        seen = dates[dates + pd.Timedelta(hours=1) <= cut]  # candles closed by the cut
        early = add_sentiment_features(pd.DataFrame({"date": seen}), known, "BTC", "1h")
        pd.testing.assert_frame_equal(early, full.iloc[:len(seen)], check_exact=True)


# --- the LLM scorer ---------------------------------------------------------------------------


def _by_words(request: dict) -> str:
    titles = json.loads(request["messages"][1]["content"])["headlines"]
    return json.dumps({"scores": [-0.8 if "hack" in t.lower() else 0.6 for t in titles]})


@pytest.fixture(scope="module")
def fake():
    server, stop = start_fake_openai(_by_words)
    yield server
    stop()


def _llm(fake) -> object:
    settings = LlmSettings.model_validate({"mode": "record", "base_url": fake.url,
                                           "model": "stand-in", "timeout_secs": 5})
    return llm_scorer(settings, environ={})


def test_the_llm_scorer_scores_a_batch_in_one_call(tmp_path, fake):
    scorer = _llm(fake)
    cache = SentimentCache(tmp_path / "s.sqlite", _clock)
    before = len(fake.requests)
    scored = score_headlines([_headline(1, "Exchange hack drains wallets"),
                              _headline(2, "ETF approved")], scorer, cache, batch_size=10)
    assert [s.score for s in scored] == [-0.8, 0.6]
    assert len(fake.requests) == before + 1
    assert scorer.name == "llm:stand-in"
    schema = fake.requests[-1]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["scores"]["maxItems"] == 2


@pytest.mark.parametrize("fault", [
    Fault.says("not json at all"), Fault.says('{"scores": [0.5]}'),  # one score for two
    Fault.says('{"verdict": "bullish"}'), Fault.http(500), Fault.malformed_body()])
def test_a_failed_or_malformed_answer_leaves_the_batch_unscored_and_uncached(tmp_path, fake,
                                                                              fault):
    scorer = _llm(fake)
    cache = SentimentCache(tmp_path / "s.sqlite", _clock)
    headlines = [_headline(1, "Exchange hack drains wallets"), _headline(2, "ETF approved")]
    fake.push(fault)
    assert [s.score for s in score_headlines(headlines, scorer, cache)] == [None, None]
    # not cached: the next run asks again and gets the scores
    assert [s.score for s in score_headlines(headlines, scorer, cache)] == [-0.8, 0.6]


def test_an_item_out_of_range_or_not_a_number_is_unscored_alone():
    assert parse_scores('{"scores": [0.5, 1.5, "0.2", true, -1]}', 5) == [
        0.5, None, None, None, -1.0]
    assert parse_scores('{"scores": [0.5, NaN]}', 2) == [None, None]  # not strict JSON


def test_no_llm_scorer_without_a_calling_mode():
    assert llm_scorer(LlmSettings.model_validate({"mode": "replay"})) is None
    assert llm_scorer(LlmSettings()) is None


# --- the veto's market state ------------------------------------------------------------------


def test_the_prompt_is_unchanged_without_sentiment_columns_and_shows_them_with():
    row = {"llm_ret_1h": 0.001, "llm_vol_ratio": 1.0}
    assert "news_sentiment" not in MarketState.from_row(row).to_prompt()
    scored = [ScoredHeadline(_headline(1, "BTC up", "BTC"), 0.456),
              ScoredHeadline(_headline(20, "BTC down", "BTC"), -0.2)]
    frame = add_sentiment_features(pd.DataFrame({"date": [pd.Timestamp(NOW) - pd.Timedelta(
        minutes=5)]}), scored, "BTC", "5m")
    shown = MarketState.from_row({**row, **frame.iloc[0].to_dict()}).to_prompt()
    assert shown["news_sentiment"] == {"last_6h": {"mean_score": 0.46, "headlines": 1},
                                       "last_24h": {"mean_score": 0.13, "headlines": 2}}
    empty = add_sentiment_features(pd.DataFrame({"date": [pd.Timestamp(NOW)]}), [], "BTC", "5m")
    assert MarketState.from_row({**row, **empty.iloc[0].to_dict()}).to_prompt()[
        "news_sentiment"]["last_6h"] == {"mean_score": None, "headlines": 0}


# --- the news signal through the contract's checks, on real candles and headlines -------------


# BTC headlines 2026-02-03..09 and 02-18 (short votes on 02-08, long on 02-18 at level 0.15)
START, STOP = pd.Timestamp("2026-02-06", tz="UTC"), pd.Timestamp("2026-02-19", tz="UTC")
CUTS = tuple(pd.to_datetime(["2026-02-07 16:00", "2026-02-08 04:00", "2026-02-18 03:25"],
                            utc=True))


@pytest.fixture(scope="module")
def inputs() -> contract.Inputs:
    def load(pair, timeframe, candle_type, startup):
        frame = load_pair_history(pair, timeframe, BINANCE_DATA, data_format="feather",
                                  candle_type=candle_type)
        inside = (frame["date"] >= START - startup) & (frame["date"] < STOP)
        return frame[inside].reset_index(drop=True)

    pair = contract.PAIR
    return contract.Inputs(
        {pair: load(pair, "5m", CandleType.FUTURES, 720 * contract.FIVE_MIN)},
        load(pair, "1h", CandleType.FUTURES, 720 * contract.HOUR),
        load(spot_pair(pair), "1h", CandleType.SPOT, 720 * contract.HOUR),
        load(pair, FUNDING_TIMEFRAME, CandleType.FUNDING_RATE, 720 * contract.HOUR))


def _with_headlines(scored: list[ScoredHeadline]) -> type[NewsSentiment]:
    class WithHeadlines(NewsSentiment):
        """The signal behind the strategy step that adds the ``news_*`` columns."""

        def add_columns(self, dataframe, context):
            if "news_sent_6h" not in dataframe:
                add_sentiment_features(dataframe, scored, "BTC", context.timeframe)
            return super().add_columns(dataframe, context)

    return WithHeadlines


def test_the_news_signal_passes_the_contract_on_real_headlines(inputs, recent, monkeypatch):
    monkeypatch.setattr(contract, "CUTS", CUTS)
    monkeypatch.setattr(contract, "_news_stand_in", lambda hourly: recent)  # real headlines
    signal = _with_headlines(recent)(level=0.15, min_headlines=3)
    dataframe, frame = contract.analysed(signal, inputs)
    assert (frame.direction == 1).any() and (frame.direction == -1).any()
    assert frame.available.any() and not frame.available.all()  # abstains without news
    contract.check_frame(frame, len(dataframe), signal.name)
    contract.check_no_look_ahead(signal, inputs)
    contract.check_only_adds_columns(signal, inputs)
    contract.check_describe(NewsSentiment)
    contract.check_identity("news_sentiment", REGISTRY["news_sentiment"].signal)


def test_the_news_signal_abstains_everywhere_without_headline_data(inputs, monkeypatch):
    monkeypatch.setattr(contract, "_news_stand_in", lambda hourly: [])  # no headline at all
    dataframe, frame = contract.analysed(NewsSentiment(), inputs)
    assert not frame.available.any() and not frame.direction.any()


def test_the_sentiment_report_measures_agreement_only_on_headlines_both_scored():
    from research.sentiment_report import agreement, sample_titles

    lexicon = [0.5, -0.4, 0.0, 0.3, -0.8, 0.6, -0.2, 0.9, -0.5, 0.1, 0.7, -0.6]
    model = [0.4, -0.5, None, 0.2, -0.9, 0.5, -0.1, 0.8, -0.6, 0.0, 0.6, -0.7]
    result = agreement(lexicon, model)
    assert result["paired"] == 11  # the unscored headline is left out, not counted as 0
    assert result["spearman"] > 0.9 and result["sign_agreement"] == 1.0
    assert result["spearman_ci95"][0] <= result["spearman"] <= result["spearman_ci95"][1]
    assert agreement(lexicon[:5], model[:5]) == {"paired": 4}  # too few to say anything
    titles = sample_titles("2025-26", 30)
    assert len(titles) == 30 and len(set(titles)) > 25
