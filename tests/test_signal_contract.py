"""Contract of every signal in ``strategies.signals.REGISTRY``, on real 5m candles.

Each registered signal is run through the steps a suite strategy runs before it (freqtrade's
``merge_informative_pair`` of the 1h perp and spot columns, ``with_funding_rate``, the
signal's ``add_columns`` with a ``SignalContext``, then ``evaluate``) on BTC/USDT:USDT from the
shared files, loaded with freqtrade's ``load_pair_history`` and cut at what is known at a
given time (5m and 1h candles closed by then, funding settled by then). Checked per signal:

- no look-ahead: with the data known at the open of row k, rows < k of the signal's frame and
  of the columns it reads and adds are exactly those computed with all the data (cuts on and
  off the hour, at a funding settlement, 25 minutes before one, and right after votes);
- ``add_columns`` only adds columns (the input's stay as they were; a second call adds nothing)
  and ``evaluate`` adds or changes none. ``Signal`` declares no list of its columns, so "adds
  exactly what it declares" has nothing to compare against;
- ``describe()``: the documented one line, built from the signal's configured numbers;
- the ``SignalFrame``: the frame's length for every array, direction in {-1, 0, 1} (int8),
  confidence in [0, 1] and 0 without a vote, booleans, no vote where the signal abstains.

The ranker's inputs are the models layer's ``ranker_*`` columns; a stand-in computed here from
the candles (a causal cross-section rank of four perps' 4 h return) replaces the trained model,
so that its checks are not run on a signal that abstains everywhere.

Planted signals and frames, each breaking one rule, show that every check can fail.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType
from freqtrade.strategy import merge_informative_pair

from centaur.market_data import FUNDING_TIMEFRAME, with_funding_rate
from centaur.settings.ensemble import RegimeFallbackSettings
from llm_layer.news import Headline
from llm_layer.sentiment import ScoredHeadline, add_sentiment_features
from strategies.signals import REGISTRY, TAG_SEPARATOR, Family, Signal, SignalContext, SignalFrame
from strategies.signals.base import state_frame
from strategies.signals.hourly import hourly_columns, spot_pair
from tests.support.paths import BINANCE_DATA


PAIR = "BTC/USDT:USDT"
UNIVERSE = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT")
TIMEFRAME = "5m"
FIVE_MIN, HOUR = pd.Timedelta(minutes=5), pd.Timedelta(hours=1)
START, STOP = pd.Timestamp("2025-04-01", tz="UTC"), pd.Timestamp("2025-04-15", tz="UTC")
STARTUP_CANDLES = 720  # SignalResearch.startup_candle_count: freqtrade loads this many more
RANKER_LOOKBACK_CANDLES = 48
# Cuts (the open of the first unknown row): at a settlement, on the hour, 25 min before one.
CUTS = (pd.Timestamp("2025-04-06 16:00", tz="UTC"), pd.Timestamp("2025-04-09 13:00", tz="UTC"),
        pd.Timestamp("2025-04-12 07:35", tz="UTC"))


# --- the inputs, as freqtrade loads them, cut at what is known ------------------------------------


def _load(pair: str, timeframe: str, candle_type: CandleType, startup: pd.Timedelta
          ) -> pd.DataFrame:
    frame = load_pair_history(pair, timeframe, BINANCE_DATA, data_format="feather",
                              candle_type=candle_type)
    inside = (frame["date"] >= START - startup) & (frame["date"] < STOP)
    return frame[inside].reset_index(drop=True)


@dataclass(frozen=True)
class Inputs:
    candles: dict[str, pd.DataFrame]  # 5m perp candles of the UNIVERSE
    hourly: pd.DataFrame  # 1h perp candles of PAIR
    spot: pd.DataFrame  # 1h spot candles of PAIR
    funding: pd.DataFrame  # settlements of PAIR, freqtrade's layout (date, funding_rate)

    def known_at(self, moment: pd.Timestamp) -> Inputs:
        """What a live bot has at ``moment``: candles closed by then, settlements made by then."""
        def closed(frame: pd.DataFrame, length: pd.Timedelta) -> pd.DataFrame:
            return frame[frame["date"] + length <= moment].reset_index(drop=True)

        return Inputs({pair: closed(frame, FIVE_MIN) for pair, frame in self.candles.items()},
                      closed(self.hourly, HOUR), closed(self.spot, HOUR),
                      self.funding[self.funding["date"] <= moment].reset_index(drop=True))


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return Inputs(
        {pair: _load(pair, TIMEFRAME, CandleType.FUTURES, STARTUP_CANDLES * FIVE_MIN)
         for pair in UNIVERSE},
        _load(PAIR, "1h", CandleType.FUTURES, STARTUP_CANDLES * HOUR),
        _load(spot_pair(PAIR), "1h", CandleType.SPOT, STARTUP_CANDLES * HOUR),
        _load(PAIR, FUNDING_TIMEFRAME, CandleType.FUNDING_RATE, STARTUP_CANDLES * HOUR))


class KnownFunding:
    """The one DataProvider call the signals make (``get_pair_dataframe`` of the funding
    rate), answered from the loaded settlements."""

    def __init__(self, funding: pd.DataFrame):
        self._funding = funding

    def get_pair_dataframe(self, pair: str, timeframe: str | None = None,
                           candle_type: str = "") -> pd.DataFrame:
        assert (pair, timeframe, candle_type) == (PAIR, FUNDING_TIMEFRAME,
                                                  CandleType.FUNDING_RATE), (pair, timeframe)
        return self._funding.copy()


def _ranker_stand_in(candles: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``ranker_rank`` / ``ranker_universe`` / ``ranker_tradeable`` on PAIR's dates: the rank
    (1 = best) of each perp's trailing 4 h log return among those known at the candle."""
    closes = pd.DataFrame({pair: frame.set_index("date")["close"]
                           for pair, frame in candles.items()}).sort_index()
    momentum = np.log(closes).diff(RANKER_LOOKBACK_CANDLES)
    ranks = momentum.rank(axis=1, ascending=False)
    universe = momentum.notna().sum(axis=1).astype(float)
    dates = pd.DatetimeIndex(candles[PAIR]["date"])
    return pd.DataFrame({
        "ranker_rank": ranks[PAIR].reindex(dates).to_numpy(),
        "ranker_universe": universe.reindex(dates).to_numpy(),
        "ranker_tradeable": (universe.reindex(dates) == len(candles)).astype(int).to_numpy()})


