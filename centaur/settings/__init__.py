"""The suite's settings: the ``centaur`` block of a freqtrade config, parsed once, typed, frozen.

Every default lives in the section classes; nothing else in the suite reads the raw block.
A bad or unknown key fails at start-up with the key's full path and the fix, as a freqtrade
``ConfigurationError`` (freqtrade prints it and exits).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from freqtrade.exceptions import OperationalException
from pydantic import BaseModel, Field, ValidationError

from centaur.redaction import redact_tree
from centaur.settings.base import Section
from centaur.settings.carry import CarrySettings
from centaur.settings.data import DataSettings
from centaur.settings.ensemble import EnsembleSettings
from centaur.settings.exchange import ExchangeSettings
from centaur.settings.llm import LlmSettings
from centaur.settings.models import ModelsSettings
from centaur.settings.risk import RiskSettings
from centaur.settings.state import StateUrl
from centaur.settings.telegram import TelegramSettings
from centaur.settings.tower import (
    AlertsSettings,
    HumanConfirmSettings,
    MetricsSettings,
    PaperGateSettings,
    ReconciliationSettings,
    SizeRampSettings,
    WeeklyReportSettings,
)

CONFIG_KEY = "centaur"


class CentaurSettings(Section):
    """The ``centaur`` block. One section per layer; each section's file holds its defaults."""

    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    ensemble: EnsembleSettings = Field(default_factory=EnsembleSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    carry: CarrySettings = Field(default_factory=CarrySettings)
    state_url: StateUrl | None = None  # the state store's database; None: beside db_url
    # the control tower (``control_tower``)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    human_confirm: HumanConfirmSettings = Field(default_factory=HumanConfirmSettings)
    reconciliation: ReconciliationSettings = Field(default_factory=ReconciliationSettings)
    paper_gate: PaperGateSettings = Field(default_factory=PaperGateSettings)
    size_ramp: SizeRampSettings = Field(default_factory=SizeRampSettings)
    weekly_report: WeeklyReportSettings = Field(default_factory=WeeklyReportSettings)


class CentaurConfigError(OperationalException):
    """Suite configuration is invalid; the message names each key and its fix.

    An ``OperationalException`` (not freqtrade's ``ConfigurationError``, which freqtrade
    reports with exit status 0): freqtrade logs the message and exits with status 2, so a
    supervisor or CI sees the failed start.
    """


def settings_from(config: dict[str, Any]) -> CentaurSettings:
    """Parse the ``centaur`` block of a freqtrade config (cached per distinct content)."""
    raw = config.get(CONFIG_KEY, {})
    if not isinstance(raw, dict):
        raise CentaurConfigError(
            f"'{CONFIG_KEY}' must be an object, got {type(raw).__name__}. "
            f"Fix: make '{CONFIG_KEY}' a JSON object or remove it."
        )
    return _parse(json.dumps(raw, sort_keys=True, default=str))


@lru_cache(maxsize=32)
def _parse(raw_json: str) -> CentaurSettings:
    try:
        return CentaurSettings.model_validate(json.loads(raw_json))
    except ValidationError as err:
        lines = [_describe(error) for error in err.errors()]
        raise CentaurConfigError(
            "Invalid suite configuration:\n  " + "\n  ".join(lines)
        ) from None


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join([CONFIG_KEY, *loc])
    if error["type"] == "extra_forbidden":
        known = ", ".join(_field_names(CentaurSettings, loc[:-1])) or "none"
        return f"{key}: unknown key. Fix: remove it (known keys here: {known})."
    default = _field_default(CentaurSettings, loc)
    hint = f" (default: {default!r})" if default is not _MISSING else ""
    secret_like = any(word in key.lower() for word in ("key", "secret", "token", "password"))
    got = "<redacted>" if secret_like else repr(redact_tree(error.get("input")))
    return (
        f"{key}: {error['msg']}, got {got}. "
        f"Fix: correct the value or remove the key to use the default{hint}."
    )


_MISSING = object()


def _model_at(model: type[BaseModel], path: list[str]) -> type[BaseModel] | None:
    for part in path:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _field_names(model: type[BaseModel], path: list[str]) -> list[str]:
    target = _model_at(model, path)
    return sorted(target.model_fields) if target else []


def _field_default(model: type[BaseModel], path: list[str]) -> Any:
    parent = _model_at(model, path[:-1]) if path else None
    field = parent.model_fields.get(path[-1]) if parent else None
    if field is None or field.is_required():
        return _MISSING
    default = field.get_default(call_default_factory=True)
    return default.model_dump(mode="json") if isinstance(default, BaseModel) else default
