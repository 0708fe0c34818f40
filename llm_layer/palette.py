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
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from centaur.events import Severity
from centaur.interventions import InterventionKind
from centaur.settings.llm import BreakerSettings
from llm_layer.schema import RATIONALE_MAX_CHARS, InvalidOutput, parse_json_object


@dataclass(frozen=True)
class ToolSpec:
    """One tool of the palette: what it needs, its bound, what it changes, how it reads."""

    name: str
    signature: Callable[[BreakerSettings], str]  # as the system message shows it
    needs_pair: bool = False
    value_range: Callable[[BreakerSettings], tuple[float, float]] | None = None
    intervention: InterventionKind | None = None  # None: no intervention (alert, no_action)
    needs_hours: bool = False
    needs_severity: bool = False


def _hours(settings: BreakerSettings) -> str:
    low, high = settings.duration_hours_range
    return f"{low:g}-{high:g}"


# The palette, in the order the model sees it: adding a tool is one entry here (and, for a new
# kind of intervention, its kind in ``centaur.interventions`` and the rule that applies it).
PALETTE: tuple[ToolSpec, ...] = (
    ToolSpec("adjust_conviction", lambda s: f"adjust_conviction(pair, value "
             f"{s.conviction_range[0]}-{s.conviction_range[1]}, hours)", needs_pair=True,
             value_range=lambda s: s.conviction_range, intervention=InterventionKind.CONVICTION),
    ToolSpec("adjust_position_size", lambda s: f"adjust_position_size(pair, value "
             f"{s.size_multiplier_range[0]}-{s.size_multiplier_range[1]}, hours)",
             needs_pair=True, value_range=lambda s: s.size_multiplier_range,
             intervention=InterventionKind.POSITION_SIZE),
    ToolSpec("adjust_leverage", lambda s: f"adjust_leverage(value 1.0-{s.leverage_ceiling}, "
             "hours)", value_range=lambda s: (1.0, s.leverage_ceiling),
             intervention=InterventionKind.LEVERAGE),
    ToolSpec("disable_shorts", lambda s: "disable_shorts(pair, hours)", needs_pair=True,
             intervention=InterventionKind.DISABLE_SHORTS),
    ToolSpec("disable_asset", lambda s: f"disable_asset(pair, hours {_hours(s)})",
             needs_pair=True, intervention=InterventionKind.DISABLE_ASSET, needs_hours=True),
    ToolSpec("send_alert", lambda s: "send_alert(severity info|warning|critical)",
             needs_severity=True),
    ToolSpec("no_action", lambda s: "no_action()"),
)

Tool = StrEnum("Tool", {spec.name.upper(): spec.name for spec in PALETTE},
               module=__name__)
SPECS: dict[Tool, ToolSpec] = {Tool(spec.name): spec for spec in PALETTE}
INTERVENTION_OF = {tool: spec.intervention for tool, spec in SPECS.items() if spec.intervention}
_NEEDS_PAIR = {tool for tool, spec in SPECS.items() if spec.needs_pair}
_NEEDS_VALUE = {tool for tool, spec in SPECS.items() if spec.value_range is not None}


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
    if SPECS[tool].needs_hours and call.hours is None:
        return f"{tool} needs hours"
    if SPECS[tool].needs_severity and call.severity not in set(Severity):
        return f"send_alert severity {call.severity!r} not one of {', '.join(Severity)}"
    return None


def _value_range(tool: Tool, settings: BreakerSettings) -> tuple[float, float]:
    return SPECS[tool].value_range(settings)


def _action(call: ToolCall, settings: BreakerSettings) -> Action:
    tool = Tool(call.tool)
    return Action(
        tool=tool,
        pair=call.pair if tool in _NEEDS_PAIR else None,
        value=call.value if tool in _NEEDS_VALUE else None,
        hours=(call.hours or settings.default_duration_hours) if tool in INTERVENTION_OF else None,
        severity=Severity(call.severity) if SPECS[tool].needs_severity else None,
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
    return (f"{'; '.join(spec.signature(settings) for spec in PALETTE)}. "
            f"hours are {_hours(settings)}; at most {settings.max_calls_per_answer} calls.")