def _news_stand_in(hourly: pd.DataFrame) -> list[ScoredHeadline]:
    """One stand-in "headline" about BTC at each 1h close, scored tanh(100 x that hour's log
    return): the ``news_*`` columns computed by ``llm_layer.sentiment`` from known data only."""
    closes = hourly["date"] + HOUR
    scores = np.tanh(100 * np.log(hourly["close"]).diff()).fillna(0.0)
    return [ScoredHeadline(Headline(t.to_pydatetime(), "stand-in", "", ("BTC",)), float(s))
            for t, s in zip(closes, scores)]


def prepared(data: Inputs) -> tuple[pd.DataFrame, SignalContext]:
    """PAIR's dataframe as a suite strategy hands it to its signals, and their context."""
    hourly = hourly_columns(data.hourly.copy(), data.spot.copy(), RegimeFallbackSettings())
    dataframe = merge_informative_pair(data.candles[PAIR].copy(), hourly, TIMEFRAME, "1h",
                                       ffill=True)
    dp = KnownFunding(data.funding)
    dataframe = with_funding_rate(dataframe, dp, PAIR, TIMEFRAME)
    ranker = _ranker_stand_in(data.candles)
    dataframe[list(ranker.columns)] = ranker.to_numpy()
    add_sentiment_features(dataframe, _news_stand_in(data.hourly), "BTC", TIMEFRAME)
    return dataframe, SignalContext(dp, PAIR, TIMEFRAME)


def analysed(signal: Signal, data: Inputs) -> tuple[pd.DataFrame, SignalFrame]:
    dataframe, context = prepared(data)
    dataframe = signal.add_columns(dataframe, context)
    return dataframe, signal.evaluate(dataframe)


# --- the checks ---------------------------------------------------------------------------------


FRAME_FIELDS = ("direction", "confidence", "exit_long", "exit_short", "available",
                "veto_long", "veto_short")


