"""Rule: every report reads its data from ``--datadir``, ``--pairs``, ``--timeframe`` and
``--timerange``, defaulting to ``config/backtest.json``'s, and checks the data kinds it needs
before any work: a missing kind stops it with one error naming the pair, the kind, the range
and the fix.

``add_data_options`` adds the four options; ``data_options`` resolves them once into a frozen
``DataOptions`` (the timerange defaults to the span the candles of every pair cover, read from
the data, never a hard-coded year); ``require_data`` checks the kinds (``DATA_KINDS``);
``config_with_data`` points a freqtrade config at the options' data.
"""

from __future__ import annotations

import argparse
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.configuration import TimeRange

from bench.common import every_signal
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = "config/backtest.json"
SIDE_TIMEFRAME = "1h"  # funding, mark and spot files of the shared data are 1h
# kind -> (candle type, timeframe; None = the report's timeframe); spot reads BTC/USDT
DATA_KINDS: dict[str, tuple[CandleType, str | None]] = {
    "candles": (CandleType.FUTURES, None),
    "funding": (CandleType.FUNDING_RATE, SIDE_TIMEFRAME),
    "mark": (CandleType.MARK, SIDE_TIMEFRAME),
    "spot": (CandleType.SPOT, SIDE_TIMEFRAME),
}


class MissingDataError(ValueError):
    """A data kind a report needs is missing for a pair and range: fix the data or the options."""


@dataclass(frozen=True)
class DataOptions:
    datadir: Path
    pairs: tuple[str, ...]
    timeframe: str
    timerange: str  # freqtrade's YYYYMMDD-YYYYMMDD, stop exclusive

    @property
    def timeframe_secs(self) -> int:
        return timeframe_to_seconds(self.timeframe)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(TimeRange.parse_timerange(self.timerange).startts, unit="s", tz="UTC")

    @property
    def stop(self) -> pd.Timestamp:
        return pd.Timestamp(TimeRange.parse_timerange(self.timerange).stopts, unit="s", tz="UTC")

    def as_dict(self) -> dict[str, Any]:
        return {"datadir": str(self.datadir), "pairs": list(self.pairs),
                "timeframe": self.timeframe, "timerange": self.timerange}


def add_data_options(parser: argparse.ArgumentParser, timerange_help: str = "") -> None:
    """The four data options; unset ones fall back to the config (see ``data_options``)."""
    group = parser.add_argument_group("data (defaults: config/backtest.json)")
    group.add_argument("--datadir", default=None, help="freqtrade data directory")
    group.add_argument("--pairs", nargs="+", default=None,
                       help="default: the config's exchange.pair_whitelist (the traded pairs)")
    group.add_argument("--timeframe", default=None, help="default: the config's timeframe")
    group.add_argument("--timerange", default=None,
                       help=timerange_help or "YYYYMMDD-YYYYMMDD; default: the span the "
                       "candles of every pair cover")


def read_config(path: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    return json.loads((PROJECT_ROOT / path).read_text())


def data_options(args: argparse.Namespace, config: dict[str, Any] | None = None,
                 timerange: str | None = None) -> DataOptions:
    """Options given win; then ``timerange`` (a report's own default); then the config."""
    config = config if config is not None else read_config()
    datadir = Path(args.datadir or config["datadir"])
    datadir = datadir if datadir.is_absolute() else (PROJECT_ROOT / datadir).resolve()
    pairs = tuple(args.pairs or config["exchange"]["pair_whitelist"])
    timeframe = args.timeframe or config["timeframe"]
    chosen = args.timerange or timerange or config.get("timerange") \
        or data_span(datadir, pairs, timeframe)
    return DataOptions(datadir, pairs, timeframe, _checked_timerange(chosen))


def config_with_data(config: dict[str, Any], options: DataOptions) -> dict[str, Any]:
    """A copy of a freqtrade config reading the options' data (datadir, whitelist, timeframe);
    a ranker universe named in it follows the pairs (the ranker ranks the pairs traded), and
    every signal votes (``every_signal``)."""
    variant = every_signal(copy.deepcopy(config))
    variant.update({"datadir": str(options.datadir), "timeframe": options.timeframe})
    variant["exchange"] = {**variant["exchange"], "pair_whitelist": list(options.pairs)}
    ranker = variant.get("centaur", {}).get("models", {}).get("ranker", {})
    if ranker.get("universe"):
        ranker["universe"] = list(options.pairs)
    return variant


def _checked_timerange(text: str) -> str:
    parsed = TimeRange.parse_timerange(text)
    if not parsed.startts or not parsed.stopts or parsed.startts >= parsed.stopts:
        raise ValueError(f"timerange {text!r} needs a start and a later stop "
                         "(YYYYMMDD-YYYYMMDD). Fix: pass --timerange 20250601-20250801.")
    return text


def data_span(datadir: Path, pairs: tuple[str, ...], timeframe: str) -> str:
    """The days every pair's candles cover, as a timerange (stop exclusive)."""
    spans = [_loaded(datadir, pair, "candles", timeframe) for pair in pairs]
    missing = [pair for pair, frame in zip(pairs, spans, strict=True) if frame.empty]
    if missing:
        raise MissingDataError(_message(missing, "candles", timeframe, datadir, "any range"))
    first = max(frame["date"].iloc[0] for frame in spans).ceil("D")
    last = min(frame["date"].iloc[-1] for frame in spans).floor("D")
    return f"{first:%Y%m%d}-{last:%Y%m%d}"


def require_data(options: DataOptions, kinds: tuple[str, ...] = ("candles", "funding"),
                 pairs: tuple[str, ...] | None = None, start: pd.Timestamp | None = None,
                 stop: pd.Timestamp | None = None) -> None:
    """Raise one ``MissingDataError`` listing every (pair, kind) without rows in the range."""
    start = options.start if start is None else start
    stop = options.stop if stop is None else stop
    problems = []
    for kind in kinds:
        timeframe = DATA_KINDS[kind][1] or options.timeframe
        absent = [pair for pair in (pairs or options.pairs)
                  if not _covers(_loaded(options.datadir, pair, kind, timeframe), start, stop)]
        if absent:
            problems.append(_message(absent, kind, timeframe, options.datadir,
                                     f"between {start:%Y-%m-%d %H:%M} and {stop:%Y-%m-%d %H:%M}"))
    if problems:
        raise MissingDataError("\n".join(problems))


def _covers(frame: pd.DataFrame, start: pd.Timestamp, stop: pd.Timestamp) -> bool:
    if frame.empty:
        return False
    dates = frame["date"]
    return bool(((dates >= start) & (dates < stop)).any())


def _loaded(datadir: Path, pair: str, kind: str, timeframe: str) -> pd.DataFrame:
    candle_type = DATA_KINDS[kind][0]
    name = pair.split(":")[0] if kind == "spot" else pair
    frame = load_pair_history(name, timeframe, datadir, candle_type=candle_type,
                              fill_up_missing=False)
    if not frame.empty:
        frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame


def _message(pairs: list[str], kind: str, timeframe: str, datadir: Path, span: str) -> str:
    mode = "spot" if kind == "spot" else "futures"
    return (f"no {timeframe} {kind} for {', '.join(pairs)} in {datadir} {span}. Fix: download "
            f"them (freqtrade download-data --trading-mode {mode} --timeframes {timeframe} "
            "--pairs ...), or change --timerange, --pairs, --timeframe or --datadir.")
