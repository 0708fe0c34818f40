"""The ``centaur`` command: the suite's own tools beside freqtrade's commands."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path


def _venue(args: argparse.Namespace) -> int:
    from centaur.venue.server import serve_forever
    from centaur.venue.state import VenueSettings

    anchor = datetime.fromisoformat(args.anchor)
    settings = VenueSettings(
        datadir=Path(args.datadir),
        recordings_dir=Path(args.recordings_dir),
        anchor=anchor if anchor.tzinfo else anchor.replace(tzinfo=UTC),
        depth_scale=args.depth_scale,
        api_key=os.environ.get("CENTAUR_VENUE_API_KEY"),
        api_secret=os.environ.get("CENTAUR_VENUE_API_SECRET"),
    )
    serve_forever(settings, args.port)
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from centaur.plugins.bootstrap import plugins_enabled
    from centaur.plugins.catalogue import catalogue

    print(json.dumps({"enabled": plugins_enabled(), "catalogue": catalogue()}, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="centaur", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    venue = sub.add_parser("venue", help="run the local Binance-protocol venue (dev/test tool)")
    venue.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    venue.add_argument("--datadir", default="../shared/data/binance")
    venue.add_argument("--recordings-dir", default="../shared/data/orderbooks/cryptofeed")
    venue.add_argument("--anchor", default="2025-10-10T12:00:00",
                       help="data time (UTC) the replay starts at")
    venue.add_argument("--depth-scale", type=float, default=50.0,
                       help="multiplier on the recorded book's notional depth")
    venue.set_defaults(func=_venue)

    plugins = sub.add_parser("plugins", help="show the plugins the suite registers")
    plugins.set_defaults(func=_plugins)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
