"""The shared headline files and how to read them (one place for both the veto report and the
evidence report): ``centaur.llm.news`` settings per headline set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT

NEWS_DIR = Path(os.environ.get("CENTAUR_SHARED", PROJECT_ROOT.parent / "shared")) / "data" / "news"

HEADLINE_SETS: dict[str, dict[str, Any]] = {
    # 2021-10-12 .. 2022-07-05; ';'-separated, day-first local format, currencies in `subject`.
    "2021-22": {"source": "csv", "separator": ";", "time_column": "date",
                "time_format": "%d-%m-%Y %H:%M", "title_column": "title",
                "source_column": "source", "currencies_column": "subject",
                "csv_path": str(NEWS_DIR / "cryptonews_kaggle_oliviervha_subset.csv")},
    # 2025-11-14 .. 2026-02-23 in three windows; the suite's default layout (UTC timestamps).
    "2025-26": {"source": "csv",
                "csv_path": str(NEWS_DIR / "crypto_headlines_2025-11_2026-02.csv")},
}


def headline_set(name: str) -> dict[str, Any]:
    """The ``centaur.llm.news`` settings of a known headline set (a copy)."""
    if name not in HEADLINE_SETS:
        raise ValueError(f"headline set {name!r}: one of {sorted(HEADLINE_SETS)} or 'none'")
    return dict(HEADLINE_SETS[name])
