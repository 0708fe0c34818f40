"""Every freqtrade name the suite's registration touches, pinned for the contract tests.

A freqtrade upgrade that moves or re-signs one of these fails ``tests/test_contract.py`` by
name instead of silently dropping a protection, the exchange class or a Telegram command.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedName:
    """One freqtrade attribute the suite relies on, with the parameters it expects."""

    module: str
    qualname: str
    params: tuple[str, ...] | None
    why: str


EXCHANGE_RESOLVER = "freqtrade.resolvers.exchange_resolver"
PROTECTION_RESOLVER = "freqtrade.resolvers.protection_resolver"
TELEGRAM = "freqtrade.rpc.telegram"
API_SERVER = "freqtrade.rpc.api_server.webserver"
CONFIGURATION = "freqtrade.configuration.configuration"
DATA_HANDLER = "freqtrade.data.history.datahandlers.idatahandler"
CONFIG_SECRETS = "freqtrade.configuration.config_secrets"
RPC = "freqtrade.rpc.rpc"
CONFIG_VALIDATION = "freqtrade.configuration.config_validation"
OPTIMIZE_REPORTS = "freqtrade.optimize.optimize_reports.optimize_reports"

# Modules whose import triggers the suite's registration (see bootstrap.py).
WATCHED_MODULES: tuple[str, ...] = (
    CONFIG_SECRETS,
    CONFIGURATION,
    EXCHANGE_RESOLVER,
    PROTECTION_RESOLVER,
    TELEGRAM,
    API_SERVER,
    DATA_HANDLER,
    RPC,
    CONFIG_VALIDATION,
    OPTIMIZE_REPORTS,
)

PINNED: tuple[PinnedName, ...] = (
    PinnedName(
        EXCHANGE_RESOLVER,
        "ExchangeResolver.load_exchange",
        ("config", "exchange_config", "validate", "load_leverage_tiers"),
        "wrapped to return the suite exchange class when centaur.exchange opts in",
    ),
    PinnedName(
        "freqtrade.exchange.common",
        "MAP_EXCHANGE_CHILDCLASS",
        None,
        "maps ccxt ids (binanceusdm) to the freqtrade class name the suite registers for",
    ),
    PinnedName(
        PROTECTION_RESOLVER,
        "ProtectionResolver.load_protection",
        ("protection_name", "config", "protection_config"),
        "wrapped to build suite protections by name (freqtrade only searches its own folder)",
    ),
    PinnedName(
        "freqtrade.plugins.protections.iprotection",
        "IProtection.__init__",
        ("self", "config", "protection_config"),
        "suite protections subclass IProtection",
    ),
    PinnedName(
        "freqtrade.plugins.protections.iprotection",
        "IProtection.global_stop",
        ("self", "date_now", "side", "starting_balance"),
        "suite protections implement it",
    ),
    PinnedName(
        "freqtrade.plugins.protections.iprotection",
        "IProtection.stop_per_pair",
        ("self", "pair", "date_now", "side", "starting_balance"),
        "suite protections implement it",
    ),
    PinnedName(
        TELEGRAM,
        "Telegram._init_telegram_app",
        ("self",),
        "replaced to honour a Bot API base URL and add the suite's commands",
    ),
    PinnedName(
        TELEGRAM,
        "authorized_only",
        ("command_handler",),
        "the suite's commands reuse freqtrade's chat authorisation",
    ),
    PinnedName(
        TELEGRAM,
        "Telegram._send_msg",
        None,
        "the suite's commands answer through it",
    ),
    PinnedName(
        API_SERVER,
        "ApiServer.configure_app",
        ("self", "app", "config"),
        "wrapped to mount the suite's REST routes under /api/v1/centaur",
    ),
    PinnedName(
        "freqtrade.rpc.api_server.api_auth",
        "http_basic_or_jwt_token",
        None,
        "the suite's REST routes use freqtrade's authentication",
    ),
    PinnedName(
        "freqtrade.rpc.api_server.deps",
        "get_rpc_optional",
        (),
        "the suite's REST routes reach the running bot through it",
    ),
    PinnedName(
        "freqtrade.persistence.models",
        "_request_id_ctx_var",
        None,
        "each suite REST request gets its own database session through it, as freqtrade's "
        "get_rpc does",
    ),
    PinnedName(
        CONFIGURATION,
        "create_datadir",
        ("config", "datadir"),
        "wrapped so that the config file's `datadir` key is honoured (2026.9 reads only --datadir)",
    ),
    PinnedName(
        CONFIGURATION,
        "deep_merge_dicts",
        ("source", "destination", "allow_null_overrides"),
        "wrapped (its one call merges the environment into the config): env-only api_server / "
        "telegram blocks left alone, secrets handed to the redaction layer, files checked",
    ),
    PinnedName(
        RPC,
        "RPC._rpc_force_entry",
        None,  # (self, pair, price, *, order_type, order_side, stake_amount, enter_tag, ...)
        "wrapped so a forced entry the suite denies answers with the denial's reason code "
        "(REST / FreqUI toast / Telegram) instead of a bare 'Failed to enter position'",
    ),
    PinnedName(
        CONFIG_VALIDATION,
        "validate_config_schema",
        ("conf", "preliminary"),
        "wrapped so a schema error in a suite config exits with status 2 (freqtrade's own "
        "ConfigurationError path exits 0)",
    ),
    PinnedName(
        CONFIG_SECRETS,
        "sanitize_config",
        ("config", "show_sensitive"),
        "wrapped so exported configs (backtest zip, show-config) redact every secret",
    ),
    PinnedName(
        "freqtrade.exchange.exchange",
        "Exchange._async_get_candle_history",
        None,  # wrapped by freqtrade's retrier_async: (*args, **kwargs); see the dry-run test
        "overridden to fetch spot candles from the spot market in futures mode",
    ),
    PinnedName(
        "freqtrade.exchange.exchange",
        "Exchange._drop_incomplete_candle",
        ("self", "candle_type", "drop_incomplete"),
        "the spot-candle override returns freqtrade's own incomplete-candle flag",
    ),
    PinnedName(
        "freqtrade.optimize.hyperopt.hyperopt_optimizer",
        "HyperOptimizer.hyperopt_pickle_magic",
        None,
        "the strategy's base classes are pickled by value into hyperopt's workers",
    ),
    PinnedName(
        "freqtrade.strategy.interface",
        "IStrategy.advise_all_indicators",
        ("self", "data"),
        "the ensemble restarts its tracker per analysis run through it",
    ),
    PinnedName(
        "freqtrade.strategy.interface",
        "IStrategy.ft_bot_cleanup",
        ("self",),
        "the LLM layer closes its runtime (prefetch thread, store) through it",
    ),
    PinnedName(
        "freqtrade.strategy.strategy_wrapper",
        "strategy_safe_wrapper",
        ("f", "message", "default_retval", "supress_error"),
        "callbacks fail open through it (confirm_trade_entry -> True): suite layers catch first",
    ),
    PinnedName(
        "freqtrade.exchange.exchange",
        "Exchange._api_reload_markets",
        ("self", "reload"),
        "overridden by the offline markets source",
    ),
    PinnedName(
        "freqtrade.exchange.exchange",
        "Exchange.combine_funding_and_mark",
        ("funding_rates", "mark_rates", "futures_funding_rate"),
        "funding alignment check relies on its inner join of funding rows with mark candles",
    ),
    PinnedName(
        OPTIMIZE_REPORTS,
        "generate_wallet_stats",
        ("wallet_df", "stake_currency"),
        "wrapped so its numpy scalars (numpy.int64 balances when a run has no trade and an "
        "integer dry_run_wallet) become Python numbers: FastAPI cannot serialise them and "
        "GET /api/v1/backtest (FreqUI's backtest tab) answered 500",
    ),
    PinnedName(
        DATA_HANDLER,
        "clean_ohlcv_dataframe",
        ("dataframe", "timeframe", "pair", "fill_missing", "drop_incomplete", "candle_type"),
        "wrapped: ohlcv_load hands it the raw frame from disk; the candle checks run first",
    ),
)
