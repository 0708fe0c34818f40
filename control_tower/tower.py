"""ControlTower: the parts a strategy runs (``control_tower.parts.PARTS``), called in order."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from centaur.decision import ReasonCode
from control_tower.part import PartFactory, TowerHost, TowerPart

logger = logging.getLogger(__name__)


class ControlTower:
    """Builds every part its settings turn on; forwards the strategy's callbacks to them."""

    def __init__(self, host: TowerHost, factories: Sequence[PartFactory]):
        self.parts: tuple[TowerPart, ...] = tuple(
            part for part in (factory(host) for factory in factories) if part is not None)
        if self.parts:
            logger.info("control tower: %s", ", ".join(p.name for p in self.parts))

    def on_loop(self, now: datetime) -> None:
        for part in self.parts:
            self._safely(part, "on_loop", part.on_loop, now)

    def on_fill(self, trade: Any, order: Any, now: datetime) -> None:
        for part in self.parts:
            self._safely(part, "on_fill", part.on_fill, trade, order, now)

    def entry_gates(self) -> list[Any]:
        return [gate for part in self.parts for gate in part.entry_gates()]

    def status(self, now: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in self.parts:
            try:
                out[part.name] = part.status(now)
            except Exception as err:  # noqa: BLE001 - status must answer
                out[part.name] = {"error": repr(err)}
        return out

    def stop(self) -> None:
        for part in self.parts:
            self._safely(part, "stop", part.stop)

    @staticmethod
    def _safely(part: TowerPart, hook: str, method, *args) -> None:
        try:
            method(*args)
        except Exception:  # noqa: BLE001 - logged; the bot loop goes on, asked again next loop
            logger.exception("[%s] control tower part %s failed in %s",
                             ReasonCode.RISK_CHECK_FAILED, part.name, hook)
