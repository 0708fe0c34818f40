"""Headlines: the real shared files, never the future, RSS from a real HTTP server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_layer.news import HeadlineIndex, RssHeadlines, http_fetch, read_csv_headlines
from centaur.settings.llm import NewsSettings
from tests.support.paths import DATA


NEWS_2026 = DATA / "news" / "crypto_headlines_2025-11_2026-02.csv"
NEWS_2022 = DATA / "news" / "cryptonews_kaggle_oliviervha_subset.csv"
KAGGLE = NewsSettings(source="csv", csv_path=str(NEWS_2022), separator=";", time_column="date",
                      time_format="%d-%m-%Y %H:%M", currencies_column="subject")


@lru_cache(maxsize=1)
def headlines_2026():
    return tuple(read_csv_headlines(NEWS_2026, NewsSettings(source="csv", csv_path=str(NEWS_2026))))


@lru_cache(maxsize=1)
def index_2026() -> HeadlineIndex:
    return HeadlineIndex(headlines_2026())


def test_both_shared_files_parse_with_their_settings():
    recent = read_csv_headlines(NEWS_2026, NewsSettings(source="csv", csv_path=str(NEWS_2026)))
    older = read_csv_headlines(NEWS_2022, KAGGLE)
    assert len(recent) > 3000 and len(older) > 7000
    assert not any(h.source.startswith("@") for h in recent), "tweets are excluded by default"
    assert min(h.published_at for h in older) < datetime(2022, 1, 1, tzinfo=UTC)
    assert all(h.published_at.tzinfo is not None for h in recent[:50] + older[:50])


def test_a_missing_column_names_the_setting_to_fix(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("when,headline\n2026-01-01T00:00:00Z,x\n")
    with pytest.raises(ValueError, match="time_column"):
        read_csv_headlines(path, NewsSettings(source="csv", csv_path=str(path)))


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 11, 14), max_value=datetime(2026, 2, 24)),
       st.floats(1, 72), st.sampled_from(["BTC", "ETH", "SOL", "DOGE"]))
def test_only_headlines_published_before_the_candle_are_visible(at, hours, asset):
    at = at.replace(tzinfo=UTC)
    shown = index_2026().visible(at, timedelta(hours=hours), asset, limit=8)
    assert all(at - timedelta(hours=hours) <= h.published_at < at for h in shown)
    own = [h.mentions(asset) for h in shown]
    assert own == sorted(own, reverse=True), "the pair's own headlines come first"


def test_a_headline_at_the_candle_time_itself_is_not_visible():
    first = min(headlines_2026(), key=lambda h: h.published_at)
    at = first.published_at
    assert first not in index_2026().visible(at, timedelta(hours=24), "BTC", limit=50)
    assert first in index_2026().visible(at + timedelta(seconds=1), timedelta(hours=24), "BTC",
                                         limit=5000)


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>feed</title>
<item><title>Bitcoin ETF sees record inflows</title>
<pubDate>Fri, 06 Feb 2026 10:00:00 GMT</pubDate></item>
<item><title>Solana outage halts blocks</title>
<pubDate>Fri, 06 Feb 2026 11:30:00 +0000</pubDate></item>
<item><title>undated item</title></item></channel></rss>"""


@pytest.fixture
def feed_server():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            body = RSS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/feed.xml", hits
    server.shutdown()
    thread.join(5)


@pytest.mark.slow
def test_rss_feeds_are_fetched_at_most_every_refresh_interval(feed_server):
    url, hits = feed_server
    clock = {"now": datetime(2026, 2, 6, 12, 0, tzinfo=UTC)}
    feeds = RssHeadlines([url], refresh_secs=300, fetch=http_fetch(5.0), clock=lambda: clock["now"])
    shown = feeds.index().visible(clock["now"], timedelta(hours=24), "SOL", limit=5)
    assert [h.title for h in shown] == ["Solana outage halts blocks",
                                        "Bitcoin ETF sees record inflows"]
    feeds.index()
    assert len(hits) == 1
    clock["now"] += timedelta(seconds=301)
    feeds.index()
    assert len(hits) == 2


@pytest.mark.slow
def test_a_failing_feed_keeps_its_last_headlines(feed_server):
    url, _ = feed_server
    fetches = {"fail": False}
    real = http_fetch(5.0)

    def fetch(target: str) -> str:
        if fetches["fail"]:
            raise OSError("connection reset")
        return real(target)

    clock = {"now": datetime(2026, 2, 6, 12, 0, tzinfo=UTC)}
    feeds = RssHeadlines([url], refresh_secs=1, fetch=fetch, clock=lambda: clock["now"])
    assert len(feeds.index()) == 2
    fetches["fail"] = True
    clock["now"] += timedelta(seconds=2)
    assert len(feeds.index()) == 2
