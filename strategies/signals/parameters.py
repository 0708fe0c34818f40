"""The ensemble's freqtrade class interface, generated from the signal registry.

``SignalParameters`` carries every registered signal's hyperopt parameters (copied from the
signal's own parameters class, so adding a signal is its module plus one registry line), the
ensemble's vote and exit thresholds, and the 1h columns the signals read (``HourlyColumns``).
``PLOT_COLOURS`` gives each registered signal its weight plot colour, in registry order.
"""

from __future__ import annotations

import copy

from freqtrade.strategy import DecimalParameter
from freqtrade.strategy.parameters import BaseParameter

from centaur.settings.ensemble import EnsembleSettings
from strategies.signals import REGISTRY
from strategies.signals.hourly import HourlyColumns

_DEFAULTS = EnsembleSettings()
_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
            "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6")


def _signal_parameters() -> dict[str, BaseParameter]:
    found: dict[str, BaseParameter] = {}
    for name, entry in REGISTRY.items():
        for attr, value in vars(entry.parameters).items():
            if isinstance(value, BaseParameter):
                if attr in found:
                    raise TypeError(f"signal {name}: hyperopt parameter {attr} is declared "
                                    "by another signal too; prefix it with the signal's name")
                found[attr] = copy.deepcopy(value)
    return found


def _namespace() -> dict[str, object]:
    return {
        "__doc__": "Every registered signal's hyperopt parameters and the ensemble thresholds.",
        "__module__": __name__,
        **_signal_parameters(),
        "ensemble_vote_threshold": DecimalParameter(0.1, 0.8, default=_DEFAULTS.vote_threshold,
                                                    decimals=2, space="ensemble"),
        "ensemble_exit_threshold": DecimalParameter(0.1, 0.8, default=_DEFAULTS.exit_threshold,
                                                    decimals=2, space="ensemble"),
    }


SignalParameters = type("SignalParameters", (HourlyColumns,), _namespace())

PLOT_COLOURS: dict[str, str] = {name: _PALETTE[i % len(_PALETTE)]
                                for i, name in enumerate(REGISTRY)}
