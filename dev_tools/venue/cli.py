"""The local venue's command line: ``python -m dev_tools.venue`` and ``centaur venue``."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--datadir", default="../shared/data/binance")
    parser.add_argument("--recordings-dir", default="../shared/data/orderbooks/cryptofeed")
    parser.add_argument("--anchor", default="2025-10-10T12:00:00",
                        help="data time (UTC) the replay starts at")
    parser.add_argument("--depth-scale", type=float, default=50.0,
                        help="multiplier on the recorded book's notional depth")


def run(args: argparse.Namespace) -> int:
    from dev_tools.venue.server import serve_forever
    from dev_tools.venue.state import VenueSettings

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev_tools.venue",
                                     description="the local Binance-protocol venue (dev/test tool)")
    add_arguments(parser)
    return run(parser.parse_args(argv))
