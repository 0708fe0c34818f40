"""Settings of the FreqAI models layer (ranker, GARCH, regime, drift gate)."""

from __future__ import annotations

from centaur.settings.base import Section


class ModelsSettings(Section):
    """Filled in by the models layer."""