def _vote_starts(direction: np.ndarray) -> list[int]:
    """The first row of the first long vote and of the first short vote."""
    starts = []
    for side in (1, -1):
        rows = np.flatnonzero((direction == side) & (np.roll(direction, 1) != side))
        starts += [int(rows[0])] if len(rows) and rows[0] > 0 else []
    return starts


def check_no_look_ahead(signal: Signal, data: Inputs) -> None:
    """Rows before each cut are the same with the data known at the cut as with all of it:
    the columns the signal reads and adds, and its frame."""
    full_frame, full = analysed(signal, data)
    dates = pd.DatetimeIndex(full_frame["date"])
    rows = [int(dates.get_loc(cut)) for cut in CUTS]
    rows += [start + 1 for start in _vote_starts(full.direction)]  # the vote is the last row
    for row in sorted(set(rows)):
        cut = dates[row] if row < len(dates) else dates[-1] + FIVE_MIN
        early_frame, early = analysed(signal, data.known_at(cut))
        assert len(early.direction) == row, (signal.name, cut, len(early.direction))
        pd.testing.assert_frame_equal(
            early_frame, full_frame.iloc[:row], check_exact=True,
            obj=f"{signal.name}'s columns: rows before {cut} change with later data")
        for name in FRAME_FIELDS:
            seen, later = getattr(early, name), getattr(full, name)
            assert (seen is None) == (later is None), (signal.name, name, cut)
            if seen is not None:
                np.testing.assert_array_equal(
                    seen, later[:row],
                    err_msg=f"{signal.name}.{name}: rows before {cut} change with later data")


def check_only_adds_columns(signal: Signal, data: Inputs) -> None:
    """``add_columns`` keeps the rows and every input column as it was; a second call and
    ``evaluate`` add or change nothing."""
    before, context = prepared(data)
    kept = before.copy()
    added = signal.add_columns(before, context)
    assert added.index.equals(kept.index), f"{signal.name}.add_columns changed the rows"
    assert list(added.columns[:len(kept.columns)]) == list(kept.columns), (
        f"{signal.name}.add_columns removed or reordered input columns")
    pd.testing.assert_frame_equal(added[kept.columns], kept, obj=f"{signal.name} input columns")
    settled = added.copy()
    again = signal.add_columns(added, context)
    pd.testing.assert_frame_equal(again, settled, obj=f"{signal.name}.add_columns twice")
    signal.evaluate(again)
    pd.testing.assert_frame_equal(again, settled, obj=f"{signal.name}.evaluate's dataframe")


def check_frame(frame: SignalFrame, rows: int, name: str) -> None:
    for field in FRAME_FIELDS:
        values = getattr(frame, field)
        if values is None:
            assert field.startswith("veto_"), f"{name}.{field} is None"
            continue
        assert isinstance(values, np.ndarray) and values.shape == (rows,), (
            f"{name}.{field}: shape {np.shape(values)}, the dataframe has {rows} rows")
        if field not in ("direction", "confidence"):
            assert values.dtype == np.bool_, f"{name}.{field} is {values.dtype}, not bool"
    direction, confidence = frame.direction, frame.confidence
    assert direction.dtype == np.int8, f"{name}.direction is {direction.dtype}, not int8"
    assert set(np.unique(direction)) <= {-1, 0, 1}, (name, np.unique(direction))
    assert np.issubdtype(confidence.dtype, np.floating), (name, confidence.dtype)
    assert np.isfinite(confidence).all(), f"{name}.confidence has NaN/inf"
    assert ((confidence >= 0) & (confidence <= 1)).all(), (
        f"{name}.confidence outside [0, 1]: {confidence.min()}..{confidence.max()}")
    assert (confidence[direction == 0] == 0).all(), f"{name}.confidence > 0 without a vote"
    assert (direction[~frame.available] == 0).all(), f"{name} votes where it abstains"


NUMBER_FORMATS = (str, "{:g}".format, "{:.0%}".format)


def _nudged(value: Any) -> Any:
    return value + 1 if isinstance(value, int) else value * 1.25


