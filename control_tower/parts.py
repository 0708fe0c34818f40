"""The control tower's parts, in the order they run. One line per part: its factory."""

from __future__ import annotations

from control_tower.part import PartFactory

PARTS: tuple[PartFactory, ...] = (
)
