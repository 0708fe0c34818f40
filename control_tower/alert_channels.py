"""The alert channels: thin HTTP shells that deliver one text or raise ``DeliveryError``.

- Telegram: the Bot API's ``sendMessage`` to freqtrade's configured chat (``telegram.token``
  and ``telegram.chat_id``, filled by freqtrade from FREQTRADE__TELEGRAM__TOKEN / __CHAT_ID),
  at ``centaur.telegram.base_url`` when set (a local Bot API server), else api.telegram.org.
  Success is ``{"ok": true}``; a 429 carries ``parameters.retry_after``
  (https://core.telegram.org/bots/api#making-requests, #responseparameters). ``BotApi`` is the
  one HTTP shell of the Bot API for the tower (the weekly report's ``sendDocument`` too): the
  token is in every request's path, so no error it raises names the URL.
- Slack-compatible incoming webhook: POST ``{"text": ...}`` as JSON to the URL in the
  environment variable ``centaur.alerts.slack.webhook_url_env``; success is HTTP 200 (body
  ``ok``); a 429 carries ``Retry-After`` (https://api.slack.com/messaging/webhooks,
  https://api.slack.com/apis/rate-limits). The URL is a secret: it is handed to the redaction
  layer and never written to config, logs, errors or the outbox.

Every request has a short timeout (``request_timeout_secs``); an error's text is redacted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from centaur.redaction import REDACTOR, redact_text
from centaur.settings import CentaurConfigError, CentaurSettings

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_MAX_CHARS = 4096  # Bot API sendMessage text limit
SLACK_MAX_CHARS = 3000  # Slack truncates longer section text; alerts are one line anyway


class DeliveryError(Exception):
    """The channel did not accept the alert; it stays in the outbox and is tried again
    (after ``retry_after_secs`` at least, when the channel said so)."""

    def __init__(self, message: str, retry_after_secs: float | None = None):
        super().__init__(redact_text(message))
        self.retry_after_secs = retry_after_secs


class AlertChannel(Protocol):
    name: str

    def send(self, text: str) -> None: ...


def _post(session: requests.Session, url: str, timeout_secs: float,
          **body: Any) -> requests.Response:
    """POST ``body`` (``json=`` or ``data=``/``files=``); no answer is a ``DeliveryError``."""
    try:
        return session.post(url, timeout=timeout_secs, **body)
    except requests.RequestException as err:  # its text names the URL's path: left out
        raise DeliveryError(f"{type(err).__name__}: no answer from the channel") from err


def _retry_after(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class BotApi:
    """One bot's Bot API over HTTP: ``call`` returns the answer's body or raises a
    ``DeliveryError`` that never names the URL (the token is in its path)."""

    def __init__(self, token: str, base_url: str | None = None):
        REDACTOR.add([token])
        self._url = f"{(base_url or TELEGRAM_API).rstrip('/')}/bot{token}"
        self._session = requests.Session()

    def call(self, method: str, timeout_secs: float, **body: Any) -> dict[str, Any]:
        response = _post(self._session, f"{self._url}/{method}", timeout_secs, **body)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code == 200 and answer.get("ok"):
            return answer
        retry = _retry_after((answer.get("parameters") or {}).get("retry_after"))
        raise DeliveryError(f"Telegram {method} HTTP {response.status_code}: "
                            f"{answer.get('description') or response.text[:200]}", retry)


class TelegramChannel:
    name = "telegram"

    def __init__(self, token: str, chat_id: str, base_url: str | None = None,
                 timeout_secs: float = 3.0, topic_id: str | None = None):
        self._api = BotApi(token, base_url)
        self._chat_id, self._topic_id = str(chat_id), topic_id
        self._timeout_secs = timeout_secs

    def send(self, text: str) -> None:
        payload: dict[str, Any] = {"chat_id": self._chat_id, "text": text[:TELEGRAM_MAX_CHARS],
                                   "disable_web_page_preview": True}
        if self._topic_id:
            payload["message_thread_id"] = self._topic_id
        self._api.call("sendMessage", self._timeout_secs, json=payload)


class SlackWebhookChannel:
    name = "slack"

    def __init__(self, webhook_url: str, timeout_secs: float = 3.0):
        REDACTOR.add([webhook_url, urlsplit(webhook_url).path])
        self._url = webhook_url
        self._timeout_secs = timeout_secs
        self._session = requests.Session()

    def send(self, text: str) -> None:
        response = _post(self._session, self._url, self._timeout_secs,
                         json={"text": text[:SLACK_MAX_CHARS]})
        if response.status_code == 200:
            return
        raise DeliveryError(f"webhook HTTP {response.status_code}: {response.text[:200]}",
                            _retry_after(response.headers.get("Retry-After")))


def build_channels(config: Mapping[str, Any], settings: CentaurSettings,
                   environ: Mapping[str, str] | None = None) -> list[AlertChannel]:
    """The channels the config turns on. Telegram: when ``centaur.alerts.telegram.enabled``
    and freqtrade's own Telegram is enabled. Slack: when enabled; its URL must be set."""
    alerts = settings.alerts
    environ = os.environ if environ is None else environ
    channels: list[AlertChannel] = []
    telegram = config.get("telegram") or {}
    if alerts.telegram.enabled and telegram.get("enabled"):
        channels.append(TelegramChannel(
            str(telegram.get("token") or ""), str(telegram.get("chat_id") or ""),
            settings.telegram.base_url, alerts.request_timeout_secs,
            str(telegram["topic_id"]) if telegram.get("topic_id") else None))
    if alerts.slack.enabled:
        name = alerts.slack.webhook_url_env
        url = environ.get(name, "")
        if not url.startswith(("http://", "https://")):
            raise CentaurConfigError(
                f"centaur.alerts.slack is enabled but the environment variable {name} "
                f"{'is not set' if not url else 'is not an http(s) URL'}. Fix: set {name} to "
                "the incoming webhook URL (in the environment or .env), or set "
                "centaur.alerts.slack.enabled to false.")
        channels.append(SlackWebhookChannel(url, alerts.request_timeout_secs))
    return channels
