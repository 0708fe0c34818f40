"""The patches the post-import hooks apply to freqtrade, one per watched module.

Each patch wraps one freqtrade name (pinned in ``targets.PINNED``) and falls through to the
original for everything that is not the suite's: with no suite protection configured, no
``centaur.exchange`` opt-in and no ``datadir`` key, freqtrade behaves exactly as stock.
Patches are idempotent: a module hooked twice is patched once.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from centaur_plugins import data_hook, registry, targets

logger = logging.getLogger(__name__)

_MARK = "__centaur_hook__"


def apply(module: ModuleType) -> None:
    patch = _PATCHES.get(module.__name__)
    if patch is not None:
        patch(module)


def _mark(func: Any) -> Any:
    setattr(func, _MARK, True)
    return func


def is_hooked(func: Any) -> bool:
    return bool(getattr(func, _MARK, False))


# --- configuration: honour the config file's `datadir` -------------------------------------


def _patch_configuration(module: ModuleType) -> None:
    original = module.create_datadir
    if is_hooked(original):
        return
    from centaur.secrets import load_dotenv_file

    loaded = load_dotenv_file()  # before freqtrade maps FREQTRADE__* variables onto the config
    if loaded:
        registry.record("dotenv", [f"{len(loaded)} variable(s) from .env"])

    @functools.wraps(original)
    def create_datadir(config: dict[str, Any], datadir: str | None = None) -> Path:
        data_hook.activate(config)
        registry.announce()
        configured = config.get("datadir")
        if datadir is None and configured:
            path = Path(configured)
            if not path.is_dir():
                from centaur.settings import CentaurConfigError

                raise CentaurConfigError(
                    f"datadir '{configured}' (config key 'datadir') does not exist. Fix: place "
                    "the shared data there (../shared/data/binance beside the project), or "
                    "point 'datadir' / --datadir at a freqtrade data directory."
                )
            logger.info("Using datadir from the config file: %s", path)
            datadir = str(path)
        return original(config, datadir)

    module.create_datadir = _mark(create_datadir)
    module.deep_merge_dicts = _mark(_environment_merge(module.deep_merge_dicts))
    registry.record("config", ["datadir key honoured", "secrets redacted",
                               "env-only api_server/telegram left alone"])


# Blocks whose schema requires `enabled`: variables for them alone (the README's .env) must not
# create a half block that freqtrade refuses - and dumps, secrets included. They complete a
# block the config files have, and are left alone where the files have none (backtests).
_ENV_COMPLETES_ONLY = ("api_server", "telegram")


def _environment_merge(original: Any) -> Any:
    """Wraps the one ``deep_merge_dicts(env, config)`` call of ``Configuration.load_config``."""

    @functools.wraps(original)
    def deep_merge_dicts(source: dict[str, Any], destination: dict[str, Any],
                         allow_null_overrides: bool = True) -> dict[str, Any]:
        from centaur.redaction import REDACTOR
        from centaur.startup import check_config_files

        left_alone = [name for name in _ENV_COMPLETES_ONLY
                      if name in source and name not in destination]
        if left_alone:
            logger.info("Environment variables for %s left alone: the config has no such block",
                        ", ".join(left_alone))
        source = {key: value for key, value in source.items() if key not in left_alone}
        merged = original(source, destination, allow_null_overrides)
        REDACTOR.add_config(merged)
        check_config_files(merged)
        return merged

    return deep_merge_dicts


# --- config_validation: a schema error in a suite config is a failed start --------------


def _patch_config_validation(module: ModuleType) -> None:
    original = module.validate_config_schema
    if is_hooked(original):
        return

    @functools.wraps(original)
    def validate_config_schema(conf: dict[str, Any], preliminary: bool = False):
        from freqtrade.exceptions import ConfigurationError

        from centaur.settings import CONFIG_KEY, CentaurConfigError

        try:
            return original(conf, preliminary=preliminary)
        except ConfigurationError as err:
            if CONFIG_KEY not in conf:
                raise
            raise CentaurConfigError(  # freqtrade exits 0 on its ConfigurationError; this is 2
                f"Invalid freqtrade configuration: {err}. Fix: complete or remove the block "
                "named in the 'Invalid configuration' line above (secrets masked there).") from None

    module.validate_config_schema = _mark(validate_config_schema)
    registry.record("validation", ["schema errors in suite configs exit with status 2"])


# --- config_secrets: freqtrade's sanitising of exported configs, completed -----------------


def _patch_config_secrets(module: ModuleType) -> None:
    original = module.sanitize_config
    if is_hooked(original):
        return

    @functools.wraps(original)
    def sanitize_config(config: dict[str, Any], *, show_sensitive: bool = False):
        from centaur.redaction import redact_tree

        clean = original(config, show_sensitive=show_sensitive)
        return clean if show_sensitive else redact_tree(clean)

    module.sanitize_config = _mark(sanitize_config)
    registry.record("exports", ["every secret key and known secret value redacted"])


# --- exchange: the suite class for a real ccxt id, opt-in per config ------------------------


def suite_exchange_class(config: dict[str, Any]) -> type | None:
    """The suite's exchange class for this config (``sor_exchange.selection``)."""
    from sor_exchange.selection import suite_exchange_class as selected

    return selected(config)


