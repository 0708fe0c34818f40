"""Wiring the LLM layer for one freqtrade process: store, client, news, engine, prefetch desk.

``open_runtime`` checks that the mode fits the run mode (``live`` trades; ``record``,
``replay`` and ``invert`` backtest), resolves the record store's path and the API key (from the
environment), and builds the pieces once. Configuration problems stop start-up with the key
and the fix, as suite configuration errors do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from centaur.decision import Decision
from centaur.modes import TRADE_MODES
from centaur.settings import CentaurConfigError
from centaur.settings.llm import LlmMode, LlmSettings
from llm_layer.client import LlmClient, MissingApiKey, check_key_variable
from llm_layer.consultant import Consultant
from llm_layer.news import news_source
from llm_layer.prefetch import CandidateKey, PrefetchDesk
from llm_layer.prompt import TradeProposal
from llm_layer.store import DecisionStore
from llm_layer.veto import VetoEngine

logger = logging.getLogger(__name__)

_MODES_FOR_TRADING = (LlmMode.OFF, LlmMode.LIVE)
_CALLING_MODES = (LlmMode.LIVE, LlmMode.RECORD)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class LlmRuntime:
    settings: LlmSettings
    store: DecisionStore
    consultant: Consultant
    veto: VetoEngine
    desk: PrefetchDesk | None  # live only

    @property
    def trading(self) -> bool:
        return self.desk is not None

    def close(self) -> None:
        if self.desk is not None:
            self.desk.close()
        self.store.close()


def check_mode(settings: LlmSettings, runmode: Any) -> None:
    trading = runmode in TRADE_MODES
    if trading and settings.mode not in _MODES_FOR_TRADING:
        raise CentaurConfigError(
            f"centaur.llm.mode: {settings.mode!r} is for backtests, but freqtrade is trading "
            f"({runmode}). Fix: set centaur.llm.mode to 'live' (or 'off').")
    if not trading and settings.mode is LlmMode.LIVE:
        raise CentaurConfigError(
            "centaur.llm.mode: 'live' is for trading, but this is a backtest. Fix: use 'record' "
            "(call the endpoint and record), 'replay' or 'invert' (from the record), or 'off'.")


def store_path(config: dict[str, Any], settings: LlmSettings) -> Path:
    if settings.store_path:
        return Path(settings.store_path)
    return Path(config.get("user_data_dir", "user_data")) / "llm" / "decisions.sqlite"


def open_runtime(config: dict[str, Any], settings: LlmSettings) -> LlmRuntime | None:
    """The runtime for this process, or None when the layer is off."""
    if settings.mode is LlmMode.OFF:
        return None
    runmode = config.get("runmode")
    check_mode(settings, runmode)
    try:
        check_key_variable(settings)
    except MissingApiKey as err:
        raise CentaurConfigError(str(err)) from err
    store = DecisionStore(store_path(config, settings), wall_clock)
    consultant = Consultant(settings, store, _client(settings), wall_clock)
    try:
        news = news_source(settings.news, Path.cwd(), wall_clock)
    except (OSError, ValueError) as err:
        raise CentaurConfigError(f"centaur.llm.news: {err}") from err
    veto = VetoEngine(consultant, news)
    desk = PrefetchDesk(settings.timeout_secs, settings.failure_policy,
                        settings.veto.max_concurrent_calls, _timeout_recorder(veto)) \
        if runmode in TRADE_MODES else None
    logger.info("LLM layer: mode %s, model %s at %s, failure policy %s, record %s",
                settings.mode, settings.model, settings.base_url, settings.failure_policy,
                store.path)
    return LlmRuntime(settings, store, consultant, veto, desk)


def _timeout_recorder(veto: VetoEngine):
    def record(key: CandidateKey, decision: Decision) -> None:
        proposal = TradeProposal(key[0], key[1], 0.0, key[2])
        veto.consultant.store.record_decisions([veto.record_of(proposal, decision, None,
                                                               "prefetch")])
    return record


def _client(settings: LlmSettings) -> LlmClient | None:
    if settings.mode not in _CALLING_MODES:
        return None
    try:
        return LlmClient.from_settings(settings)
    except MissingApiKey as err:
        raise CentaurConfigError(str(err)) from err


class RuntimeHandle:
    """The process's LLM runtime, opened on first use and shared by the veto and the breaker.

    Hyperopt pickles the strategy into worker processes: connections and threads stay here
    (``__getstate__`` drops the runtime), and a worker opens its own on first use."""

    def __init__(self, config: dict[str, Any], settings: LlmSettings):
        self._config = config
        self._settings = settings
        self._runtime: LlmRuntime | None = None

    def get(self) -> LlmRuntime | None:
        if self._runtime is None:
            self._runtime = open_runtime(self._config, self._settings)
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()  # in-flight prefetches are cancelled, the record closed
            self._runtime = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_runtime": None}
