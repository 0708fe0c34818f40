"""The base every suite strategy shares: the suite's settings, state store, operator events
and interventions, opened at start-up; per-run state dropped between hyperopt's epochs.

``StrategyMixin`` is the base of the suite's strategy mixins (hyperopt parameters, feature
hooks). freqtrade's hyperopt sends the strategy to its worker processes pickled by value: it
registers the module of every base class of the strategy for cloudpickle, walking
``__bases__`` until a class named ``IStrategy`` (``HyperOptimizer.hyperopt_pickle_magic``). A
mixin based on ``object`` leads that walk on to ``builtins``, and pickling anything by value
through ``builtins`` recurses without end ("Could not pickle the task to send it to the
workers"). A mixin based on ``IStrategy`` stops the walk. It is never instantiated on its own.
"""

from __future__ import annotations

from datetime import datetime

from freqtrade.strategy import IStrategy

from centaur.events import EventSink, event_sink
from centaur.interventions import InterventionBook
from centaur.modes import is_trading
from centaur.settings import CentaurSettings, settings_from
from centaur.state import StateStore, open_state


class StrategyMixin(IStrategy):  # noqa: B024 - abstract by inheritance, never instantiated
    """A part of a suite strategy; see the module docstring for why it derives IStrategy."""


class CentaurStrategy(IStrategy):
    """Settings, state, events and interventions; ``check_host`` is the subclass's start-up
    check of freqtrade's environment."""

    centaur_state: StateStore
    events: EventSink
    interventions: InterventionBook

    @property
    def centaur(self) -> CentaurSettings:
        """The suite's settings, parsed on first use: ``freqtrade webserver`` (FreqUI's
        strategy, plot_config and backtest views) loads strategies without ``bot_start``."""
        settings = self.__dict__.get("_centaur_settings")
        if settings is None:
            settings = self.__dict__["_centaur_settings"] = settings_from(self.config)
        return settings

    @centaur.setter
    def centaur(self, settings: CentaurSettings) -> None:
        self.__dict__["_centaur_settings"] = settings

    def bot_start(self, **kwargs) -> None:
        self.centaur = settings_from(self.config)  # bad `centaur` keys fail here at the latest
        self.check_host()
        self.centaur_state = open_state(self.config)
        self.events = event_sink(self.centaur_state, notify=self._notify_operator)
        self.interventions = InterventionBook(self.centaur_state)

    def check_host(self) -> None:
        """Fail at start-up when freqtrade's environment is not what the config asks for."""

    @property
    def trading(self) -> bool:
        """``freqtrade trade`` (live or dry-run), not a backtest or hyperopt."""
        return is_trading(self.config)

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        """Backtests: a loop earlier than the last one starts a new run in the same process
        (hyperopt's epochs): per-run state is dropped, as in a fresh backtest."""
        super().bot_loop_start(current_time=current_time, **kwargs)
        if self.trading:
            return
        last = getattr(self, "_last_loop_time", None)
        if last is not None and current_time < last:
            self.restart_backtest_run()
        self._last_loop_time = current_time

    def restart_backtest_run(self) -> None:
        """Drop per-run state (extend in subclasses); backtests keep it in memory only."""
        for namespace in ("interventions", "events"):
            self.centaur_state.clear(namespace)

    def _notify_operator(self, text: str) -> None:
        if self.dp is not None and self.trading:
            self.dp.send_msg(text, always_send=True)
