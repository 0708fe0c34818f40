"""The ensemble vote: independent signals, weighted by their measured edge, muted by regime.

Per candle, with ``u = weight x regime multiplier`` for each signal that has its inputs::

    score = sum(u x confidence x direction) / max(sum(u), evidence_floor_weight)

(0 when sum(u) is 0). ``weight`` is the decay tracker's weight as of the candle, (2 x edge)^2;
the floor is a zero vote's prior weight (default 0.01, a signal at 55 % accuracy): a lone signal
at 52 % (weight 0.0016) moves the score to 0.16 x its confidence, not to its full confidence.
The regime multiplier is
``muted_weight_ratio`` for a trend signal in a ranging regime and for a reversion signal in a
trending one, else 1. Entries: the score crosses the vote threshold upwards (long) or its
negative downwards (short) on a candle where no signal that is not retired vetoes that side.
Vectorised exit: the score reaches the exit threshold on the other side. An entry's tag lists
the signals that voted for its side with a non-zero weight, in registry order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from centaur.settings.ensemble import EnsembleSettings
from strategies.signals import TAG_SEPARATOR, Family, SignalFrame


@dataclass(frozen=True)
class Ballot:
    """One signal's part in the vote, per candle."""

    name: str
    family: Family
    frame: SignalFrame
    weight: np.ndarray  # the tracker's weight as of each candle
    retired: np.ndarray  # bool


@dataclass(frozen=True)
class Vote:
    score: np.ndarray  # in [-1, 1]
    effective_weight: np.ndarray  # (candles, signals): weight x regime multiplier x available
    long_voters: np.ndarray  # (candles, signals) bool: voted long with a non-zero weight
    short_voters: np.ndarray
    veto_long: np.ndarray  # bool per candle
    veto_short: np.ndarray


def regime_multiplier(family: Family, trending: np.ndarray, settings: EnsembleSettings
                      ) -> np.ndarray:
    """1 where the family has its regime, ``muted_weight_ratio`` where it does not."""
    muted = np.zeros(len(trending), dtype=bool)
    if family is Family.TREND and settings.mute_trend_when_ranging:
        muted = ~trending
    elif family is Family.REVERSION and settings.mute_reversion_when_trending:
        muted = trending
    return np.where(muted, settings.muted_weight_ratio, 1.0)


def combine(ballots: list[Ballot], trending: np.ndarray, settings: EnsembleSettings) -> Vote:
    rows = len(trending)
    if not ballots:
        empty = np.zeros((rows, 0))
        no = np.zeros(rows, dtype=bool)
        return Vote(np.zeros(rows), empty, empty.astype(bool), empty.astype(bool), no, no)
    effective = np.column_stack([
        b.weight * regime_multiplier(b.family, trending, settings) * b.frame.available
        for b in ballots])
    direction = np.column_stack([b.frame.direction for b in ballots]).astype(float)
    confidence = np.column_stack([b.frame.confidence for b in ballots])
    total = effective.sum(axis=1)
    votes = (effective * confidence * direction).sum(axis=1)
    denominator = np.maximum(total, settings.evidence_floor_weight)
    score = np.divide(votes, denominator, out=np.zeros(rows), where=total > 0)
    counted = effective > 0
    return Vote(score, effective, counted & (direction > 0), counted & (direction < 0),
                _vetoes(ballots, "veto_long", rows, settings),
                _vetoes(ballots, "veto_short", rows, settings))


def _vetoes(ballots: list[Ballot], side: str, rows: int, settings: EnsembleSettings
            ) -> np.ndarray:
    veto = np.zeros(rows, dtype=bool)
    if not settings.apply_vetoes:
        return veto
    for ballot in ballots:
        values = getattr(ballot.frame, side)
        if values is not None:
            veto |= np.asarray(values, dtype=bool) & ~ballot.retired
    return veto


def entry_signals(vote: Vote, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(long, short) entry candles: the score crosses the threshold, the side not vetoed."""
    previous = np.concatenate(([0.0], vote.score[:-1]))
    long = (vote.score >= threshold) & (previous < threshold) & ~vote.veto_long
    short = (vote.score <= -threshold) & (previous > -threshold) & ~vote.veto_short
    return long, short


def exit_signals(vote: Vote, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(exit long, exit short): the score reached the exit threshold on the other side."""
    return vote.score <= -threshold, vote.score >= threshold


def entry_tags(voters: np.ndarray, rows: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """The tag of each entry row: its side's voters joined by ``+`` (registry order)."""
    return [TAG_SEPARATOR.join(n for n, on in zip(names, voters[row], strict=True) if on)
            for row in rows]
