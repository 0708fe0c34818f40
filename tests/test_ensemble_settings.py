"""The ``centaur.ensemble`` block: defaults in one place, bad values named with their fix."""

from __future__ import annotations

import pytest

from centaur.settings import CentaurConfigError, settings_from
from strategies.signals.parameters import SignalParameters


def test_the_tracker_window_fits_the_live_history_of_binance_futures():
    tracker = settings_from({}).ensemble.tracker
    # 7 days + 1 anchor of 5m candles + the longest horizon (96) = 2,400 <= 5 x 499 - 1
    assert tracker.span_secs() // 300 + 96 <= 5 * 499 - 1
    assert (tracker.anchor_hours, tracker.confidence_level) == (24, 0.95)


def test_a_window_that_is_not_whole_anchors_is_refused():
    with pytest.raises(CentaurConfigError, match=r"centaur\.ensemble\.tracker.*whole number"):
        settings_from({"centaur": {"ensemble": {"tracker": {"window_days": 1,
                                                             "anchor_hours": 7}}}})


def test_unknown_keys_are_refused_with_the_known_ones():
    with pytest.raises(CentaurConfigError, match=r"centaur\.ensemble\.vote_treshold: unknown key"
                                                 r".*vote_threshold"):
        settings_from({"centaur": {"ensemble": {"vote_treshold": 0.2}}})


def test_the_hyperopt_parameters_take_their_defaults_from_the_settings():
    ensemble = settings_from({}).ensemble
    assert SignalParameters.ensemble_vote_threshold.value == ensemble.vote_threshold
    assert SignalParameters.ensemble_exit_threshold.value == ensemble.exit_threshold
