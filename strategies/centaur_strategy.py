"""The base every suite strategy shares: start-up checks, the suite's state, and the hooks
through which the layers (ensemble, LLM veto, risk) pass information to each other.

Layers are mixins over this base and chain the hooks with ``super()``; the risk layer reads
them and has the last word on size, leverage and whether an entry happens at all.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from freqtrade.enums import RunMode
from freqtrade.strategy import IStrategy

from centaur.events import EventSink
from centaur.interventions import InterventionBook
from centaur.plugins.hooks import suite_exchange_class
from centaur.settings import CentaurConfigError, CentaurSettings, settings_from
from centaur.signal_stats import SignalStats
from centaur.state import StateStore, open_state


logger = logging.getLogger(__name__)

_TRADE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)

__all__ = ["CentaurStrategy", "SignalStats"]


class CentaurStrategy(IStrategy):
    """Fails closed at start-up when the config asks for suite plugins freqtrade did not load.

    If the plugin hooks are switched off (``CENTAUR_PLUGINS=off``) or broken, freqtrade would
    quietly fall back to its stock exchange class; a suite protection would already fail to
    load with freqtrade's own error. This check turns the silent case into an error.
    """

    centaur: CentaurSettings
    centaur_state: StateStore
    events: EventSink
    interventions: InterventionBook

    def bot_start(self, **kwargs) -> None:
        self.centaur = settings_from(self.config)  # bad `centaur` keys fail here at the latest
        expected = suite_exchange_class(self.config)
        exchange = getattr(self.dp, "_exchange", None) if self.dp else None
        if expected is not None and exchange is not None and not isinstance(exchange, expected):
            raise CentaurConfigError(
                f"centaur.exchange opts in to {expected.__name__}, but freqtrade is using "
                f"{type(exchange).__name__}: the suite's plugin hooks are not active. Fix: "
                "unset CENTAUR_PLUGINS=off, or reinstall the suite (`make setup`)."
            )
        self.centaur_state = open_state(self.config)
        self.events = EventSink(self.centaur_state, notify=self._notify_operator)
        self.interventions = InterventionBook(self.centaur_state)

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        """Backtests: a loop earlier than the last one starts a new run in the same process
        (hyperopt's epochs): the layers drop their per-run state, as in a fresh backtest."""
        super().bot_loop_start(current_time=current_time, **kwargs)
        if self.config.get("runmode") in _TRADE_MODES:
            return
        last = getattr(self, "_last_loop_time", None)
        if last is not None and current_time < last:
            self.restart_backtest_run()
        self._last_loop_time = current_time

    def restart_backtest_run(self) -> None:
        """Drop per-run state (chain with super()); backtests keep it in memory only."""
        for namespace in ("interventions", "events"):
            self.centaur_state.clear(namespace)

    def _notify_operator(self, text: str) -> None:
        if self.dp is not None and self.config.get("runmode") in _TRADE_MODES:
            self.dp.send_msg(text, always_send=True)

    # --- hooks the layers chain through super() ---------------------------------------------

    def signal_confidence(self, pair: str, side: str, current_time: datetime,
                          entry_tag: str | None) -> float:
        """Confidence in [0, 1] of the entry signal behind ``entry_tag`` at ``current_time``."""
        return 1.0

    def signal_stats(self, entry_tag: str | None) -> SignalStats | None:
        """Measured win rate and payoff of the signal(s) behind ``entry_tag``; None: unknown."""
        return None

    def external_size_scale(self, pair: str, side: str, current_time: datetime,
                            entry_tag: str | None) -> float:
        """Product of the stake multipliers of non-risk layers (e.g. the LLM veto's ``reduce``).

        The risk layer applies it before its own caps; it can only shrink a position that the
        risk layer would allow, never push one past a cap.
        """
        return 1.0

    def centaur_status(self) -> dict[str, Any]:
        """Suite-specific status lines for Telegram /centaur and the REST status route."""
        return {}
