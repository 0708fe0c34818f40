"""Settings of the LLM layer (veto and circuit breaker)."""

from __future__ import annotations

from centaur.settings.base import Section


class LlmSettings(Section):
    """Filled in by the LLM layer."""
