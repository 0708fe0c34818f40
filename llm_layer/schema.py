"""The veto's answer: a schema the model must fill, validated; anything else is an error.

The free-text field comes first and is capped: small models then reason before they decide
and cannot run past ``max_tokens`` inside it. The wire schema sent as ``response_format``
puts confidence on a 0.1 grid, which llama.cpp's grammar enforces (it ignores numeric
minimum/maximum); the validator accepts any number in [0, 1] from hosts that ignore enums.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

RATIONALE_MAX_CHARS = 160
CONFIDENCE_GRID = [round(step / 10, 1) for step in range(11)]


class VetoChoice(StrEnum):
    PROCEED = "proceed"
    REDUCE = "reduce"
    SKIP = "skip"


class VetoOpinion(BaseModel):
    """The model's opinion on one proposed entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    rationale: str = Field(max_length=RATIONALE_MAX_CHARS)
    decision: VetoChoice
    confidence: float = Field(ge=0.0, le=1.0)


class InvalidOutput(ValueError):
    """The answer is not a JSON object of the required schema (reason LLM_INVALID_OUTPUT)."""


def opinion_wire_schema() -> dict[str, Any]:
    """The ``response_format`` for the veto (JSON schema, strict)."""
    schema = {
        "type": "object",
        "properties": {
            "rationale": {"type": "string", "maxLength": RATIONALE_MAX_CHARS},
            "decision": {"type": "string", "enum": [choice.value for choice in VetoChoice]},
            "confidence": {"type": "number", "enum": CONFIDENCE_GRID},
        },
        "required": ["rationale", "decision", "confidence"],
        "additionalProperties": False,
    }
    return {"type": "json_schema",
            "json_schema": {"name": "veto_opinion", "strict": True, "schema": schema}}


def parse_json_object(text: str | None) -> dict[str, Any]:
    """The answer as a strict JSON object, or ``InvalidOutput`` naming what is wrong.

    Strict: a key given twice (``{"decision": "skip", "decision": "proceed"}``, where Python's
    parser keeps the last) and the non-standard constants ``NaN`` / ``Infinity`` are errors.
    """
    if not text:
        raise InvalidOutput("empty answer")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise InvalidOutput(f"not JSON: {err.msg} at char {err.pos}") from err
    if not isinstance(value, dict):
        raise InvalidOutput(f"not a JSON object but {type(value).__name__}")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise InvalidOutput(f"duplicate key(s) {', '.join(map(repr, duplicated))}")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise InvalidOutput(f"not strict JSON: {name}")


def parse_opinion(text: str | None) -> VetoOpinion:
    """Validate an answer against the schema; a bool or string confidence is an error too."""
    raw = parse_json_object(text)
    if isinstance(raw.get("confidence"), int) and not isinstance(raw["confidence"], bool):
        raw["confidence"] = float(raw["confidence"])  # JSON 1 is the number 1.0
    try:
        return VetoOpinion.model_validate({**raw, "decision": _choice(raw.get("decision"))})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise InvalidOutput(f"{where}: {first['msg']}") from err


def _choice(value: Any) -> Any:
    try:
        return VetoChoice(value)
    except ValueError:
        return value
