"""The run modes in which the suite trades (and so keeps state on disk, talks to venues and
announces to the operator): one definition for every layer."""

from __future__ import annotations

from typing import Any

from freqtrade.enums import RunMode

TRADE_MODES: tuple[RunMode, ...] = (RunMode.LIVE, RunMode.DRY_RUN)
_TRADE_VALUES = frozenset(mode.value for mode in TRADE_MODES)


def is_trading(config: dict[str, Any]) -> bool:
    """True in ``freqtrade trade`` (live or dry-run); False in backtests, hyperopt, analysis.
    The run mode may be the enum or its string value (a config written back to disk)."""
    mode = config.get("runmode")
    return getattr(mode, "value", mode) in _TRADE_VALUES


def is_live(config: dict[str, Any]) -> bool:
    """True in ``freqtrade trade`` with real orders (``dry_run: false``)."""
    mode = config.get("runmode")
    return getattr(mode, "value", mode) == RunMode.LIVE.value