def _patch_exchange_resolver(module: ModuleType) -> None:
    resolver = module.ExchangeResolver
    original = resolver.load_exchange
    if is_hooked(original):
        return

    @functools.wraps(original)
    def load_exchange(config, *, exchange_config=None, validate=True, load_leverage_tiers=False):
        from centaur.startup import check_suite_config

        registry.announce()
        check_suite_config(config, exchange_config)
        exchange_class = suite_exchange_class(config)
        if exchange_class is None:
            return original(config, exchange_config=exchange_config, validate=validate,
                            load_leverage_tiers=load_leverage_tiers)
        logger.info("Using suite exchange class %s for '%s' (centaur.exchange opt-in)",
                    exchange_class.__name__, config["exchange"]["name"])
        return exchange_class(config, exchange_config=exchange_config, validate=validate,
                              load_leverage_tiers=load_leverage_tiers)

    resolver.load_exchange = staticmethod(_mark(load_exchange))
    from sor_exchange import EXCHANGE_CLASSES

    registry.record("exchange", [f"{name} (opt-in: centaur.exchange)" for name in EXCHANGE_CLASSES])


# --- protections: suite protections by name -------------------------------------------------


def _patch_protection_resolver(module: ModuleType) -> None:
    resolver = module.ProtectionResolver
    original = resolver.load_protection
    if is_hooked(original):
        return
    from risk_protections import PROTECTIONS

    @functools.wraps(original)
    def load_protection(protection_name, config, protection_config):
        location = PROTECTIONS.get(protection_name)
        if location is None:
            return original(protection_name, config, protection_config)
        registry.announce()
        protection_class = registry.load_object(location)
        logger.info("Using suite protection %s", protection_name)
        return protection_class(config=config, protection_config=protection_config)

    resolver.load_protection = staticmethod(_mark(load_protection))
    registry.record("protections", sorted(PROTECTIONS))


# --- telegram: Bot API base URL and the suite's commands ------------------------------------


def _patch_telegram(module: ModuleType) -> None:
    telegram_class = module.Telegram
    if is_hooked(telegram_class._init_telegram_app):
        return
    from centaur_plugins.telegram import COMMANDS, build_application

    def _init_telegram_app(self):
        return build_application(self, module.authorized_only)

    telegram_class._init_telegram_app = _mark(_init_telegram_app)
    registry.record("telegram", [f"/{c.names[0]}" for c in COMMANDS] + ["base_url"])


# --- REST API: the suite's routes under /api/v1/centaur -------------------------------------


def _patch_api_server(module: ModuleType) -> None:
    server_class = module.ApiServer
    original = server_class.configure_app
    if is_hooked(original):
        return
    from centaur_plugins.rest import PREFIX, mount

    @functools.wraps(original)
    def configure_app(self, app, config):
        # Mounted first: freqtrade's UI router ends with a catch-all path.
        mount(app)
        return original(self, app, config)

    server_class.configure_app = _mark(configure_app)
    registry.record("rest", [f"{PREFIX}/*"])


# --- RPC: a forced entry the suite denies says why ------------------------------------------


def _patch_rpc(module: ModuleType) -> None:
    rpc_class = module.RPC
    original = rpc_class._rpc_force_entry
    if is_hooked(original):
        return
    from centaur_plugins import operator

    @functools.wraps(original)
    def _rpc_force_entry(self, pair: str, *args, **kwargs):
        operator.forget_denial(self._freqtrade, pair)
        try:
            return original(self, pair, *args, **kwargs)
        except module.RPCException as err:
            message = operator.denied_entry_message(self._freqtrade, pair, str(err))
            if message == str(err):
                raise
            raise module.RPCException(message) from err

    rpc_class._rpc_force_entry = _mark(_rpc_force_entry)
    registry.record("rpc", ["forced entries answer with the denial's reason code"])


# --- backtest reports: plain numbers in the wallet statistics --------------------------


def python_numbers(value: Any) -> Any:
    """``value`` with numpy scalars (at any depth of dicts and lists) as Python numbers."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: python_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(python_numbers(item) for item in value)
    return value


def _patch_optimize_reports(module: ModuleType) -> None:
    original = module.generate_wallet_stats
    if is_hooked(original):
        return

    @functools.wraps(original)
    def generate_wallet_stats(wallet_df, stake_currency: str) -> dict[str, Any]:
        return python_numbers(original(wallet_df, stake_currency))

    module.generate_wallet_stats = _mark(generate_wallet_stats)
    registry.record("backtest reports", ["wallet stats as plain numbers (REST-serialisable)"])


_PATCHES = {
    targets.CONFIGURATION: _patch_configuration,
    targets.CONFIG_SECRETS: _patch_config_secrets,
    targets.EXCHANGE_RESOLVER: _patch_exchange_resolver,
    targets.PROTECTION_RESOLVER: _patch_protection_resolver,
    targets.TELEGRAM: _patch_telegram,
    targets.API_SERVER: _patch_api_server,
    targets.DATA_HANDLER: data_hook.patch_data_handler,
    targets.RPC: _patch_rpc,
    targets.CONFIG_VALIDATION: _patch_config_validation,
    targets.OPTIMIZE_REPORTS: _patch_optimize_reports,
}
