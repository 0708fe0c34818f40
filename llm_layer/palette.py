"""The circuit breaker's tool palette: the only answers the model may give, each bounded.

| tool                     | arguments          | bound (``BreakerSettings``)               |
|--------------------------|--------------------|-------------------------------------------|
| ``adjust_conviction``    | pair, value, hours | threshold in ``conviction_range``         |
| ``adjust_position_size`` | pair, value, hours | multiplier in ``size_multiplier_range``   |
| ``adjust_leverage``      | value, hours       | 1.0 .. ``leverage_ceiling`` (risk clamps) |
| ``disable_shorts``       | pair, hours        |                                           |
| ``disable_asset``        | pair, hours        | hours in ``duration_hours_range``         |
| ``send_alert``           | severity           | info, warning, critical                   |
| ``no_action``            |                    |                                           |

Every interventing call expires (``hours`` within ``duration_hours_range``; default
``default_duration_hours``). A call naming an unknown tool, a pair outside the whitelist, a
value out of range or beyond ``max_calls_per_answer`` is rejected on its own, with the reason;
the others stand. An answer that is not the envelope ``{rationale, calls}`` is invalid as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from centaur.events import Severity
from centaur.interventions import InterventionKind
from centaur.settings.llm import BreakerSettings
from llm_layer.schema import RATIONALE_MAX_CHARS, InvalidOutput, parse_json_object


class Tool(StrEnum):
    ADJUST_CONVICTION = "adjust_conviction"
    ADJUST_POSITION_SIZE = "adjust_position_size"
    ADJUST_LEVERAGE = "adjust_leverage"
    DISABLE_SHORTS = "disable_shorts"
    DISABLE_ASSET = "disable_asset"
    SEND_ALERT = "send_alert"
    NO_ACTION = "no_action"


INTERVENTION_OF = {
    Tool.ADJUST_CONVICTION: InterventionKind.CONVICTION,
    Tool.ADJUST_POSITION_SIZE: InterventionKind.POSITION_SIZE,
    Tool.ADJUST_LEVERAGE: InterventionKind.LEVERAGE,
    Tool.DISABLE_SHORTS: InterventionKind.DISABLE_SHORTS,
    Tool.DISABLE_ASSET: InterventionKind.DISABLE_ASSET,
}
_NEEDS_PAIR = {Tool.ADJUST_CONVICTION, Tool.ADJUST_POSITION_SIZE, Tool.DISABLE_SHORTS,
               Tool.DISABLE_ASSET}
_NEEDS_VALUE = {Tool.ADJUST_CONVICTION, Tool.ADJUST_POSITION_SIZE, Tool.ADJUST_LEVERAGE}


class ToolCall(BaseModel):
    """One call as the model wrote it (checked against the palette afterwards)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str
    pair: str | None = None
    value: float | None = None
    hours: float | None = None
    severity: str | None = None


class BreakerAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rationale: str = Field(max_length=RATIONALE_MAX_CHARS)
    calls: list[ToolCall] = Field(max_length=20)


@dataclass(frozen=True)
class Action:
    """An accepted call: what it changes, where, how much, for how long."""

    tool: Tool
    pair: str | None = None
    value: float | None = None
    hours: float | None = None  # None: no intervention (alert, no_action)
    severity: Severity | None = None


@dataclass(frozen=True)
class Rejection:
    call: dict[str, Any]
    reason: str


def parse_breaker_answer(text: str | None) -> BreakerAnswer:
    raw = parse_json_object(text)
    try:
        return BreakerAnswer.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise InvalidOutput(f"{where}: {first['msg']}") from err


def validate_calls(calls: list[ToolCall], pairs: Collection[str], settings: BreakerSettings
                   ) -> tuple[list[Action], list[Rejection]]:
    accepted, rejected = [], []
    for index, call in enumerate(calls):
        if index >= settings.max_calls_per_answer:
            reason = f"over the limit of {settings.max_calls_per_answer} calls per answer"
        else:
            reason = _problem(call, pairs, settings)
        if reason:
            rejected.append(Rejection(call.model_dump(), reason))
        else:
            accepted.append(_action(call, settings))
    return accepted, rejected


