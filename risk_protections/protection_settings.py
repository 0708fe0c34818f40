"""Typed parsing of a protection's config entry (the dict in ``protections``)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from centaur.settings import CentaurConfigError
from centaur.settings.base import Section

# Keys freqtrade's IProtection itself reads; suite protections accept them beside their own.
FREQTRADE_KEYS = frozenset(
    {"method", "stop_duration", "stop_duration_candles", "lookback_period",
     "lookback_period_candles", "unlock_at"}
)

S = TypeVar("S", bound=Section)


def parse_protection_settings(model: type[S], protection_config: dict[str, Any]) -> S:
    """Parse the suite-specific keys of a protection entry; the error names key and fix."""
    name = protection_config.get("method", model.__name__)
    own = {k: v for k, v in protection_config.items() if k not in FREQTRADE_KEYS}
    try:
        return model.model_validate(own)
    except ValidationError as err:
        lines = []
        for error in err.errors():
            key = ".".join(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                known = ", ".join(sorted({*model.model_fields, *FREQTRADE_KEYS}))
                lines.append(f"protections[{name}].{key}: unknown key. Fix: remove it "
                             f"(known keys: {known}).")
            else:
                lines.append(f"protections[{name}].{key}: {error['msg']}, got "
                             f"{error.get('input')!r}. Fix: correct the value.")
        raise CentaurConfigError("Invalid protection configuration:\n  " + "\n  ".join(lines)) \
            from None
