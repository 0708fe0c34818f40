"""Candle checks: what is wrong with a frame of candles read from disk, as values.

Pure functions of the raw frame (columns ``date``, then ``open high low close volume``, or the
``funding_rate`` of funding rows), its pair, timeframe and candle type. Freqtrade itself merges
duplicated timestamps (``groupby("date")``: first open, max high, last close) and fills gaps
with flat candles without a warning; these checks run before that and report:

- ``duplicated``: a timestamp on more than one row (``DATA_INVALID``);
- ``non_monotonic``: a row earlier than the row before it (``DATA_INVALID``);
- ``nan``: a row with NaN in open, high, low or close (the rate, for funding) (``DATA_INVALID``);
- ``gap``: more than ``max_gap_candles`` candles missing between two rows (``DATA_GAP``);
  funding rows are settlements, not candles: their gap is a step between two settlements
  longer than ``max_funding_interval_hours``, on the hour grid.

Timeframes in months (``1M``) are not gap-checked: their length varies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from centaur.decision import ReasonCode
from centaur.settings.data import DataSettings

FUNDING_RATE = "funding_rate"
# Candle types a run can do without: dropping one drops the pair from the run. Mark, index and
# funding rows only price funding; without them freqtrade charges no funding for the pair.
DROPPABLE_CANDLE_TYPES = frozenset({"", "spot", "futures"})
PAIR_ATTR = "centaur_pair"  # frames loaded from disk carry their pair in ``DataFrame.attrs``
MAX_LINES_PER_PAIR = 5
_OHLC = ("open", "high", "low", "close")
_UNIT_SECS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SETTLEMENT_GRID = "1h"


class ProblemKind(StrEnum):
    DUPLICATED = "duplicated"
    NON_MONOTONIC = "non_monotonic"
    NAN = "nan"
    GAP = "gap"


_REASONS = {ProblemKind.DUPLICATED: ReasonCode.DATA_INVALID,
            ProblemKind.NON_MONOTONIC: ReasonCode.DATA_INVALID,
            ProblemKind.NAN: ReasonCode.DATA_INVALID,
            ProblemKind.GAP: ReasonCode.DATA_GAP}


@dataclass(frozen=True)
class Source:
    """Which file a frame came from: pair, timeframe and candle type."""

    pair: str
    timeframe: str
    candle_type: str

    def __str__(self) -> str:
        return f"{self.pair} {self.timeframe} {self.candle_type or 'spot'}"


@dataclass(frozen=True)
class DataProblem:
    """One offending range of one file: ``count`` rows (candles, for a gap) from first to last."""

    kind: ProblemKind
    pair: str
    timeframe: str
    candle_type: str
    first: pd.Timestamp
    last: pd.Timestamp
    count: int
    description: str

    @property
    def reason(self) -> ReasonCode:
        return _REASONS[self.kind]

    @property
    def source(self) -> Source:
        return Source(self.pair, self.timeframe, self.candle_type)

    def line(self) -> str:
        return f"[{self.reason}] {self.source}: {self.description}"


def check_candles(frame: pd.DataFrame, pair: str, timeframe: str, candle_type: str,
                  settings: DataSettings) -> list[DataProblem]:
    """Every problem of the frame, in the order duplicates, order, NaN, gaps."""
    source = Source(pair, timeframe, str(candle_type))
    if frame.empty:
        return []
    dates = frame["date"]
    problems = [duplicated_timestamps(dates, source), steps_back(dates, source),
                nan_rows(frame, source)]
    if source.candle_type == FUNDING_RATE:
        gaps = funding_gaps(dates, source, settings.max_funding_interval_hours)
    else:
        gaps = candle_gaps(dates, source, settings.max_gap_candles)
    return [p for p in problems if p is not None] + gaps


def duplicated_timestamps(dates: pd.Series, source: Source) -> DataProblem | None:
    repeated = dates[dates.duplicated(keep="first")]
    if repeated.empty:
        return None
    stamps = repeated.nunique()
    where = _span(repeated.min(), repeated.max())
    what = (f"1 duplicated timestamp {where}" if len(repeated) == 1
            else f"{len(repeated)} duplicated rows on {stamps} timestamp(s) {where}")
    return _problem(ProblemKind.DUPLICATED, source, repeated, len(repeated),
                    f"{what} (freqtrade would merge them into one candle without a word)")


def steps_back(dates: pd.Series, source: Source) -> DataProblem | None:
    back = dates[dates.diff() < pd.Timedelta(0)]
    if back.empty:
        return None
    return _problem(ProblemKind.NON_MONOTONIC, source, back, len(back),
                    f"{len(back)} row(s) earlier than the row before, "
                    f"{_span(back.min(), back.max())} (the file is out of order)")


def nan_rows(frame: pd.DataFrame, source: Source) -> DataProblem | None:
    columns = value_columns(frame, source.candle_type)
    bad = frame["date"][frame[columns].isna().any(axis=1)] if columns else frame["date"][:0]
    if bad.empty:
        return None
    return _problem(ProblemKind.NAN, source, bad, len(bad),
                    f"{len(bad)} row(s) with NaN in {'/'.join(columns)} "
                    f"{_span(bad.min(), bad.max())}")


def candle_gaps(dates: pd.Series, source: Source, max_gap_candles: int) -> list[DataProblem]:
    step_secs = timeframe_secs(source.timeframe)
    if step_secs is None:
        return []
    step = pd.Timedelta(seconds=step_secs)
    ordered = _ordered(dates)
    missing = (ordered.diff() // step - 1).iloc[1:]
    problems = []
    for position in missing.index[missing > max_gap_candles]:
        first, last = ordered[position - 1] + step, ordered[position] - step
        count = int(missing[position])
        problems.append(_problem_at(
            ProblemKind.GAP, source, first, last, count,
            f"{count} missing candles {_span(first, last)} ({_hours(step * count)}), above "
            f"centaur.data.max_gap_candles = {max_gap_candles}"))
    return problems


def funding_gaps(dates: pd.Series, source: Source, max_interval_hours: float) -> list[DataProblem]:
    longest = pd.Timedelta(hours=max_interval_hours)
    ordered = _ordered(dates.dt.floor(_SETTLEMENT_GRID))
    steps = ordered.diff().iloc[1:]
    problems = []
    for position in steps.index[steps > longest]:
        first, last = ordered[position - 1], ordered[position]
        count = math.ceil(steps[position] / longest) - 1
        problems.append(_problem_at(
            ProblemKind.GAP, source, first, last, count,
            f"no funding settlement for {_hours(steps[position])} {_span(first, last)}: at "
            f"least {count} settlement(s) missing (funding settles at least every "
            f"{max_interval_hours:g} h, centaur.data.max_funding_interval_hours)"))
    return problems


def value_columns(frame: pd.DataFrame, candle_type: str) -> list[str]:
    if str(candle_type) == FUNDING_RATE:
        return [c for c in (FUNDING_RATE, "open") if c in frame.columns][:1]
    return [c for c in _OHLC if c in frame.columns]


def timeframe_secs(timeframe: str) -> int | None:
    """Seconds of a freqtrade timeframe (``5m``, ``1h``, ``1d``, ``1w``); None for months."""
    match = re.fullmatch(r"(\d+)([smhdw])", timeframe)
    return int(match.group(1)) * _UNIT_SECS[match.group(2)] if match else None


# --- what the operator reads ----------------------------------------------------------------


def failure_message(problems: list[DataProblem], settings: DataSettings) -> str:
    """One error naming each file, its ranges and the fixes that apply to it."""
    sources = list(dict.fromkeys(p.source for p in problems))
    lines = ["Bad candle data loaded from disk: the run stops rather than use it."]
    for source in sources:
        lines += ["  " + p.line() for p in _capped(problems, source)]
    lines.append("Fix: " + "; or ".join(_fixes(problems, sources, settings)) + ".")
    return "\n".join(lines)


def drop_warning(problems: list[DataProblem]) -> str:
    """The one warning line of a pair dropped from the run."""
    first, *rest = _capped(problems, problems[0].source)
    also = "".join(f"; [{p.reason}] {p.description}" for p in rest)
    return f"{first.line()}{also} - pair dropped (centaur.data.on_bad_pair: drop)"


def droppable(candle_type: str) -> bool:
    return str(candle_type) in DROPPABLE_CANDLE_TYPES


def _fixes(problems: list[DataProblem], sources: list[Source],
           settings: DataSettings) -> list[str]:
    fixes = [f"re-download {', '.join(map(str, sources))} "
             f"({'; '.join(_download_command(s) for s in sources)})"]
    if all(droppable(s.candle_type) for s in sources):
        if settings.on_bad_pair == "fail":
            fixes.append('set centaur.data.on_bad_pair: "drop" to run without the pair')
    else:
        fixes.append("remove the pair from the whitelist: funding and mark data cannot be "
                     "dropped alone (the pair's funding would silently not be charged)")
    gap_counts = [p.count for p in problems
                  if p.kind is ProblemKind.GAP and p.candle_type != FUNDING_RATE]
    if gap_counts:
        fixes.append(f"accept the gap with centaur.data.max_gap_candles: {max(gap_counts)}")
    return fixes


def _download_command(source: Source) -> str:
    mode = "spot" if source.candle_type in ("", "spot") else "futures"
    types = "" if droppable(source.candle_type) else f" --candle-types {source.candle_type}"
    return (f"freqtrade download-data --erase --trading-mode {mode} --pairs {source.pair} "
            f"--timeframes {source.timeframe}{types} --timerange <the run's range>")


def _capped(problems: list[DataProblem], source: Source) -> list[DataProblem]:
    mine = [p for p in problems if p.source == source]
    if len(mine) <= MAX_LINES_PER_PAIR:
        return mine
    rest = mine[MAX_LINES_PER_PAIR:]
    more = _problem_at(rest[0].kind, source, rest[0].first, rest[-1].last, len(rest),
                       f"... and {len(rest)} more problem(s) {_span(rest[0].first, rest[-1].last)}")
    return mine[:MAX_LINES_PER_PAIR] + [more]


def _problem(kind: ProblemKind, source: Source, dates: pd.Series, count: int,
             description: str) -> DataProblem:
    return _problem_at(kind, source, dates.min(), dates.max(), count, description)


def _problem_at(kind: ProblemKind, source: Source, first: pd.Timestamp, last: pd.Timestamp,
                count: int, description: str) -> DataProblem:
    return DataProblem(kind, source.pair, source.timeframe, source.candle_type, first, last,
                       count, description)


def _ordered(dates: pd.Series) -> pd.Series:
    return pd.Series(dates.dropna().unique()).sort_values().reset_index(drop=True)


def _span(first: pd.Timestamp, last: pd.Timestamp) -> str:
    if first == last:
        return f"at {_stamp(first)}"
    return f"from {_stamp(first)} to {_stamp(last)}"


def _stamp(moment: pd.Timestamp) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment.second else f"{moment:%Y-%m-%d %H:%M}"


def _hours(duration: pd.Timedelta) -> str:
    hours = duration / pd.Timedelta(hours=1)
    return f"{hours:g} h" if hours >= 1 else f"{duration / pd.Timedelta(minutes=1):g} min"
