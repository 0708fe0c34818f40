"""The look ledger: every out-of-sample evaluation, appended, never rewritten.

An out-of-sample window is spent when it is looked at. Each evaluation appends one JSON line
to ``research/oos_ledger.jsonl`` (committed with the code): when, the commit and whether the
tree was clean, what was evaluated, the window, the design fingerprint and the headline result.
Reports print how many times each window has been looked at, and at how many designs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEDGER = PROJECT_ROOT / "research" / "oos_ledger.jsonl"


def commit_of(root: Path) -> tuple[str, bool]:
    """(HEAD commit, tree clean) of the repository at ``root``; ('unknown', False) outside git."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], check=True, capture_output=True,
                               text=True).stdout.strip()
        return head, not dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def fingerprint(design: dict[str, Any]) -> str:
    """A short hash of a design (parameters, signal set, costs): a change makes a new design."""
    text = json.dumps(design, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Ledger:
    """``run``: one evaluation run (a report) - its lines are one look at each window."""

    path: Path = LEDGER
    run: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def record(self, subject: str, window: str, design: dict[str, Any],
               result: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """Append one look (never rewrites earlier lines) and return it."""
        commit, clean = commit_of(PROJECT_ROOT)  # the code evaluated, wherever the file is
        entry = {"at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
                 "run": self.run, "commit": commit, "clean_tree": clean, "subject": subject,
                 "window": window,
                 "design": fingerprint(design), "result": result}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        return entry

    def looks(self, window: str | None = None) -> Counter[str]:
        """Looks per window (or at one window): the runs that evaluated it (lines without a
        run id - written before runs were recorded - are one run per time stamp)."""
        runs = {(e["window"], e.get("run") or e["at"]) for e in self.entries()}
        counts = Counter(w for w, _ in runs)
        return Counter({window: counts[window]}) if window else counts

    def designs_seen(self, window: str) -> int:
        """How many distinct (subject, design) pairs were evaluated on ``window``."""
        return len({(e["subject"], e["design"]) for e in self.entries()
                    if e["window"] == window})

    def subjects(self, window: str) -> int:
        """How many subjects (the flagship, each signal) were evaluated on ``window``."""
        return len({e["subject"] for e in self.entries() if e["window"] == window})
