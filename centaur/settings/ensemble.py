"""Settings of the signal ensemble and its decay tracker."""

from __future__ import annotations

from centaur.settings.base import Section


class EnsembleSettings(Section):
    """Filled in by the strategy layer."""
