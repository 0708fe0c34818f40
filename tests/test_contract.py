"""Contract tests: every freqtrade name the suite's registration touches, pinned by name.

A freqtrade upgrade that moves, renames or re-signs one of them fails here, naming it, instead
of silently dropping a protection, the exchange class or a Telegram command.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from centaur_plugins.targets import PINNED, WATCHED_MODULES, PinnedName
from tests.support.paths import PROJECT_ROOT


def _resolve(pinned: PinnedName):
    target = importlib.import_module(pinned.module)
    for part in pinned.qualname.split("."):
        target = inspect.getattr_static(target, part) if inspect.isclass(target) else \
            getattr(target, part)
        if isinstance(target, staticmethod | classmethod):
            target = target.__func__
    return target


@pytest.mark.parametrize("pinned", PINNED, ids=lambda p: f"{p.module}.{p.qualname}")
def test_pinned_freqtrade_name_exists_with_expected_parameters(pinned: PinnedName):
    target = _resolve(pinned)
    if pinned.params is None:
        return
    target = inspect.unwrap(target)
    params = tuple(inspect.signature(target).parameters)
    assert params == pinned.params, (
        f"freqtrade changed {pinned.module}.{pinned.qualname}: parameters {params}, the suite "
        f"expects {pinned.params} ({pinned.why})"
    )


def test_freqtrade_is_the_pinned_series():
    import freqtrade

    assert freqtrade.__version__.startswith("2026.9"), freqtrade.__version__


def test_watched_modules_are_hooked_in_a_fresh_interpreter():
    """The .pth start-up file alone (no import of centaur) hooks freqtrade in a new process."""
    code = (
        "import json, importlib\n"
        f"mods = {list(WATCHED_MODULES)!r}\n"
        "for m in mods: importlib.import_module(m)\n"
        "from freqtrade.resolvers.exchange_resolver import ExchangeResolver as E\n"
        "from freqtrade.resolvers.protection_resolver import ProtectionResolver as P\n"
        "from freqtrade.rpc.telegram import Telegram as T\n"
        "from freqtrade.rpc.api_server.webserver import ApiServer as A\n"
        "import freqtrade.configuration.configuration as C\n"
        "import freqtrade.configuration.config_secrets as S\n"
        "import freqtrade.data.history.datahandlers.idatahandler as D\n"
        "from freqtrade.rpc import RPC as R\n"
        "from freqtrade.configuration import sanitize_config\n"
        "h = lambda f: bool(getattr(f, '__centaur_hook__', False))\n"
        "print(json.dumps([h(E.load_exchange), h(P.load_protection), h(T._init_telegram_app),"
        " h(A.configure_app), h(C.create_datadir), h(C.deep_merge_dicts), h(S.sanitize_config),"
        " h(sanitize_config), h(D.clean_ohlcv_dataframe), h(R._rpc_force_entry)]))\n"
    )
    hooked = _run_python(code, {})
    assert hooked == [True] * 10


def test_off_switch_leaves_freqtrade_untouched():
    code = (
        "import json\n"
        "from freqtrade.resolvers.exchange_resolver import ExchangeResolver as E\n"
        "from freqtrade.resolvers.protection_resolver import ProtectionResolver as P\n"
        "print(json.dumps([hasattr(E.load_exchange, '__centaur_hook__'),"
        " hasattr(P.load_protection, '__centaur_hook__')]))\n"
    )
    assert _run_python(code, {"CENTAUR_PLUGINS": "off"}) == [False, False]


def _run_python(code: str, env_extra: dict[str, str]):
    import os

    env = {**os.environ, **env_extra}
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
