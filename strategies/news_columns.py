"""The ``news_*`` columns of a candle frame: headline sentiment per asset, no look-ahead.

With ``centaur.llm.news.sentiment`` on (``news.source: csv``), the headlines file is read once,
every headline scored once with the lexicon (``llm_layer.sentiment.LexiconScorer``, cached by
headline hash in ``sentiment.sqlite`` beside the LLM record), and each analysed frame gets the
per-asset aggregates of the headlines published up to each candle's close
(``llm_layer.sentiment.add_sentiment_features``). The news signal reads them, and so does the
veto's market state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from centaur.settings.llm import LlmSettings
from llm_layer.sentiment import LexiconScorer, ScoredHeadline, add_sentiment_features
from llm_layer.sentiment_cache import SentimentCache, cache_path, scored_csv


class NewsColumns:
    """The scored headlines of the configured file, added to each pair's frame."""

    def __init__(self, scored: list[ScoredHeadline]):
        self.scored = [s for s in scored if s.score is not None]

    @classmethod
    def from_config(cls, config: dict[str, Any], settings: LlmSettings) -> NewsColumns | None:
        news = settings.news
        if not news.sentiment:
            return None
        cache = SentimentCache(cache_path(config, settings), lambda: datetime.now(UTC))
        try:
            return cls(scored_csv(Path(news.csv_path), news, LexiconScorer(), cache))
        finally:
            cache.close()

    def add(self, dataframe: pd.DataFrame, pair: str, timeframe: str) -> pd.DataFrame:
        return add_sentiment_features(dataframe, self.scored, base_asset(pair), timeframe)


def base_asset(pair: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC``."""
    return pair.split("/")[0]
