"""Reader for cryptofeed recordings: lines of ``URL -> unix_ts: payload`` (REST responses).

The files are real traffic recorded by bmoscon/cryptofeed (``../shared/data/orderbooks/
cryptofeed``). Websocket lines (``URL <- ts: payload``) are skipped by the REST reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REST_MARKER = " -> "


@dataclass(frozen=True)
class RecordedResponse:
    """One recorded REST response, its payload kept raw (as ccxt keeps ``info``)."""

    url: str
    recorded_at: datetime
    payload_text: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def json(self) -> Any:
        return json.loads(self.payload_text)


def iter_rest_responses(path: Path) -> Iterator[RecordedResponse]:
    """Yield every REST response of a recording file, in recorded order."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            head = line[:512]
            if REST_MARKER not in head:
                continue
            url, rest = line.split(REST_MARKER, 1)
            stamp, payload = rest.split(": ", 1)
            yield RecordedResponse(
                url=url.strip(),
                recorded_at=datetime.fromtimestamp(float(stamp), tz=UTC),
                payload_text=payload.rstrip("\n"),
            )


def first_response(path: Path, url_path: str) -> RecordedResponse:
    """The first recorded response whose URL path is ``url_path``."""
    for response in iter_rest_responses(path):
        if response.path == url_path:
            return response
    raise LookupError(f"{path.name} holds no recorded response for {url_path}")
