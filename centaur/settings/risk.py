"""Settings of the risk layer (sizing, breakers, kill switches, leverage, stops)."""

from __future__ import annotations

from centaur.settings.base import Section


class RiskSettings(Section):
    """Filled in by the risk layer."""
