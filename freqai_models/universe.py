"""Rule: the ranker's universe is ``centaur.models.ranker.universe`` when set, else FreqAI's own
pair universe (the whitelist followed by ``include_corr_pairlist``), in that order, unique.

Order matters only for tie-breaking ranks, and it is the configuration's order everywhere.
"""

from __future__ import annotations

from typing import Any

from centaur.settings import settings_from


def resolve_universe(config: dict[str, Any]) -> tuple[str, ...]:
    explicit = settings_from(config).models.ranker.universe
    if explicit:
        return tuple(dict.fromkeys(explicit))
    whitelist = config.get("exchange", {}).get("pair_whitelist", [])
    corr = config.get("freqai", {}).get("feature_parameters", {}).get("include_corr_pairlist", [])
    return tuple(dict.fromkeys([*whitelist, *corr]))
