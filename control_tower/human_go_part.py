"""The human-GO part: its entry gate, its timeouts at every loop, its status.

``centaur.human_confirm`` keys: ``enabled`` (default false), ``above_usd`` (notional, amount x
rate, above which an entry waits for a GO; default 5000), ``timeout_secs`` (how long a request
waits; default 300). Trading only: backtests have no operator to ask. The GO / NO buttons go to
freqtrade's Telegram chat when the config enables Telegram; the REST routes answer in any case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from centaur.decision import Decision
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings.tower import HumanConfirmSettings
from control_tower.human_go import AnswerRecord, Operator, needs_go
from control_tower.human_go_book import GoBook
from control_tower.human_go_telegram import TelegramGoPrompt
from control_tower.part import BasePart, TowerHost

NAME = "human_go"


class HumanGoGate:
    """An entry whose notional is above ``above_usd`` waits for an operator's GO."""

    name = NAME

    def __init__(self, settings: HumanConfirmSettings, book: GoBook):
        self.settings = settings
        self.book = book

    def short_desc(self) -> str:
        return (f"entries above {self.settings.above_usd:.0f} USD notional wait "
                f"{self.settings.timeout_secs} s for an operator's GO")

    def at_sizing(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        return Decision.allow()

    def at_confirm(self, proposal: EntryProposal, request: EntryRequest) -> Decision:
        if request.amount is None:
            raise ValueError("confirmation without an order amount: notional unknown")
        notional_usd = request.amount * request.rate
        if not needs_go(notional_usd, self.settings.above_usd):
            return Decision.allow()
        return self.book.confirm(
            proposal.pair, proposal.side, proposal.candle_time, notional_usd,
            self.settings.above_usd, self.settings.timeout_secs,
            {"tag": proposal.tag, "voters": proposal.voters, "confidence": proposal.confidence},
            request.now)


class HumanGoPart(BasePart):
    name = NAME

    def __init__(self, settings: HumanConfirmSettings, book: GoBook):
        self.settings = settings
        self.book = book
        self.gate = HumanGoGate(settings, book)

    def on_loop(self, now: datetime) -> None:
        self.book.sweep(now)

    def entry_gates(self) -> list[Any]:
        return [self.gate]

    def answer(self, request_id: str, go: bool, operator: Operator, now: datetime
               ) -> AnswerRecord:
        return self.book.answer(request_id, go, operator, now)

    def status(self, now: datetime) -> dict[str, Any]:
        return {"rule": self.gate.short_desc(),
                "above_usd": self.settings.above_usd,
                "timeout_secs": self.settings.timeout_secs,
                "pending": [r.to_json() for r in self.book.pending(now)],
                "recent_answers": self.book.recent_answers(10)}


def human_go_part(host: TowerHost) -> HumanGoPart | None:
    settings = host.centaur.human_confirm
    if not settings.enabled or not host.trading:
        return None
    telegram = host.config.get("telegram") or {}
    prompt = TelegramGoPrompt(telegram) if telegram.get("enabled") else None
    return HumanGoPart(settings, GoBook(host.centaur_state, host.events, prompt))


def find_human_go(strategy: Any) -> HumanGoPart | None:
    """The running bot's human-GO part (for Telegram and REST), if it has one."""
    tower = getattr(strategy, "tower", None)
    return next((p for p in getattr(tower, "parts", ()) if isinstance(p, HumanGoPart)), None)
