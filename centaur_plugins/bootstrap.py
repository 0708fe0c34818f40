"""Start-up entry point, imported by ``centaur_plugins.pth`` in every interpreter.

Installs a meta-path finder that runs the suite's registration right after a handful of
freqtrade modules finish importing (lazy post-import hooks). It never imports freqtrade
itself: an eager import from a ``.pth`` file causes a circular import in freqtrade.

Why a ``.pth`` file: freqtrade resolves protections only inside its own package and exchange
classes only as ``freqtrade.exchange.<Name>``; hyperopt rebuilds protections in fresh worker
processes. A hook that runs at interpreter start-up is the one mechanism that reaches
``freqtrade trade``, ``backtesting``, ``hyperopt`` (workers included) and ``webserver``
without editing freqtrade (see ../shared/notes/freqtrade-host.md).

Off switch: ``CENTAUR_PLUGINS=off`` (or ``0``/``false``/``no``) in the environment.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from types import ModuleType

OFF_SWITCH_ENV = "CENTAUR_PLUGINS"
_OFF_VALUES = frozenset({"0", "off", "false", "no", "disabled"})


def plugins_enabled(environ: dict[str, str] | None = None) -> bool:
    """True unless the operator switched the suite's plugin hooks off."""
    value = (environ if environ is not None else os.environ).get(OFF_SWITCH_ENV, "on")
    return value.strip().lower() not in _OFF_VALUES


class _HookedLoader(importlib.abc.Loader):
    """Delegates to the real loader, then runs the registration hook on the module."""

    def __init__(self, loader: importlib.abc.Loader, hook: Callable[[ModuleType], None]):
        self._loader = loader
        self._hook = hook

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._hook(module)

    def __getattr__(self, name: str):
        # get_source, get_code, is_package ... stay the real loader's.
        return getattr(self._loader, name)


class PostImportFinder(importlib.abc.MetaPathFinder):
    """Runs ``hook(module)`` once a watched module has executed."""

    def __init__(self, hooks: dict[str, Callable[[ModuleType], None]]):
        self._hooks = dict(hooks)
        self._resolving: set[str] = set()

    def find_spec(self, fullname, path, target=None):
        hook = self._hooks.get(fullname)
        if hook is None or fullname in self._resolving:
            return None
        self._resolving.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._resolving.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _HookedLoader(spec.loader, hook)
        return spec


def _run_hook(module: ModuleType) -> None:
    # Imported only when a watched freqtrade module has been imported: by then freqtrade's
    # package is initialised and the hooks may import from it.
    from centaur_plugins import hooks

    hooks.apply(module)


def install(environ: dict[str, str] | None = None) -> bool:
    """Install the post-import hooks. Returns False when switched off."""
    if not plugins_enabled(environ):
        return False
    from centaur_plugins.targets import WATCHED_MODULES

    if any(isinstance(f, PostImportFinder) for f in sys.meta_path):
        return True
    from centaur.redaction import REDACTOR, install_logging

    install_logging()  # every log line of the process passes the redaction layer
    REDACTOR.add_environment(os.environ)
    sys.meta_path.insert(0, PostImportFinder({name: _run_hook for name in WATCHED_MODULES}))
    # A watched module imported before us (not possible from a .pth, possible when installed
    # by hand in a running interpreter) is hooked right away.
    for name in WATCHED_MODULES:
        if name in sys.modules:
            _run_hook(sys.modules[name])
    return True


install()
