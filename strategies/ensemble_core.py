"""EnsembleSignals: the flagship's signal logic, one object the strategy shell calls.

Every enabled signal (``strategies/signals``) votes per candle; the decay tracker weights each
by its measured excess over a random-direction null (``signal_tracker``); the regime mutes a
family where it has none; the ensemble enters when the weighted score crosses the vote
threshold and tags the entry with the signals that voted for it. Exits: the score reaching
the exit threshold on the other side (``ENSEMBLE_REVERSAL``), or the entry's own voters calling
their exits (``VOTER_EXIT``). Each entry becomes an ``EntryProposal`` carrying the |score| of
its candle as confidence.

Data per pair: the 5m perp candles, the perp's and spot's 1h candles (``HourlyColumns``) and
funding settlements. Signal parameters take effect in ``indicators`` (hyperopt them with
``--analyze-per-epoch``); the vote and exit thresholds in ``entries``/``exits``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Trade

from centaur.decision import ReasonCode
from centaur.events import EventSink
from centaur.pipeline import EntryProposal
from centaur.settings import CentaurConfigError
from centaur.settings.ensemble import EnsembleSettings
from strategies import ensemble
from strategies.ensemble_rows import EnsembleRows
from strategies.regime_fallback import trending, vol_level, with_regime
from strategies.signal_outcomes import Outcomes, dates_ns, score_calls
from strategies.signal_tracker import STATUS_CODES, Status
from strategies.signals import REGISTRY, SignalContext, SignalFrame, build_signals, parse_tag
from strategies.tracker_ledger import TrackerLedger

_RETIRED = STATUS_CODES[Status.RETIRED]
_FRAME_FIELDS = ("direction", "confidence", "exit_long", "exit_short", "available",
                 "veto_long", "veto_short")
CONFIDENCE_COLUMN = "signal_confidence"  # a non-ensemble strategy may provide it per row


class EnsembleSignals:
    """Independent signals vote, weighted by their measured edge, muted by regime.

    ``parameters`` is the strategy: the signals' and thresholds' hyperopt parameters live on
    its class (``strategies.signals.parameters``)."""

    def __init__(self, settings: EnsembleSettings, parameters: Any, events: EventSink,
                 timeframe: str, trading: bool):
        self.settings = settings
        self._parameters = parameters
        self.signal_names = enabled_signals(settings)
        self.tracker_ledger = TrackerLedger(
            self.signal_names, settings.tracker, events, trading)
        self._timeframe = timeframe
        self._step = timedelta(seconds=timeframe_to_seconds(timeframe))
        self._step_ns = timeframe_to_seconds(timeframe) * 1_000_000_000
        self._rows: dict[str, EnsembleRows] = {}
        self._trading = trading
        self.tracker_warm = False

    # --- analysis ------------------------------------------------------------------------------

    def restart_run(self) -> None:
        """Backtests and hyperopt: each analysis run starts the tracker from its loaded state."""
        self.tracker_ledger.restart_run()

    def indicators(self, dataframe: pd.DataFrame, pair: str, dp: Any) -> pd.DataFrame:
        context = SignalContext(dp, pair, self._timeframe)
        columns = {}
        for signal in build_signals(self._parameters, self.signal_names):
            dataframe = signal.add_columns(dataframe, context)
            columns.update(_frame_columns(signal.name, signal.evaluate(dataframe)))
        dataframe = pd.concat([dataframe, pd.DataFrame(columns, index=dataframe.index)], axis=1)
        dates = dates_ns(dataframe)
        if len(dates):
            self.tracker_ledger.offer(pair, self.scored_calls(dataframe),
                                      int(dates[0]) + self.longest_horizon_ns())
        return dataframe

    def longest_horizon_ns(self) -> int:
        """The longest horizon of the enabled signals: the first outcome of a run is known
        that long after its first candle."""
        step_secs = self._step_ns // 1_000_000_000
        candles = max((REGISTRY[n].signal.horizon_at(step_secs) for n in self.signal_names),
                      default=0)
        return candles * self._step_ns

    def history_candles(self) -> int:
        """Candles the tracker needs before a candle: its window, memory and one horizon."""
        span_ns = self.settings.tracker.span_secs() * 1_000_000_000 + self.longest_horizon_ns()
        return -(-span_ns // self._step_ns)

    def scored_calls(self, dataframe: pd.DataFrame) -> Outcomes:
        """Every signal's calls in an analysed dataframe whose horizon has passed, scored."""
        dates, close = dates_ns(dataframe), dataframe["close"].to_numpy(dtype=float)
        cost = self.settings.tracker.outcome_cost_ratio
        step_secs = timeframe_to_seconds(self._timeframe)
        return Outcomes.concat([
            score_calls(dates, close, dataframe[f"sig_{name}_direction"].to_numpy(),
                        REGISTRY[name].signal.horizon_at(step_secs), step_secs, cost, index)
            for index, name in enumerate(self.signal_names)])

    def entries(self, dataframe: pd.DataFrame, pair: str) -> pd.DataFrame:
        dates = dates_ns(dataframe)
        if len(dates) and self._trading:
            self.tracker_ledger.flush(int(dates[-1]))
        dataframe = with_regime(dataframe, self.settings.regime_fallback)
        weights, status = self.tracker_ledger.state_at(dates)
        vote = self._vote(dataframe, weights, status)
        dataframe = self._ensemble_columns(dataframe, vote, weights)
        dataframe = self._entries(dataframe, vote)
        self._rows[pair] = EnsembleRows(
            self.signal_names, dates, vote.score, weights, vote.effective_weight,
            _stacked(dataframe, self.signal_names, "exit_long"),
            _stacked(dataframe, self.signal_names, "exit_short"))
        return dataframe

    def rows(self, pair: str) -> EnsembleRows | None:
        """The pair's last analysed ensemble (score, weights, exit calls per candle)."""
        return self._rows.get(pair)

    def _vote(self, dataframe: pd.DataFrame, weights: np.ndarray, status: np.ndarray
              ) -> ensemble.Vote:
        ballots = [ensemble.Ballot(name, REGISTRY[name].signal.family,
                                   _frame_from(dataframe, name), weights[:, i],
                                   status[:, i] == _RETIRED)
                   for i, name in enumerate(self.signal_names)]
        return ensemble.combine(ballots, trending(dataframe), self.settings)

    def _entries(self, dataframe: pd.DataFrame, vote: ensemble.Vote) -> pd.DataFrame:
        long, short = ensemble.entry_signals(vote, self.threshold("vote_threshold"))
        traded = dataframe["volume"].to_numpy() > 0
        for mask, side, voters in ((long & traded, "enter_long", vote.long_voters),
                                   (short & traded, "enter_short", vote.short_voters)):
            rows = np.flatnonzero(mask)
            dataframe[side] = mask.astype(int)
            if len(rows):
                dataframe.loc[dataframe.index[rows], "enter_tag"] = ensemble.entry_tags(
                    voters, rows, self.signal_names)
        return dataframe

    def _ensemble_columns(self, dataframe: pd.DataFrame, vote: ensemble.Vote,
                          weights: np.ndarray) -> pd.DataFrame:
        columns = {"ens_score": vote.score,
                   "ens_trending": trending(dataframe).astype(int),
                   "ens_vol_level": vol_level(dataframe)}
        for name in REGISTRY:
            index = self.signal_names.index(name) if name in self.signal_names else None
            columns[f"ens_w_{name}"] = weights[:, index] if index is not None else 0.0
        return pd.concat([dataframe.drop(columns=list(columns), errors="ignore"),
                          pd.DataFrame(columns, index=dataframe.index)], axis=1)

    def exits(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        threshold = self.threshold("exit_threshold")
        score = dataframe["ens_score"]
        reversal = str(ReasonCode.ENSEMBLE_REVERSAL)
        dataframe.loc[score <= -threshold, ["exit_long", "exit_tag"]] = (1, reversal)
        dataframe.loc[score >= threshold, ["exit_short", "exit_tag"]] = (1, reversal)
        return dataframe

    def threshold(self, field: str) -> float:
        """The hyperopt parameter, unless the operator set the value in ``centaur.ensemble``
        (and hyperopt is not optimising it)."""
        parameter = getattr(self._parameters, f"ensemble_{field}")
        if field in self.settings.model_fields_set and not parameter.in_space:
            return float(getattr(self.settings, field))
        return float(parameter.value)

    def voter_exit(self, pair: str, trade: Trade, now: datetime) -> str | None:
        """``VOTER_EXIT <voters>`` when enough of the entry's voters call their exits."""
        rows = self._rows.get(pair)
        voters = parse_tag(trade.enter_tag)
        if rows is None or not voters:
            return None
        exiting = rows.voter_exits(voters, trade.is_short, self._decision_ns(now),
                                   self.settings.voter_exit_share)
        return f"{ReasonCode.VOTER_EXIT} {'+'.join(exiting)}" if exiting else None

    # --- proposals -----------------------------------------------------------------------------

    def proposal(self, pair: str, side: str, candle_time: datetime, tag: str | None,
                 close: float | None = None, row_confidence: float | None = None
                 ) -> EntryProposal:
        """The entry proposal of the candle that opened at ``candle_time``."""
        voters = parse_tag(tag)
        candle_ns = _ns(candle_time)
        if voters:
            rows = self._rows.get(pair)
            found = rows.confidence(candle_ns) if rows else None
            confidence = 0.0 if found is None else found  # an unknown candle: no confidence
        else:
            confidence = 1.0 if row_confidence is None else row_confidence
        # Sizing reads realised trades of the tag, not the tracker's horizon calls.
        return EntryProposal(pair, side, tag, voters, float(confidence), None, candle_time,
                             candle_time + self._step, close)

    def _decision_ns(self, current_time: datetime) -> int:
        """The candle a decision at ``current_time`` reads: the one that closed at or before."""
        return _ns(current_time) - self._step_ns

    def status(self, now: datetime) -> dict[str, Any]:
        return {"signals": self.tracker_ledger.status(_ns(now)),
                "tracker_covered_from": _iso(self.tracker_ledger.covered_from_ns())}


def _iso(at_ns: int | None) -> str | None:
    return None if at_ns is None else datetime.fromtimestamp(at_ns / 1e9, UTC).isoformat()


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


def enabled_signals(settings: EnsembleSettings) -> tuple[str, ...]:
    """``centaur.ensemble.signals`` in registry order (null: all; empty: none); unknown
    names fail."""
    if settings.signals is None:
        return tuple(REGISTRY)
    unknown = [name for name in settings.signals if name not in REGISTRY]
    if unknown:
        raise CentaurConfigError(
            f"centaur.ensemble.signals: unknown signal(s) {unknown}. Fix: use names from "
            f"{', '.join(REGISTRY)}, or remove the key to use them all.")
    return tuple(name for name in REGISTRY if name in settings.signals)


def _frame_columns(name: str, frame: SignalFrame) -> dict[str, np.ndarray]:
    columns = {}
    for field in _FRAME_FIELDS:
        values = getattr(frame, field)
        if values is not None:
            columns[f"sig_{name}_{field}"] = values
    return columns


def _bool(dataframe: pd.DataFrame, name: str, field: str) -> np.ndarray:
    column = f"sig_{name}_{field}"
    if column not in dataframe:
        return np.zeros(len(dataframe), dtype=bool)
    return dataframe[column].to_numpy(dtype=bool)


def _stacked(dataframe: pd.DataFrame, names: tuple[str, ...], field: str) -> np.ndarray:
    if not names:
        return np.zeros((len(dataframe), 0), dtype=bool)
    return np.column_stack([_bool(dataframe, name, field) for name in names])


def _frame_from(dataframe: pd.DataFrame, name: str) -> SignalFrame:
    """The signal's frame back from the columns ``populate_indicators`` wrote."""
    prefix = f"sig_{name}_"
    return SignalFrame(
        direction=dataframe[prefix + "direction"].to_numpy(dtype=np.int8),
        confidence=dataframe[prefix + "confidence"].to_numpy(dtype=float),
        exit_long=_bool(dataframe, name, "exit_long"),
        exit_short=_bool(dataframe, name, "exit_short"),
        available=_bool(dataframe, name, "available"),
        veto_long=_bool(dataframe, name, "veto_long") if prefix + "veto_long" in dataframe
        else None,
        veto_short=_bool(dataframe, name, "veto_short") if prefix + "veto_short" in dataframe
        else None)
