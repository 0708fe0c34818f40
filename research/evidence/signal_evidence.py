"""Signal evidence: every signal's calls on real candles, scored against the random-direction
null, per horizon, with intervals that count each market move once.

For each signal and horizon: the calls (as the tracker defines them: the first candle of a vote
after a quiet horizon), their raw hit rate, the null's hit rate at the same candles (exact,
``centaur.null_baseline``), the excess hit rate with a clustered interval, the mean net return
after the round-trip cost with its clustered t, the minimum detectable edge of the tracker's
window, and *persistence*: whether one tracker window's excess predicts the next one's.

The candles are analysed by the strategy itself, in freqtrade's ``Backtesting`` (the same
columns a backtest trades on), so a signal is judged exactly as it votes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from centaur.null_baseline import (
    clustered_mean,
    excess_hits,
    minimum_detectable_edge,
    null_hit_rate,
)
from strategies.signal_outcomes import call_rows, dates_ns

DAY_SECS = 86_400


@dataclass(frozen=True)
class Calls:
    """The scored calls of one signal at one horizon, pooled over pairs."""

    call_at_ns: np.ndarray
    outcome_ratio: np.ndarray  # direction x forward return - cost
    cluster: np.ndarray  # call time // horizon: the market move it rides

    def __len__(self) -> int:
        return len(self.call_at_ns)

    def where(self, mask: np.ndarray) -> Calls:
        return Calls(self.call_at_ns[mask], self.outcome_ratio[mask], self.cluster[mask])

    @classmethod
    def concat(cls, parts: list[Calls]) -> Calls:
        if not parts:
            return cls(np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("call_at_ns", "outcome_ratio", "cluster")))


def calls_of(frame: pd.DataFrame, direction_column: str, horizon_candles: int,
             quiet_candles: int, timeframe_secs: int, cost_ratio: float) -> Calls:
    """One pair's calls of one signal, scored ``horizon_candles`` ahead (gaps: no outcome)."""
    if direction_column not in frame:
        return Calls.concat([])
    direction = frame[direction_column].fillna(0).to_numpy(dtype=np.int8)
    dates = dates_ns(frame)
    close = frame["close"].to_numpy(dtype=float)
    rows = call_rows(direction, max(quiet_candles, 1))
    rows = rows[frame["volume"].to_numpy()[rows] > 0]
    step_ns = timeframe_secs * 1_000_000_000
    end_ns = dates[rows] + horizon_candles * step_ns
    ends = np.searchsorted(dates, end_ns)
    inside = ends < len(dates)
    rows, ends, end_ns = rows[inside], ends[inside], end_ns[inside]
    exact = dates[ends] == end_ns
    rows, ends = rows[exact], ends[exact]
    outcome = direction[rows] * (close[ends] / close[rows] - 1.0) - cost_ratio
    finite = np.isfinite(outcome)
    rows, outcome = rows[finite], outcome[finite]
    return Calls(dates[rows], outcome, dates[rows] // (horizon_candles * step_ns))


def summary(calls: Calls, cost_ratio: float, confidence_level: float = 0.95
            ) -> dict[str, Any]:
    """Hit rate, the null's, the excess with its interval, the net return with its t."""
    if len(calls) == 0:
        return {"calls": 0}
    excess = clustered_mean(excess_hits(calls.outcome_ratio, cost_ratio), calls.cluster,
                            confidence_level)
    net = clustered_mean(calls.outcome_ratio, calls.cluster, confidence_level)
    return {"calls": len(calls), "clusters": excess.clusters,
            "hit_rate": round(float(np.mean(calls.outcome_ratio > 0)), 4),
            "null_hit_rate": round(null_hit_rate(calls.outcome_ratio, cost_ratio), 4),
            "excess_hit_rate": excess.as_dict(),
            "net_return_bps": {"mean": round(net.estimate * 1e4, 2),
                               "lower": round(net.lower * 1e4, 2),
                               "upper": round(net.upper * 1e4, 2), "t": round(net.z, 2)}}


def window_excess(calls: Calls, cost_ratio: float, window_secs: int) -> pd.Series:
    """The excess hit rate of consecutive non-overlapping calendar windows."""
    if len(calls) == 0:
        return pd.Series(dtype=float)
    window = calls.call_at_ns // (window_secs * 1_000_000_000)
    values = pd.Series(excess_hits(calls.outcome_ratio, cost_ratio))
    return values.groupby(window).mean()


def persistence(windows: pd.Series, min_calls_windows: int = 6) -> dict[str, Any]:
    """Does a window's excess predict the next window's? Pearson r of consecutive windows with
    a Fisher-z interval, and the next window's mean after the top third of windows."""
    consecutive = windows.index.to_series().diff() == 1
    current = windows.shift(1)[consecutive].to_numpy()
    following = windows[consecutive].to_numpy()
    n = len(following)
    if n < min_calls_windows:
        return {"pairs_of_windows": n, "note": "too few consecutive windows"}
    r = float(np.corrcoef(current, following)[0, 1]) if np.std(current) > 0 else 0.0
    half = 1.96 / math.sqrt(max(n - 3, 1))
    z = math.atanh(max(min(r, 0.999999), -0.999999))
    top = current >= np.quantile(current, 2 / 3)
    return {"pairs_of_windows": n, "correlation": round(r, 3),
            "correlation_interval": [round(math.tanh(z - half), 3),
                                     round(math.tanh(z + half), 3)],
            "next_after_top_third": round(float(following[top].mean()), 4),
            "next_overall": round(float(following.mean()), 4)}


def tracker_power(calls: Calls, cost_ratio: float, window_secs: int, span_secs: int
                  ) -> dict[str, Any]:
    """The minimum detectable excess of one tracker window (one-sided 5 %, 80 % power)."""
    if len(calls) == 0:
        return {}
    hits = excess_hits(calls.outcome_ratio, cost_ratio)
    cluster_means = pd.Series(hits).groupby(calls.cluster).sum()
    span_days = max(span_secs / DAY_SECS, 1.0)
    clusters_per_window = len(cluster_means) / span_days * window_secs / DAY_SECS
    calls_per_cluster = len(hits) / max(len(cluster_means), 1)
    sd = float(cluster_means.std(ddof=1) / calls_per_cluster) if len(cluster_means) > 1 \
        else 0.5
    return {"clusters_per_window": round(clusters_per_window, 1),
            "minimum_detectable_excess": round(
                minimum_detectable_edge(sd, clusters_per_window), 4)}


def load_analysed(config: dict[str, Any], timerange: str) -> dict[str, pd.DataFrame]:
    """Every pair's candles analysed by the strategy in freqtrade's ``Backtesting`` (the
    strategy's ``populate_indicators``: the columns a backtest trades on)."""
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.enums import RunMode
    from freqtrade.optimize.backtesting import Backtesting

    path = Path(config["user_data_dir"]) / "evidence-config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    import json

    path.write_text(json.dumps(config))
    args = {"config": [str(path)], "strategy": config["strategy"], "timerange": timerange,
            "export": "none", "backtest_cache": "none"}
    if config.get("strategy_path"):
        args["strategy_path"] = config["strategy_path"]
    engine = Backtesting(setup_optimize_configuration(args, RunMode.BACKTEST))
    data, _ = engine.load_bt_data()
    strategy = engine.strategylist[0]
    engine._set_strategy(strategy)
    if getattr(strategy, "signals", None) is not None:
        strategy.signals.restart_run()
    return {pair: strategy.advise_indicators(frame.copy(), {"pair": pair})
            for pair, frame in data.items()}
