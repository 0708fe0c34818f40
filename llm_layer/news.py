"""Headlines the model may see: a timestamped CSV file or RSS feeds, never the future.

``visible`` is the one rule: a headline is shown for a decision at time ``at`` only if it was
published strictly before ``at`` and within the lookback; the pair's own asset comes first.
Headlines are untrusted third-party text: they are cleaned (control characters, length) here
and placed in a data field of the prompt (``centaur.llm.prompt``), never in instructions.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pandas as pd

from centaur.settings.llm import NewsSettings

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 140
# Names a headline may use for an asset (tickers match too). Extend as pairs are added.
ASSET_NAMES: dict[str, tuple[str, ...]] = {
    "BTC": ("bitcoin",), "ETH": ("ethereum", "ether"), "SOL": ("solana",),
    "XRP": ("ripple",), "BNB": ("binance coin",), "DOGE": ("dogecoin",),
    "BCH": ("bitcoin cash",), "ZEC": ("zcash",), "LTC": ("litecoin",), "ADA": ("cardano",),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Headline:
    published_at: datetime  # UTC
    title: str
    source: str = ""
    currencies: tuple[str, ...] = ()

    def mentions(self, base_asset: str) -> bool:
        names = {base_asset.lower(), *ASSET_NAMES.get(base_asset.upper(), ())}
        if names & {c.lower() for c in self.currencies}:
            return True
        title = self.title.lower()
        return any(re.search(rf"\b{re.escape(name)}\b", title) for name in names)


def clean_title(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", str(text)).split())[:TITLE_MAX_CHARS]


class HeadlineIndex:
    """Headlines sorted by publication time; ``visible`` is a bisect, not a scan."""

    def __init__(self, headlines: Sequence[Headline]):
        self._items = sorted(headlines, key=lambda h: (h.published_at, h.title))
        self._times = [h.published_at for h in self._items]

    def __len__(self) -> int:
        return len(self._items)

    def visible(self, at: datetime, lookback: timedelta, base_asset: str,
                limit: int) -> list[Headline]:
        """Published in [at - lookback, at); the asset's own first, each group newest first."""
        lo = bisect.bisect_left(self._times, at - lookback)
        hi = bisect.bisect_left(self._times, at)  # strictly before ``at``
        window = self._items[lo:hi][::-1]
        own = [h for h in window if h.mentions(base_asset)]
        other = [h for h in window if not h.mentions(base_asset)]
        return (own + other)[:limit]


def read_csv_headlines(path: Path, news: NewsSettings) -> list[Headline]:
    """A timestamped CSV (columns from ``news``); malformed or excluded lines are dropped."""
    frame = pd.read_csv(path, sep=news.separator, on_bad_lines="skip", dtype=str,
                        keep_default_na=False)
    for column in (news.time_column, news.title_column):
        if column not in frame.columns:
            raise ValueError(f"{path}: no column {column!r} (columns: {list(frame.columns)}). "
                             "Fix: set centaur.llm.news.time_column/title_column")
    times = pd.to_datetime(frame[news.time_column], format=news.time_format, utc=True,
                           errors="coerce")
    sources = _column(frame, news.source_column)
    currencies = _column(frame, news.currencies_column)
    kept = []
    for time, title, source, listed in zip(times, frame[news.title_column], sources, currencies):
        title = clean_title(title)
        if pd.isna(time) or not title or source.startswith(news.exclude_source_prefixes):
            continue
        tickers = tuple(c.strip() for c in listed.split(",") if c.strip())
        kept.append(Headline(time.to_pydatetime(), title, source, tickers))
    logger.info("headlines: %d kept of %d lines in %s", len(kept), len(frame), path.name)
    return kept


def _column(frame: pd.DataFrame, name: str | None) -> list[str]:
    return list(frame[name]) if name in frame.columns else [""] * len(frame)


def parse_feed(xml_text: str) -> list[Headline]:
    """RSS 2.0 ``<item>`` and Atom ``<entry>`` elements with a title and a date."""
    root = ET.fromstring(xml_text)
    out = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in ("item", "entry"):
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in element}
        published = _feed_time(fields.get("pubDate") or fields.get("published")
                               or fields.get("updated") or "")
        title = clean_title(fields.get("title", ""))
        if published is not None and title:
            out.append(Headline(published, title, fields.get("source", "")))
    return out


def _feed_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class RssHeadlines:
    """Feeds fetched at most every ``refresh_secs`` (off the bot's critical path).

    ``fetch(url) -> text`` and ``clock() -> datetime`` are injected. A failing feed is logged
    and keeps its last headlines; the others still count.
    """

    def __init__(self, urls: Sequence[str], refresh_secs: float,
                 fetch: Callable[[str], str], clock: Callable[[], datetime]):
        self._urls = list(urls)
        self._refresh = timedelta(seconds=refresh_secs)
        self._fetch = fetch
        self._clock = clock
        self._by_url: dict[str, list[Headline]] = {}
        self._fetched_at: datetime | None = None
        self._lock = threading.Lock()

    def index(self) -> HeadlineIndex:
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self._refresh:
                self._refresh_all()
                self._fetched_at = now
            return HeadlineIndex([h for items in self._by_url.values() for h in items])

    def _refresh_all(self) -> None:
        for url in self._urls:
            try:
                self._by_url[url] = parse_feed(self._fetch(url))
            except (OSError, ET.ParseError, ValueError) as err:
                logger.warning("news feed %s failed (%s); keeping its last %d headlines",
                               url, err, len(self._by_url.get(url, [])))


def http_fetch(timeout_secs: float) -> Callable[[str], str]:
    """``fetch`` for ``RssHeadlines`` (standard library HTTP, bounded by ``timeout_secs``)."""

    def fetch(url: str) -> str:
        request = urllib.request.Request(url, headers={"User-Agent": "centaur-news/1"})
        with urllib.request.urlopen(request, timeout=timeout_secs) as response:  # noqa: S310
            return response.read().decode(response.headers.get_content_charset() or "utf-8",
                                          errors="replace")

    return fetch


class NewsSource:
    """The configured headlines, as a ``HeadlineIndex`` for the current decision."""

    def __init__(self, index_fn: Callable[[], HeadlineIndex]):
        self._index_fn = index_fn

    def visible(self, at: datetime, base_asset: str, news: NewsSettings) -> list[Headline]:
        return self._index_fn().visible(at, timedelta(hours=news.lookback_hours), base_asset,
                                        news.max_headlines)


def news_source(news: NewsSettings, base_dir: Path,
                clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> NewsSource:
    """The source ``news`` configures; a relative CSV path is resolved against ``base_dir``."""
    if news.source == "csv":
        path = Path(news.csv_path)
        path = path if path.is_absolute() else (base_dir / path)
        if not path.is_file():
            raise FileNotFoundError(f"centaur.llm.news.csv_path: {path} does not exist. "
                                    "Fix: point csv_path at a timestamped headlines file")
        index = HeadlineIndex(read_csv_headlines(path, news))
        return NewsSource(lambda: index)
    if news.source == "rss":
        feeds = RssHeadlines(news.rss_urls, news.rss_refresh_secs, http_fetch(5.0), clock)
        return NewsSource(feeds.index)
    empty = HeadlineIndex([])
    return NewsSource(lambda: empty)
