"""EnsembleCore: the flagship's signal logic, beneath the risk layer in the class order.

Every registered signal (``strategies/signals``) votes per candle; the decay tracker weights
each by its measured edge; the regime mutes a family where it has none; the ensemble enters
when the weighted score crosses the vote threshold and tags the entry with the signals that
voted for it. Exits: the score reaching the exit threshold on the other side, or the entry's
own voters calling their exits (``custom_exit``). The hooks the risk layer sizes with:
``signal_confidence`` (|score| of the entry candle) and ``signal_stats`` (the tracker's
measured win rate and payoff of the entry's voters). With the risk layer off, ``FixedRisk``
(fixed leverage and stop) is what trades use.

Data per pair: the 5m perp candles, the perp's and spot's 1h candles (``HourlyColumns``) and
funding settlements. Signal parameters take effect in ``populate_indicators`` (hyperopt them
with ``--analyze-per-epoch``); the vote and exit thresholds in the entry/exit populators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.optimize.hyperopt_tools import HyperoptTools
from freqtrade.persistence import Trade
from freqtrade.strategy import DecimalParameter

from centaur.settings import CentaurConfigError
from centaur.settings.ensemble import EnsembleSettings
from centaur.signal_stats import SignalStats
from strategies import ensemble
from strategies.centaur_strategy import CentaurStrategy
from strategies.ensemble_rows import EnsembleRows
from strategies.fixed_risk import FixedRisk
from strategies.market_data import funding_informative, with_funding_rate
from strategies.regime_fallback import trending, vol_level, with_regime
from strategies.signal_outcomes import Outcomes, dates_ns, score_calls
from strategies.signal_tracker import STATUS_CODES, Status
from strategies.signals import REGISTRY, SignalContext, SignalFrame, build_signals, parse_tag
from strategies.signals.basis import BasisParameters
from strategies.signals.bollinger_rsi import BollingerRsiParameters
from strategies.signals.breakout import BreakoutParameters
from strategies.signals.ema_adx import EmaAdxParameters
from strategies.signals.funding import FundingParameters
from strategies.signals.hourly import HourlyColumns, spot_informative
from strategies.signals.ranker import RankerParameters
from strategies.signals.rsi_bounce import RsiBounceParameters
from strategies.signals.squeeze import SqueezeParameters
from strategies.tracker_ledger import TrackerLedger


_DEFAULTS = EnsembleSettings()
_TRADE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)
_RETIRED = STATUS_CODES[Status.RETIRED]
_LIVE_TIMELINE_GROUPS = 20_000  # tracker states kept in memory live (~70 days of 5m candles)
_FRAME_FIELDS = ("direction", "confidence", "exit_long", "exit_short", "available",
                 "veto_long", "veto_short")
_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
            "#666666")


class EnsembleCore(HourlyColumns, BasisParameters, BollingerRsiParameters, RsiBounceParameters,
                   SqueezeParameters, EmaAdxParameters, BreakoutParameters, FundingParameters,
                   RankerParameters, FixedRisk, CentaurStrategy):
    """Independent signals vote, weighted by their measured edge, muted by regime."""

    ensemble_vote_threshold = DecimalParameter(0.1, 0.8, default=_DEFAULTS.vote_threshold,
                                               decimals=2, space="ensemble")
    ensemble_exit_threshold = DecimalParameter(0.1, 0.8, default=_DEFAULTS.exit_threshold,
                                               decimals=2, space="ensemble")

    @property
    def plot_config(self) -> dict[str, Any]:
        return {
            "main_plot": {},
            "subplots": {
                "Ensemble": {"ens_score": {"color": "#2b83ba"}},
                "Regime": {"ens_trending": {"color": "#d7191c", "type": "bar"},
                           "ens_vol_level": {"color": "#fdae61"}},
                "Weights": {f"ens_w_{name}": {"color": color}
                            for name, color in zip(REGISTRY, _PALETTE, strict=True)},
            },
        }

    # --- start-up ------------------------------------------------------------------------------

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        settings = self.centaur.ensemble
        self._check_hyperopt_setup()
        self.signal_names = enabled_signals(settings)
        self.tracker_ledger = TrackerLedger(
            self.signal_names, settings.tracker, self.centaur_state, self.events,
            keep_groups=_LIVE_TIMELINE_GROUPS if self.config.get("runmode") in _TRADE_MODES
            else None)
        self._step_ns = timeframe_to_seconds(self.timeframe) * 1_000_000_000
        self._ensemble_rows: dict[str, EnsembleRows] = {}
        self._now_ns: int | None = None
        self._tracker_warm = False

    def _check_hyperopt_setup(self) -> None:
        if (self.config.get("runmode") == RunMode.HYPEROPT
                and not self.config.get("analyze_per_epoch", False)
                and HyperoptTools.has_space(self.config, "signals")):
            raise CentaurConfigError(
                "hyperopt optimises the 'signals' space, whose parameters take effect in "
                "populate_indicators, but --analyze-per-epoch is off: every epoch would "
                "score the default signals. Fix: add --analyze-per-epoch, or leave 'signals' "
                "out of --spaces.")

    def advise_all_indicators(self, data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Backtests and hyperopt: each analysis run starts the tracker from its loaded state."""
        self.tracker_ledger.restart_run()
        return super().advise_all_indicators(data)

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        super().bot_loop_start(current_time=current_time, **kwargs)
        self._now_ns = int(current_time.timestamp() * 1_000_000) * 1000
        if self.config.get("runmode") in _TRADE_MODES and not self._tracker_warm:
            self.warm_up_tracker({pair: self.dp.ohlcv(pair, self.timeframe)
                                  for pair in self.dp.current_whitelist()})

    def warm_up_tracker(self, candles: dict[str, pd.DataFrame]) -> None:
        """Live start-up: offer every pair's scored calls before the first decision flushes
        them, so the history is applied in the same order as in a backtest (otherwise the
        first pair analysed would apply its history before the others had offered theirs)."""
        for pair, frame in candles.items():
            if not frame.empty:
                self.advise_indicators(frame.copy(), {"pair": pair})
        self._tracker_warm = True

    # --- data ----------------------------------------------------------------------------------

    def informative_pairs(self):
        pairs = list(super().informative_pairs())
        for pair in self.dp.current_whitelist():
            for entry in (funding_informative(pair), spot_informative(pair)):
                if entry not in pairs:
                    pairs.append(entry)
        return pairs

    def with_model_columns(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        """Hook for the models layer: add ``ranker_*`` / ``regime_*`` columns here (before the
        signals read them). Without it the ranker abstains and the regime falls back."""
        return dataframe

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        pair = metadata["pair"]
        dataframe = with_funding_rate(dataframe, self.dp, pair, self.timeframe)
        dataframe = self.with_model_columns(dataframe, metadata)
        context = SignalContext(self.dp, pair, self.timeframe)
        columns = {}
        for signal in build_signals(self, self.signal_names):
            dataframe = signal.add_columns(dataframe, context)
            columns.update(_frame_columns(signal.name, signal.evaluate(dataframe)))
        dataframe = pd.concat([dataframe, pd.DataFrame(columns, index=dataframe.index)], axis=1)
        self.tracker_ledger.offer(pair, self.scored_calls(dataframe))
        return dataframe

    def scored_calls(self, dataframe: pd.DataFrame) -> Outcomes:
        """Every signal's calls in an analysed dataframe whose horizon has passed, scored."""
        dates, close = dates_ns(dataframe), dataframe["close"].to_numpy(dtype=float)
        cost = self.centaur.ensemble.tracker.outcome_cost_ratio
        step_secs = timeframe_to_seconds(self.timeframe)
        return Outcomes.concat([
            score_calls(dates, close, dataframe[f"sig_{name}_direction"].to_numpy(),
                        REGISTRY[name].signal.horizon_candles, step_secs, cost, index)
            for index, name in enumerate(self.signal_names)])

    # --- entries and exits ---------------------------------------------------------------------

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dates = dates_ns(dataframe)
        if len(dates):
            self.tracker_ledger.flush(int(dates[-1]))
        dataframe = with_regime(dataframe, self.centaur.ensemble.regime_fallback)
        weights, status = self.tracker_ledger.state_at(dates)
        vote = self._vote(dataframe, weights, status)
        dataframe = self._ensemble_columns(dataframe, vote, weights)
        dataframe = self._entries(dataframe, vote)
        self._ensemble_rows[metadata["pair"]] = EnsembleRows(
            self.signal_names, dates, vote.score, weights, vote.effective_weight,
            _stacked(dataframe, self.signal_names, "exit_long"),
            _stacked(dataframe, self.signal_names, "exit_short"))
        return dataframe

    def ensemble_rows(self, pair: str) -> EnsembleRows | None:
        """The pair's last analysed ensemble (score, weights, exit calls per candle)."""
        return self._ensemble_rows.get(pair)

    def _vote(self, dataframe: pd.DataFrame, weights: np.ndarray, status: np.ndarray
              ) -> ensemble.Vote:
        ballots = [ensemble.Ballot(name, REGISTRY[name].signal.family,
                                   _frame_from(dataframe, name), weights[:, i],
                                   status[:, i] == _RETIRED)
                   for i, name in enumerate(self.signal_names)]
        return ensemble.combine(ballots, trending(dataframe), self.centaur.ensemble)

    def _entries(self, dataframe: pd.DataFrame, vote: ensemble.Vote) -> pd.DataFrame:
        long, short = ensemble.entry_signals(vote, self._threshold("vote_threshold"))
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

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        threshold = self._threshold("exit_threshold")
        score = dataframe["ens_score"]
        dataframe.loc[score <= -threshold, ["exit_long", "exit_tag"]] = (1, "ensemble_reversal")
        dataframe.loc[score >= threshold, ["exit_short", "exit_tag"]] = (1, "ensemble_reversal")
        return dataframe

    def _threshold(self, field: str) -> float:
        """The hyperopt parameter, unless the operator set the value in ``centaur.ensemble``
        (and hyperopt is not optimising it)."""
        parameter = getattr(self, f"ensemble_{field}")
        settings = self.centaur.ensemble
        if field in settings.model_fields_set and not parameter.in_space:
            return float(getattr(settings, field))
        return float(parameter.value)

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | bool | None:
        reason = super().custom_exit(pair=pair, trade=trade, current_time=current_time,
                                     current_rate=current_rate, current_profit=current_profit,
                                     **kwargs)
        rows = self._ensemble_rows.get(pair)
        voters = parse_tag(trade.enter_tag)
        if reason or rows is None or not voters:
            return reason
        exiting = rows.voter_exits(voters, trade.is_short, self._decision_ns(current_time),
                                   self.centaur.ensemble.voter_exit_share)
        return f"exit_{'+'.join(exiting)}" if exiting else None

    # --- hooks the risk layer sizes with -------------------------------------------------------

    def signal_confidence(self, pair: str, side: str, current_time: datetime,
                          entry_tag: str | None) -> float:
        if not parse_tag(entry_tag):
            return super().signal_confidence(pair, side, current_time, entry_tag)
        rows = self._ensemble_rows.get(pair)
        found = rows.confidence(self._decision_ns(current_time)) if rows else None
        return 0.0 if found is None else found  # an unknown candle: no confidence

    def signal_stats(self, entry_tag: str | None) -> SignalStats | None:
        voters = parse_tag(entry_tag)
        if not voters or self._now_ns is None:
            return super().signal_stats(entry_tag)
        return self.tracker_ledger.stats_at(voters, self._now_ns - self._step_ns)

    def _decision_ns(self, current_time: datetime) -> int:
        """The candle a decision at ``current_time`` reads: the one that closed at or before."""
        return int(current_time.timestamp() * 1_000_000) * 1000 - self._step_ns

    def centaur_status(self) -> dict[str, Any]:
        status = super().centaur_status()
        if not hasattr(self, "tracker_ledger"):
            return status
        records = self.tracker_ledger.tracker.records
        status["signals"] = {
            name: {"status": str(r.status), "calls": r.calls,
                   "accuracy": round(r.accuracy, 3), "weight": round(r.weight, 5)}
            for name, r in records.items()}
        return status


def enabled_signals(settings: EnsembleSettings) -> tuple[str, ...]:
    """``centaur.ensemble.signals`` in registry order (empty: all); unknown names fail."""
    unknown = [name for name in settings.signals if name not in REGISTRY]
    if unknown:
        raise CentaurConfigError(
            f"centaur.ensemble.signals: unknown signal(s) {unknown}. Fix: use names from "
            f"{', '.join(REGISTRY)}, or remove the key to use them all.")
    return tuple(name for name in REGISTRY if not settings.signals or name in settings.signals)


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
