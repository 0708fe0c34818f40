"""The vote combination: weights, regime muting, vetoes, entry crossings and tags."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from centaur.settings import CentaurConfigError
from centaur.settings.ensemble import EnsembleSettings
from strategies import ensemble
from strategies.ensemble_core import enabled_signals
from strategies.signals import REGISTRY, Family, SignalFrame


SETTINGS = EnsembleSettings()


def frame(direction, confidence=None, veto_long=None, available=None) -> SignalFrame:
    direction = np.asarray(direction, dtype=np.int8)
    size = len(direction)
    return SignalFrame(
        direction=direction,
        confidence=np.asarray(confidence if confidence is not None
                              else np.where(direction != 0, 1.0, 0.0), dtype=float),
        exit_long=np.zeros(size, dtype=bool), exit_short=np.zeros(size, dtype=bool),
        available=np.ones(size, dtype=bool) if available is None else np.asarray(available),
        veto_long=None if veto_long is None else np.asarray(veto_long, dtype=bool))


def ballot(name, family, signal_frame, weight, retired=False) -> ensemble.Ballot:
    size = len(signal_frame.direction)
    return ensemble.Ballot(name, family, signal_frame, np.full(size, float(weight)),
                           np.full(size, retired))


def test_score_is_the_weighted_mean_vote_of_the_signals_with_inputs():
    trending = np.array([True, True, True])
    vote = ensemble.combine([
        ballot("carry", Family.CARRY, frame([1, 1, 0], [0.5, 1.0, 0.0]), 0.04),
        ballot("cross", Family.CROSS_SECTION, frame([-1, 0, 0]), 0.01),
        ballot("absent", Family.CARRY, frame([0, 0, 0], available=[False] * 3), 0.5),
    ], trending, SETTINGS)
    np.testing.assert_allclose(vote.score, [(0.04 * 0.5 - 0.01) / 0.05, 0.04 / 0.05, 0.0])
    assert vote.long_voters[:2, 0].all() and vote.short_voters[0, 1]


def test_a_lone_voter_with_a_marginal_edge_moves_the_score_only_in_proportion():
    trending = np.ones(2, dtype=bool)
    marginal = ensemble.combine([ballot("x", Family.CROSS_SECTION, frame([1, -1]), 0.0016)],
                                trending, SETTINGS)  # 52 % accuracy: (2 x 0.02)^2
    np.testing.assert_allclose(marginal.score, [0.16, -0.16])
    assert not any(m.any() for m in ensemble.entry_signals(marginal, 0.3))
    no_floor = ensemble.combine([ballot("x", Family.CROSS_SECTION, frame([1, -1]), 0.0016)],
                                trending, EnsembleSettings(evidence_floor_weight=0.0))
    np.testing.assert_allclose(no_floor.score, [1.0, -1.0])


def test_the_regime_mutes_trend_when_ranging_and_reversion_when_trending():
    trending = np.array([True, False])
    ballots = [ballot("trend", Family.TREND, frame([1, 1]), 0.04),
               ballot("revert", Family.REVERSION, frame([-1, -1]), 0.04)]
    vote = ensemble.combine(ballots, trending, SETTINGS)
    np.testing.assert_allclose(vote.score, [1.0, -1.0])
    assert vote.long_voters[0, 0] and not vote.long_voters[1, 0]
    half = ensemble.combine(ballots, trending, EnsembleSettings(muted_weight_ratio=0.5))
    np.testing.assert_allclose(half.score, [(0.04 - 0.02) / 0.06, (0.02 - 0.04) / 0.06])
    off = ensemble.combine(ballots, trending, EnsembleSettings(
        mute_trend_when_ranging=False, mute_reversion_when_trending=False))
    np.testing.assert_allclose(off.score, [0.0, 0.0])


def test_entries_happen_where_the_score_crosses_the_threshold_and_no_live_veto_blocks():
    score_path = frame([0, 1, 1, 0, 1, 1], [0, 0.5, 0.9, 0, 0.9, 0.9])
    veto = [False, False, False, False, True, False]
    vetoing = frame([0] * 6, veto_long=veto)
    vote = ensemble.combine([ballot("x", Family.CARRY, score_path, 0.04),
                             ballot("crowd", Family.CARRY, vetoing, 0.0)],
                            np.ones(6, dtype=bool), SETTINGS)
    long, short = ensemble.entry_signals(vote, threshold=0.3)
    assert long.tolist() == [False, True, False, False, False, False]  # crossed, then held
    assert not short.any()
    retired = ensemble.combine([ballot("x", Family.CARRY, score_path, 0.04),
                                ballot("crowd", Family.CARRY, vetoing, 0.0, retired=True)],
                               np.ones(6, dtype=bool), SETTINGS)
    assert ensemble.entry_signals(retired, 0.3)[0][4]  # a retired signal vetoes nothing


def test_a_retired_or_unproven_signal_does_not_vote():
    vote = ensemble.combine([ballot("zero", Family.CARRY, frame([1, -1]), 0.0)],
                            np.ones(2, dtype=bool), SETTINGS)
    assert (vote.score == 0).all() and not vote.long_voters.any()
    assert not any(m.any() for m in ensemble.entry_signals(vote, 0.1))


def test_tags_list_the_sides_voters_in_registry_order():
    voters = np.array([[True, False, True], [False, True, False]])
    assert ensemble.entry_tags(voters, np.array([0, 1]), ("basis", "bb_rsi", "ema_adx")) == \
        ["basis+ema_adx", "bb_rsi"]


@settings(max_examples=100, deadline=None)
@given(arrays(np.int8, (20, 4), elements=st.integers(-1, 1)),
       arrays(float, (20, 4), elements=st.floats(0, 1)),
       arrays(float, 4, elements=st.floats(0, 1)), arrays(bool, 20))
def test_score_stays_in_minus_one_one(direction, confidence, weights, trending):
    ballots = [ballot(f"s{i}", list(Family)[i], frame(direction[:, i], confidence[:, i]
                                                     * (direction[:, i] != 0)), weights[i])
               for i in range(4)]
    vote = ensemble.combine(ballots, trending, SETTINGS)
    assert (np.abs(vote.score) <= 1.0 + 1e-12).all()
    assert (vote.effective_weight >= 0).all()


def test_the_enabled_signals_come_from_the_config_in_registry_order():
    assert enabled_signals(EnsembleSettings(signals=("ema_adx", "basis"))) == ("basis", "ema_adx")
    assert len(enabled_signals(EnsembleSettings())) == len(REGISTRY)
    with pytest.raises(CentaurConfigError, match="unknown signal.*'trend'.*Fix"):
        enabled_signals(EnsembleSettings(signals=("trend",)))
