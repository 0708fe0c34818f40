"""Settings of the suite's Telegram additions."""

from __future__ import annotations

from pydantic import field_validator

from centaur.settings.base import Section


class TelegramSettings(Section):
    """``base_url``: a Bot API server other than api.telegram.org (e.g. a local test server).

    Given as the Bot API root, e.g. ``http://127.0.0.1:8081``; the token is appended as usual.
    """

    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value
