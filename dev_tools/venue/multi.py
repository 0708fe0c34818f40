"""Run the local Binance, Bybit and OKX venues together (a development tool, not a venue).

    python -m dev_tools.venue.multi              # binance 8765, bybit 8766, okx 8767

Matches ``config/dry-run-sor.json`` (the order router across three venues). Each venue
serves its own protocol, recorded instrument list and recorded book shape, replaying the same
real candles (``dev_tools.venue.catalogue``). Credentials, when set, come from the environment:
``CENTAUR_VENUE_<NAME>_API_KEY`` / ``_API_SECRET`` / ``_API_PASSWORD``.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from dev_tools.venue.server import serve_many
from dev_tools.venue.state import VenueSettings

DEFAULT_PORTS = {"binance": 8765, "bybit": 8766, "okx": 8767}


def _ports(text: str) -> dict[str, int]:
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    ports = {name.strip(): int(port) for name, port in pairs}
    unknown = sorted(set(ports) - set(DEFAULT_PORTS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown venue(s) {', '.join(unknown)}; "
                                         f"known: {', '.join(DEFAULT_PORTS)}")
    return ports


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=_ports, default=DEFAULT_PORTS,
                        help="name=port,... (default: binance=8765,bybit=8766,okx=8767)")
    parser.add_argument("--datadir", default="../shared/data/binance")
    parser.add_argument("--recordings-dir", default="../shared/data/orderbooks/cryptofeed")
    parser.add_argument("--anchor", default="2025-10-10T12:00:00")
    args = parser.parse_args(argv)
    anchor = datetime.fromisoformat(args.anchor)
    anchor = anchor if anchor.tzinfo else anchor.replace(tzinfo=UTC)
    settings = {}
    for name in args.ports:
        env = f"CENTAUR_VENUE_{name.upper()}"
        settings[name] = VenueSettings.for_protocol(
            name, datadir=Path(args.datadir), recordings_dir=Path(args.recordings_dir),
            anchor=anchor, api_key=os.environ.get(f"{env}_API_KEY"),
            api_secret=os.environ.get(f"{env}_API_SECRET"),
            api_password=os.environ.get(f"{env}_API_PASSWORD"))
    serve_many(settings, args.ports)


if __name__ == "__main__":
    main()
