"""Where ccxt's classes find a local venue: the ``urls`` each class needs (a table).

ccxt builds request URLs from ``urls['api'][<section>]``; each class names its sections
differently (ccxt ``binance``: one per API family; ``bybit``: spot/futures/v2/public/private;
``okx``: one REST root).
"""

from __future__ import annotations

from typing import Any

BINANCE_SECTIONS: dict[str, str] = {
    "public": "/api/v3", "private": "/api/v3", "sapi": "/sapi/v1",
    "fapiPublic": "/fapi/v1", "fapiPublicV2": "/fapi/v2", "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1", "fapiPrivateV2": "/fapi/v2", "fapiPrivateV3": "/fapi/v3",
    "fapiData": "/futures/data",
}


def ccxt_urls(protocol: str, base_url: str) -> dict[str, Any]:
    """ccxt's ``urls`` config for a local venue of ``protocol`` listening at ``base_url``."""
    if protocol == "bybit":
        return {"api": {name: base_url for name in ("spot", "futures", "v2", "public", "private")}}
    if protocol == "okx":
        return {"api": {"rest": base_url}}
    return {"api": {name: base_url + path for name, path in BINANCE_SECTIONS.items()}}
