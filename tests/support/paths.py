"""Where the project and the shared real data are (../shared beside the project root)."""

from __future__ import annotations

import os
from pathlib import Path


PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CENTAUR_SHARED", PROJECT_ROOT.parent / "shared")).resolve()
DATA = SHARED / "data"
BINANCE_DATA = DATA / "binance"
RECORDINGS = DATA / "orderbooks" / "cryptofeed"
TEST_STRATEGIES = PROJECT_ROOT / "tests" / "strategies"

if not BINANCE_DATA.is_dir():  # pragma: no cover - a broken checkout, not a test outcome
    raise RuntimeError(
        f"Shared data not found at {SHARED}. Place ../shared beside the project "
        "(or set CENTAUR_SHARED) before running the tests."
    )
