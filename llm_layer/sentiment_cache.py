"""Every headline scored once per scorer: a SQLite cache keyed by ``headline_key``.

``score_headlines`` looks each headline up by the hash of (scorer name, title), scores only the
missing ones (in batches) and stores what was scored. An unscored headline (the LLM timed out,
failed or answered out of schema) is not stored, so a later run may score it; it is returned
with ``score=None`` and never counts in an aggregate. The cache file lives beside the LLM
record store (``<user_data>/llm/sentiment.sqlite`` by default).

``LlmSentimentScorer`` sends the batched request of ``llm_layer.sentiment`` through the
suite's OpenAI-compatible ``LlmClient``; it exists only when an endpoint is configured
(``llm_scorer``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from centaur.settings.llm import LlmMode, LlmSettings, NewsSettings
from centaur.sqlite_tx import transaction
from llm_layer.client import LlmCallError, LlmClient
from llm_layer.news import Headline, read_csv_headlines
from llm_layer.runtime import store_path
from llm_layer.sentiment import ScoredHeadline, headline_key, parse_scores, sentiment_request

_SCHEMA = ("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, scorer TEXT NOT NULL, "
           "score REAL NOT NULL, scored_at TEXT NOT NULL)")
_CALLING_MODES = (LlmMode.LIVE, LlmMode.RECORD)


class Scorer(Protocol):
    name: str

    def score_many(self, titles: Sequence[str]) -> list[float | None]: ...


class SentimentCache:
    def __init__(self, path: str | Path, clock: Callable[[], datetime]):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def lookup(self, keys: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start:start + 500])
                marks = ",".join("?" * len(chunk))
                found.update(self._db.execute(
                    f"SELECT key, score FROM scores WHERE key IN ({marks})", chunk).fetchall())
        return found

    def store(self, scorer: str, scores: dict[str, float]) -> None:
        now = self._clock().isoformat()
        with transaction(self._db, self._lock):
            self._db.executemany("INSERT OR IGNORE INTO scores (key, scorer, score, scored_at) "
                                 "VALUES (?, ?, ?, ?)",
                                 [(key, scorer, score, now) for key, score in scores.items()])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def score_headlines(headlines: Sequence[Headline], scorer: Scorer, cache: SentimentCache,
                    batch_size: int = 20) -> list[ScoredHeadline]:
    """Each headline with its score (cached first; the rest scored in batches and stored)."""
    keys = [headline_key(h.title, scorer.name) for h in headlines]
    known = cache.lookup(keys)
    missing = list(dict.fromkeys((key, h.title) for key, h in zip(keys, headlines)
                                 if key not in known))
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        scores = scorer.score_many([title for _, title in batch])
        new = {key: score for (key, _), score in zip(batch, scores) if score is not None}
        cache.store(scorer.name, new)
        known.update(new)
    return [ScoredHeadline(h, known.get(key)) for key, h in zip(keys, headlines)]


class LlmSentimentScorer:
    """One batched chat-completions call per batch; any failure leaves the batch unscored."""

    def __init__(self, client: LlmClient, max_tokens: int, seed: int):
        self.name = f"llm:{client.model}"
        self._client = client
        self._max_tokens = max_tokens
        self._seed = seed
        self.failures: list[str] = []  # reason codes of failed calls, for the caller's report

    def score_many(self, titles: Sequence[str]) -> list[float | None]:
        request = sentiment_request(titles, self._max_tokens, self._seed)
        try:
            completion = self._client.complete(request)
        except LlmCallError as err:
            self.failures.append(str(err.code))
            return [None] * len(titles)
        return parse_scores(completion.text, len(titles))


def llm_scorer(settings: LlmSettings, **client_options: Any) -> LlmSentimentScorer | None:
    """The LLM scorer when the layer calls an endpoint (``live``/``record``), else None."""
    if settings.mode not in _CALLING_MODES:
        return None
    client = LlmClient.from_settings(settings, **client_options)
    return LlmSentimentScorer(client, max_tokens=max(settings.max_tokens, 512),
                              seed=settings.seed)


def cache_path(config: dict[str, Any], settings: LlmSettings) -> Path:
    """Beside the LLM record store."""
    return store_path(config, settings).parent / "sentiment.sqlite"


def scored_csv(path: Path, news: NewsSettings, scorer: Scorer, cache: SentimentCache
               ) -> list[ScoredHeadline]:
    """A headlines CSV (columns from ``news``), each headline scored once."""
    return score_headlines(read_csv_headlines(path, news), scorer, cache)
