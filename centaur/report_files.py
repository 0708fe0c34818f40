"""Report files: every evidence report is written by running it, as JSON (the figures) and
Markdown (the reading) side by side under one stem, e.g. ``reports/risk.{json,md}``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_report(stem: Path, report: Mapping[str, Any], markdown_text: str,
                 indent: int = 2) -> tuple[Path, Path]:
    """Write ``stem``.json and ``stem``.md (creating the folder), say so, return both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=indent, default=str) + "\n")
    markdown_path.write_text(markdown_text)
    print(f"wrote {json_path} and {markdown_path}")
    return json_path, markdown_path