def _problem(call: ToolCall, pairs: Collection[str], settings: BreakerSettings) -> str | None:
    try:
        tool = Tool(call.tool)
    except ValueError:
        return f"unknown tool {call.tool!r} (palette: {', '.join(Tool)})"
    if tool in _NEEDS_PAIR and call.pair not in pairs:
        return f"{tool} needs a whitelisted pair, got {call.pair!r}"
    if tool in _NEEDS_VALUE:
        low, high = _value_range(tool, settings)
        if call.value is None or not math.isfinite(call.value) or not low <= call.value <= high:
            return f"{tool} value {call.value!r} outside [{low}, {high}]"
    if tool in INTERVENTION_OF and call.hours is not None:
        low, high = settings.duration_hours_range
        if not math.isfinite(call.hours) or not low <= call.hours <= high:
            return f"{tool} hours {call.hours!r} outside [{low}, {high}]"
    if tool is Tool.DISABLE_ASSET and call.hours is None:
        return "disable_asset needs hours"
    if tool is Tool.SEND_ALERT and call.severity not in set(Severity):
        return f"send_alert severity {call.severity!r} not one of {', '.join(Severity)}"
    return None


def _value_range(tool: Tool, settings: BreakerSettings) -> tuple[float, float]:
    if tool is Tool.ADJUST_CONVICTION:
        return settings.conviction_range
    if tool is Tool.ADJUST_POSITION_SIZE:
        return settings.size_multiplier_range
    return (1.0, settings.leverage_ceiling)


def _action(call: ToolCall, settings: BreakerSettings) -> Action:
    tool = Tool(call.tool)
    return Action(
        tool=tool,
        pair=call.pair if tool in _NEEDS_PAIR else None,
        value=call.value if tool in _NEEDS_VALUE else None,
        hours=(call.hours or settings.default_duration_hours) if tool in INTERVENTION_OF else None,
        severity=Severity(call.severity) if tool is Tool.SEND_ALERT else None,
    )


def palette_wire_schema(pairs: Collection[str], settings: BreakerSettings) -> dict[str, Any]:
    """The ``response_format``: the envelope, tool names and pairs as enums (grammar-friendly)."""
    nullable_number = {"type": ["number", "null"]}
    call = {
        "type": "object",
        "properties": {
            "tool": {"type": "string", "enum": [tool.value for tool in Tool]},
            "pair": {"enum": [*sorted(pairs), None]},
            "value": nullable_number,
            "hours": nullable_number,
            "severity": {"enum": [*(s.value for s in Severity), None]},
        },
        "required": ["tool", "pair", "value", "hours", "severity"],
        "additionalProperties": False,
    }
    envelope = {
        "type": "object",
        "properties": {"rationale": {"type": "string", "maxLength": RATIONALE_MAX_CHARS},
                       "calls": {"type": "array", "items": call,
                                 "maxItems": settings.max_calls_per_answer}},
        "required": ["rationale", "calls"],
        "additionalProperties": False,
    }
    return {"type": "json_schema",
            "json_schema": {"name": "breaker_calls", "strict": True, "schema": envelope}}


def palette_description(settings: BreakerSettings) -> str:
    """The palette and its bounds, for the system message."""
    conviction, size = settings.conviction_range, settings.size_multiplier_range
    low_h, high_h = settings.duration_hours_range
    return (
        f"adjust_conviction(pair, value {conviction[0]}-{conviction[1]}, hours); "
        f"adjust_position_size(pair, value {size[0]}-{size[1]}, hours); "
        f"adjust_leverage(value 1.0-{settings.leverage_ceiling}, hours); "
        f"disable_shorts(pair, hours); disable_asset(pair, hours {low_h:g}-{high_h:g}); "
        "send_alert(severity info|warning|critical); no_action(). "
        f"hours are {low_h:g}-{high_h:g}; at most {settings.max_calls_per_answer} calls."
    )