def check_describe(signal_class: type[Signal]) -> None:
    """One non-empty line, built from the configured numbers: changing any field shows."""
    default = signal_class()
    text = default.describe()
    assert isinstance(text, str) and text.strip(), f"{signal_class.__name__}: empty describe()"
    assert "\n" not in text, f"{signal_class.__name__}: describe() is not one line: {text!r}"
    for field in fields(signal_class):
        value = _nudged(getattr(default, field.name))
        nudged = replace(default, **{field.name: value}).describe()
        assert nudged != text, f"{signal_class.__name__}.describe() ignores {field.name}"
        shown = {render(value) for render in NUMBER_FORMATS}
        assert any(number in nudged for number in shown), (field.name, value, nudged)


def check_identity(name: str, signal_class: type[Signal]) -> None:
    """Registered under its tag (usable in an ``enter_tag``), with a family and a horizon."""
    assert signal_class.name == name and name and TAG_SEPARATOR not in name
    assert isinstance(signal_class.family, Family)
    assert isinstance(signal_class.horizon_candles, int) and signal_class.horizon_candles > 0


# --- every registered signal --------------------------------------------------------------------


SIGNALS = list(REGISTRY)


def _signal(name: str) -> Signal:
    return REGISTRY[name].signal()


@pytest.fixture(scope="module")
def full(inputs) -> dict[str, tuple[pd.DataFrame, SignalFrame]]:
    return {name: analysed(_signal(name), inputs) for name in SIGNALS}


@pytest.mark.parametrize("name", SIGNALS)
def test_the_window_exercises_the_signal(full, name):
    """Each check below proves something only if the signal has inputs and votes both ways."""
    _, frame = full[name]
    assert frame.available.any(), name
    assert (frame.direction == 1).any() and (frame.direction == -1).any(), name
    assert frame.exit_long.any() and frame.exit_short.any(), name


@pytest.mark.parametrize("name", SIGNALS)
def test_no_look_ahead(inputs, name):
    check_no_look_ahead(_signal(name), inputs)


@pytest.mark.parametrize("name", SIGNALS)
def test_add_columns_only_adds_and_evaluate_only_reads(inputs, name):
    check_only_adds_columns(_signal(name), inputs)


@pytest.mark.parametrize("name", SIGNALS)
def test_the_tag_family_and_horizon_are_declared(name):
    check_identity(name, REGISTRY[name].signal)


@pytest.mark.parametrize("name", SIGNALS)
def test_describe_is_one_line_from_the_configured_numbers(name):
    check_describe(REGISTRY[name].signal)


@pytest.mark.parametrize("name", SIGNALS)
def test_the_signal_frame_has_the_frames_length_and_valid_values(full, name):
    dataframe, frame = full[name]
    check_frame(frame, len(dataframe), name)


# --- planted signals and frames: each check rejects what it is for ----------------------------


@dataclass(frozen=True)
class _Planted(Signal):
    """A valid signal (momentum over ``lookback`` candles), broken one way by each subclass."""

    lookback: int = 12

    name = "planted"
    family = Family.TREND
    horizon_candles = 12

    def _momentum(self, dataframe: pd.DataFrame) -> np.ndarray:
        return dataframe["close"].pct_change(self.lookback).to_numpy()

    def evaluate(self, dataframe: pd.DataFrame) -> SignalFrame:
        momentum = self._momentum(dataframe)
        available = np.isfinite(momentum)
        return state_frame(long=momentum > 0.002, short=momentum < -0.002,
                           strength_long=np.ones(len(momentum)),
                           strength_short=np.ones(len(momentum)),
                           exit_long=momentum < 0, exit_short=momentum > 0, available=available)

    def describe(self) -> str:
        return f"{self.lookback}-candle momentum beyond +/-0.2 %: follow it"


class _NextClose(_Planted):
    def _momentum(self, dataframe):  # the next candle's close: look-ahead by one row
        return dataframe["close"].pct_change(self.lookback).shift(-1).to_numpy()


class _WholeSampleMean(_Planted):
    def _momentum(self, dataframe):  # demeaned over the whole frame, future rows included
        momentum = dataframe["close"].pct_change(self.lookback)
        return (momentum - momentum.mean()).to_numpy()


class _OverwritesClose(_Planted):
    def add_columns(self, dataframe, context):
        dataframe["close"] = dataframe["close"].rolling(3).mean()
        return dataframe


