"""What each local venue lists, from real recorded instrument lists, and its stated defaults.

- Binance: the recorded ``/api/v3/exchangeInfo`` (``BINANCE.0``, 2021-10-12) and
  ``/fapi/v1/exchangeInfo`` (``BINANCE_FUTURES.0``, 2021-07-22), served as recorded.
- Bybit: the recorded ``/v2/public/symbols`` (``BYBIT.0``, 2021-04-17). ccxt speaks Bybit's v5
  API, so the venue serves these symbols' own filters in v5 ``instruments-info`` shape
  (``bybit.py``); USDT-margined perpetuals only.
- OKX: the recorded ``/api/v5/public/instruments?instType=SWAP`` (``OKX.0``, 2022-05-13),
  served as recorded; USDT-margined swaps are traded (contract value ``ctVal`` in base).

Book shapes and fees per protocol are in ``PROTOCOL_DEFAULTS``, each with its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from centaur.offline.recordings import first_response, iter_rest_responses
from dev_tools.venue.replay import Instrument

Key = tuple[bool, str]  # (futures, venue symbol)


@dataclass(frozen=True)
class Catalogue:
    futures: dict[str, Instrument]
    spot: dict[str, Instrument]
    ticks: dict[Key, float]
    lots: dict[Key, float]  # in base units
    payloads: dict[str, Any]  # recorded payloads the protocol serves
    contract_sizes: dict[Key, float] = field(default_factory=dict)  # base per contract

    def contract_size(self, futures: bool, symbol: str) -> float:
        return self.contract_sizes.get((futures, symbol), 1.0)


@dataclass(frozen=True)
class ProtocolDefaults:
    """A venue's book recording, depth multiplier and fee schedule (fees: ratios)."""

    depth_recording: str
    depth_symbol: str | None
    depth_scale: float
    taker_fee_ratio: float
    maker_fee_ratio: float
    min_notional_quote: float


PROTOCOL_DEFAULTS: dict[str, ProtocolDefaults] = {
    # Binance USDT-M regular tier 0.04% / 0.02% (2021 schedule); SUSHIUSDT's 1,000-level book.
    "binance": ProtocolDefaults("BINANCE_FUTURES.http.0.0", None, 50.0, 0.0004, 0.0002, 5.0),
    # Fees as recorded in BYBIT.0 (taker_fee 0.00075, maker_fee -0.00025); BTCUSD's 25 levels.
    "bybit": ProtocolDefaults("BYBIT.ws.26.0", "BTCUSD", 1.0, 0.00075, -0.00025, 5.0),
    # OKX swap regular tier 0.05% / 0.02% (OKX fee schedule); BTC-USDT's 400-level book.
    "okx": ProtocolDefaults("OKX.ws.1.0", "BTC-USDT", 1.0, 0.0005, 0.0002, 0.0),
}


def _filter_values(info: dict, futures: bool, filter_type: str, key: str) -> dict[Key, float]:
    out = {}
    for entry in info["symbols"]:
        found = next(f for f in entry["filters"] if f["filterType"] == filter_type)
        out[(futures, entry["symbol"])] = float(found[key])
    return out


def _binance_instruments(info: dict, futures: bool) -> dict[str, Instrument]:
    out = {}
    for entry in info["symbols"]:
        if futures and entry.get("contractType") != "PERPETUAL":
            continue
        out[entry["symbol"]] = Instrument(entry["symbol"], entry["baseAsset"],
                                          entry["quoteAsset"], futures)
    return out


def binance_catalogue(recordings_dir: Path) -> Catalogue:
    spot = first_response(recordings_dir / "BINANCE.0", "/api/v3/exchangeInfo").json()
    fut = first_response(recordings_dir / "BINANCE_FUTURES.0", "/fapi/v1/exchangeInfo").json()
    return Catalogue(
        futures=_binance_instruments(fut, True), spot=_binance_instruments(spot, False),
        ticks={**_filter_values(fut, True, "PRICE_FILTER", "tickSize"),
               **_filter_values(spot, False, "PRICE_FILTER", "tickSize")},
        lots={**_filter_values(fut, True, "LOT_SIZE", "stepSize"),
              **_filter_values(spot, False, "LOT_SIZE", "stepSize")},
        payloads={"spot": spot, "futures": fut},
    )


def bybit_catalogue(recordings_dir: Path) -> Catalogue:
    symbols = first_response(recordings_dir / "BYBIT.0", "/v2/public/symbols").json()["result"]
    linear = [s for s in symbols if s["quote_currency"] == "USDT"]
    return Catalogue(
        futures={s["name"]: Instrument(s["name"], s["base_currency"], "USDT", True)
                 for s in linear},
        spot={},
        ticks={(True, s["name"]): float(s["price_filter"]["tick_size"]) for s in linear},
        lots={(True, s["name"]): float(s["lot_size_filter"]["qty_step"]) for s in linear},
        payloads={"symbols": linear},
    )


def okx_catalogue(recordings_dir: Path) -> Catalogue:
    response = next(r for r in iter_rest_responses(recordings_dir / "OKX.0")
                    if r.url.endswith("/api/v5/public/instruments?instType=SWAP"))
    swaps = [i for i in response.json()["data"]
             if i["instType"] == "SWAP" and i["ctType"] == "linear" and i["settleCcy"] == "USDT"]
    base = {i["instId"]: i["ctValCcy"] for i in swaps}
    return Catalogue(
        futures={i["instId"]: Instrument(i["instId"], base[i["instId"]], "USDT", True)
                 for i in swaps},
        spot={},
        ticks={(True, i["instId"]): float(i["tickSz"]) for i in swaps},
        lots={(True, i["instId"]): float(i["lotSz"]) * float(i["ctVal"]) for i in swaps},
        payloads={"swap": response.payload_text},
        contract_sizes={(True, i["instId"]): float(i["ctVal"]) for i in swaps},
    )


CATALOGUES = {"binance": binance_catalogue, "bybit": bybit_catalogue, "okx": okx_catalogue}
