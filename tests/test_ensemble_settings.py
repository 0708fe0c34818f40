"""The ``centaur.ensemble`` block: defaults in one place, bad values named with their fix."""

from __future__ import annotations

import pytest

from centaur.settings import CentaurConfigError, settings_from
from strategies.signals.parameters import SignalParameters


def test_defaults_are_the_issue_numbers():
    tracker = settings_from({}).ensemble.tracker
    assert (tracker.window_calls, tracker.retire_accuracy) == (100, 0.48)
    assert tracker.revive_accuracy > tracker.retire_accuracy


def test_a_revive_bar_at_or_below_the_retire_bar_is_refused():
    with pytest.raises(CentaurConfigError, match=r"centaur\.ensemble\.tracker.*hysteresis"):
        settings_from({"centaur": {"ensemble": {"tracker": {"revive_accuracy": 0.47}}}})


def test_unknown_keys_are_refused_with_the_known_ones():
    with pytest.raises(CentaurConfigError, match=r"centaur\.ensemble\.vote_treshold: unknown key"
                                                 r".*vote_threshold"):
        settings_from({"centaur": {"ensemble": {"vote_treshold": 0.2}}})


def test_the_hyperopt_parameters_take_their_defaults_from_the_settings():
    ensemble = settings_from({}).ensemble
    assert SignalParameters.ensemble_vote_threshold.value == ensemble.vote_threshold
    assert SignalParameters.ensemble_exit_threshold.value == ensemble.exit_threshold