class _AddsOnEvaluate(_Planted):
    def evaluate(self, dataframe):
        dataframe["planted_momentum"] = self._momentum(dataframe)
        return super().evaluate(dataframe)


class _AddsTwice(_Planted):
    def add_columns(self, dataframe, context):
        dataframe[f"planted_{len(dataframe.columns)}"] = 1.0
        return dataframe


@dataclass(frozen=True)
class _FixedText(_Planted):
    def describe(self):
        return "12-candle momentum: follow it"


@dataclass(frozen=True)
class _TwoLines(_Planted):
    def describe(self):
        return f"{self.lookback}-candle momentum\nfollow it"


@dataclass(frozen=True)
class _Empty(_Planted):
    def describe(self):
        return " "


def test_the_planted_signal_itself_passes_every_check(inputs):
    check_no_look_ahead(_Planted(), inputs)
    check_only_adds_columns(_Planted(), inputs)
    check_describe(_Planted)
    dataframe, frame = analysed(_Planted(), inputs)
    check_frame(frame, len(dataframe), "planted")


@pytest.mark.parametrize("planted", [_NextClose, _WholeSampleMean])
def test_a_signal_reading_later_rows_is_rejected(inputs, planted):
    with pytest.raises(AssertionError, match="change with later data"):
        check_no_look_ahead(planted(), inputs)


@pytest.mark.parametrize("planted", [_OverwritesClose, _AddsOnEvaluate, _AddsTwice])
def test_a_signal_changing_more_than_its_own_columns_is_rejected(inputs, planted):
    with pytest.raises(AssertionError):
        check_only_adds_columns(planted(), inputs)


@pytest.mark.parametrize("planted", [_FixedText, _TwoLines, _Empty])
def test_a_describe_that_is_not_one_line_from_the_numbers_is_rejected(planted):
    with pytest.raises(AssertionError):
        check_describe(planted)


def _valid(**changes) -> SignalFrame:
    direction = np.array([0, 1, 1, 0, -1, 0], dtype=np.int8)
    values = {"direction": direction, "confidence": np.where(direction != 0, 0.75, 0.0),
              "exit_long": np.zeros(6, dtype=bool), "exit_short": np.zeros(6, dtype=bool),
              "available": np.ones(6, dtype=bool)}
    return SignalFrame(**(values | changes))


@pytest.mark.parametrize("changes", [
    {"direction": np.array([0, 2, 1, 0, -1, 0], dtype=np.int8)},
    {"direction": np.array([0, 1, 1, 0, -1, 0])},  # int64, not the documented int8
    {"confidence": np.array([0, 1.5, 0.75, 0, 0.75, 0])},
    {"confidence": np.array([0, np.nan, 0.75, 0, 0.75, 0])},
    {"confidence": np.array([0.2, 0.75, 0.75, 0, 0.75, 0])},  # confidence without a vote
    {"exit_long": np.zeros(6)},  # floats, not booleans
    {"available": np.array([True, False, True, True, True, True])},  # a vote while abstaining
    {"veto_long": np.zeros(5, dtype=bool)},  # SignalFrame itself checks no veto's length
])
def test_an_invalid_signal_frame_is_rejected(changes):
    check_frame(_valid(), 6, "valid")
    with pytest.raises(AssertionError):
        check_frame(_valid(**changes), 6, "planted")


def test_a_frame_of_another_length_than_the_dataframe_is_rejected():
    with pytest.raises(AssertionError, match="the dataframe has 7 rows"):
        check_frame(_valid(), 7, "planted")


class _TwoTags(_Planted):
    name = "planted+other"


class _NoHorizon(_Planted):
    horizon_candles = 0


class _FamilyAsText(_Planted):
    family = "trend"


@pytest.mark.parametrize(("tag", "planted"), [
    ("planted+other", _TwoTags), ("planted", _NoHorizon), ("planted", _FamilyAsText),
    ("other", _Planted)])
def test_a_signal_without_a_usable_tag_family_or_horizon_is_rejected(tag, planted):
    check_identity("planted", _Planted)
    with pytest.raises(AssertionError):
        check_identity(tag, planted)
