"""Client order ids in each venue's own format, derived from (parent, leg, attempt).

The id is a pure function of where the child sits in its parent, so it is known - and
recorded - before the request is sent, and the same child always gets the same id: a venue
that already accepted it rejects a duplicate instead of filling twice, and a lost response is
resolved by asking the venue for that id.

Venue rules (a table, each entry citing its source):
- Binance ``newClientOrderId``: ``^[.A-Z:/a-z0-9_-]{1,36}$`` (Binance USDT-M "New Order").
- Bybit ``orderLinkId``: up to 36 letters, digits, ``-`` and ``_`` (Bybit v5 "Place Order").
- OKX ``clOrdId``: 1-32 alphanumerics, starting with a letter (OKX v5 "Place order").
- Hyperliquid ``cloid``: a 128-bit hex string, ``0x`` + 32 hex digits (Hyperliquid API docs).
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientIdFormat:
    max_length: int
    pattern: str
    hex128: bool = False

    def valid(self, client_id: str) -> bool:
        fits = len(client_id) <= self.max_length
        return fits and re.fullmatch(self.pattern, client_id) is not None


CLIENT_ID_FORMATS: dict[str, ClientIdFormat] = {
    "binance": ClientIdFormat(36, r"[.A-Z:/a-z0-9_-]{1,36}"),
    "bybit": ClientIdFormat(36, r"[A-Za-z0-9_-]{1,36}"),
    "okx": ClientIdFormat(32, r"[A-Za-z][A-Za-z0-9]{0,31}"),
    "hyperliquid": ClientIdFormat(34, r"0x[0-9a-f]{32}", hex128=True),
}
DEFAULT_FORMAT = ClientIdFormat(32, r"[A-Za-z][A-Za-z0-9]{0,31}")  # the strictest common form

PREFIX = "ctr"
_ALPHABET = string.digits + string.ascii_lowercase


def _base36(number: int) -> str:
    out = ""
    while number:
        number, digit = divmod(number, 36)
        out = _ALPHABET[digit] + out
    return out or "0"


def client_order_id(ccxt_id: str, parent_id: str, leg: int, attempt: int = 0) -> str:
    """The child's id on venue ``ccxt_id``: ``ctr`` + a digest of (parent, leg, attempt)."""
    digest = hashlib.sha256(f"{parent_id}|{leg}|{attempt}".encode()).digest()
    rules = CLIENT_ID_FORMATS.get(ccxt_id, DEFAULT_FORMAT)
    if rules.hex128:
        return "0x" + digest[:16].hex()
    body = _base36(int.from_bytes(digest[:16], "big"))
    return (PREFIX + body)[:rules.max_length]
