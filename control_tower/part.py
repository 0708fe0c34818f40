"""A control tower part, and the host (the strategy) that gives it its collaborators.

A part is built once at ``bot_start`` from the host, and called:

- ``on_loop(now)`` at every bot loop (trading only; backtests do not build the tower's
  trading parts - ``trading_only``);
- ``on_fill(trade, order, now)`` after every order fill, once the risk layer has booked it;
- ``entry_gates()``: the entry-pipeline gates it adds (after the suite's own gates);
- ``status(now)``: what ``/api/v1/centaur/status`` and the Centaur panel show of it;
- ``stop()`` at ``ft_bot_cleanup``.

A part that raises in ``on_loop`` / ``on_fill`` is logged (its reason code) and asked again at
the next loop; it never stops the bot's loop. Its ``entry_gates`` fail closed through the
pipeline (``RISK_CHECK_FAILED``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from centaur.events import EventSink
from centaur.interventions import InterventionBook
from centaur.settings import CentaurSettings
from centaur.state import StateStore


class TowerHost(Protocol):
    """What a part may use of the strategy that hosts it."""

    config: dict[str, Any]
    centaur: CentaurSettings
    centaur_state: StateStore
    events: EventSink
    interventions: InterventionBook
    dp: Any  # freqtrade's DataProvider (exchange, order books, send_msg)
    wallets: Any  # freqtrade's Wallets

    @property
    def trading(self) -> bool: ...

    def centaur_status(self) -> dict[str, Any]: ...


class TowerPart(Protocol):
    name: str

    def on_loop(self, now: datetime) -> None: ...

    def on_fill(self, trade: Any, order: Any, now: datetime) -> None: ...

    def entry_gates(self) -> list[Any]: ...

    def status(self, now: datetime) -> dict[str, Any]: ...

    def stop(self) -> None: ...


class BasePart:
    """Defaults for the hooks a part does not use."""

    name = "part"

    def on_loop(self, now: datetime) -> None:
        return None

    def on_fill(self, trade: Any, order: Any, now: datetime) -> None:
        return None

    def entry_gates(self) -> list[Any]:
        return []

    def status(self, now: datetime) -> dict[str, Any]:
        return {}

    def stop(self) -> None:
        return None


# A part's factory: the host in, the part out - or None when its settings leave it off.
PartFactory = Callable[[TowerHost], TowerPart | None]
