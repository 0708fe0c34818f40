"""Features: the documented catalogue, computed from real candles, without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from centaur.settings.models import GarchSettings
from freqai_models.candle_source import DatadirSource
from freqai_models.candles import GAP_UNDEFINED, CandleDataError, fill_gaps, validate_candles
from freqai_models.feature_catalogue import LIVE_ONLY, TRAINING_FEATURES, TRAINING_NAMES
from freqai_models.features import compute_features
from freqai_models.labels import forward_log_return, label_cutoff, relevance_grades
from freqai_models.orderbook import add_live_orderbook, imbalance
from freqai_models.pair_features import PairInputs
from tests.support.paths import BINANCE_DATA


PAIRS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
START, STOP = pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2025-03-15", tz="UTC")


@pytest.fixture(scope="module")
def inputs() -> dict[str, PairInputs]:
    source = DatadirSource(BINANCE_DATA)
    return {pair: source.inputs(pair, START, STOP) for pair in PAIRS}


@pytest.fixture(scope="module")
def features(inputs) -> dict[str, pd.DataFrame]:
    return compute_features(inputs, GarchSettings(), 300)


def test_catalogue_documents_at_least_80_scale_free_training_features():
    assert len(TRAINING_NAMES) >= 80
    assert len(set(TRAINING_NAMES)) == len(TRAINING_NAMES)
    assert all(spec.description and spec.where for spec in TRAINING_FEATURES)
    live_only = {spec.name for spec in LIVE_ONLY}
    assert live_only == {"ob_imbalance"} and not live_only & set(TRAINING_NAMES)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(1.0, 2.0), st.floats(0.0, 50.0)), max_size=15),
       st.lists(st.tuples(st.floats(2.0, 3.0), st.floats(0.0, 50.0)), max_size=15))
def test_order_book_imbalance_is_bounded_and_signed(bids, asks):
    value = imbalance({"bids": bids, "asks": asks})
    bid, ask = sum(s for _, s in bids[:10]), sum(s for _, s in asks[:10])
    if bid + ask == 0:
        assert np.isnan(value)
    else:
        assert -1.0 <= value <= 1.0 and np.sign(value) == np.sign(bid - ask)


def test_order_book_imbalance_is_never_read_outside_trade_modes():
    class NoNetwork:
        def orderbook(self, pair, levels):
            raise AssertionError("a backtest must not ask for an order book")

    frame = add_live_orderbook(pd.DataFrame({"close": [1.0, 2.0]}), NoNetwork(), "BTC", "backtest")
    assert frame["ob_imbalance"].isna().all()


def test_every_catalogue_feature_is_computed_in_catalogue_order(features):
    for pair, frame in features.items():
        assert list(frame.columns) == list(TRAINING_NAMES), pair
        settled = frame.iloc[2100:]  # past the longest window (2016 candles)
        assert settled.notna().all().all(), settled.columns[settled.isna().any()].tolist()


def test_features_at_t_use_only_candles_up_to_t(inputs, features):
    """Recompute on data cut at three real timestamps: every feature at the cut is unchanged."""
    for cut in (2500, 3100, 3900):
        truncated = {pair: PairInputs(pair, item.candles.iloc[:cut + 1], item.funding,
                                      item.spot) for pair, item in inputs.items()}
        again = compute_features(truncated, GarchSettings(), 300)
        for pair in PAIRS:
            np.testing.assert_allclose(again[pair].iloc[cut].to_numpy(),
                                       features[pair].iloc[cut].to_numpy(), rtol=1e-9,
                                       equal_nan=True, err_msg=f"{pair} at row {cut}")


def test_cross_section_ranks_compare_pairs_at_the_same_candle(features):
    ranks = pd.DataFrame({p: features[p]["xs_rank_logret_48"] for p in PAIRS}).iloc[2100:]
    assert set(np.unique(ranks.to_numpy().round(6))) <= {round(k / 3, 6) for k in (1, 2, 3)}
    assert (ranks.sum(axis=1).round(6) == 2.0).all()  # 1/3 + 2/3 + 3/3 each candle
    assert (features["BTC/USDT:USDT"]["corr_btc_288"].iloc[2100:].round(9) == 1.0).all()


def test_basis_is_spot_perp_of_the_last_completed_hour(inputs, features):
    btc = features["BTC/USDT:USDT"]
    assert (btc["basis_available"].iloc[24:] == 1).all()  # from the first completed hour
    assert btc["basis_1h"].iloc[2100:].abs().max() < 0.01  # perp and spot track each other
    no_spot = PairInputs("BTC/USDT:USDT", inputs["BTC/USDT:USDT"].candles, None, None)
    alone = compute_features({"BTC/USDT:USDT": no_spot}, GarchSettings(), 300)
    assert (alone["BTC/USDT:USDT"][["basis_1h", "basis_available"]] == 0).all().all()


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("close", np.nan, "price missing"),
    ("low", -1.0, "price not positive"),
    ("high", 1.0, "high below open/close"),
])
def test_malformed_candles_stop_with_pair_column_and_time(inputs, column, value, problem):
    candles = inputs["ETH/USDT:USDT"].candles.copy()
    candles.loc[100, column] = value
    with pytest.raises(CandleDataError) as error:
        compute_features({"ETH/USDT:USDT": PairInputs("ETH/USDT:USDT", candles)},
                         GarchSettings(), 300)
    assert problem in str(error.value) and "ETH/USDT:USDT" in str(error.value)
    assert str(candles.loc[100, "date"]) in str(error.value) and "Fix:" in str(error.value)


def test_duplicated_and_unordered_candles_are_refused(inputs):
    candles = inputs["SOL/USDT:USDT"].candles
    with pytest.raises(CandleDataError, match="duplicated candle"):
        validate_candles(pd.concat([candles.iloc[:50], candles.iloc[49:60]]), "SOL")
    with pytest.raises(CandleDataError, match="out of order"):
        validate_candles(candles.iloc[[0, 2, 1]], "SOL")


def test_gaps_are_filled_like_freqtrade_and_features_stay_finite(inputs):
    candles = inputs["BTC/USDT:USDT"].candles
    holed = candles.drop(index=range(2500, 2530)).reset_index(drop=True)
    filled = fill_gaps(holed, 300, "BTC/USDT:USDT")
    assert len(filled) == len(candles)
    gap = filled.iloc[2500:2530]
    assert (gap["volume"] == 0).all() and (gap["high"] == gap["low"]).all()
    assert (gap["close"] == candles["close"].iloc[2499]).all()
    result = compute_features({"BTC/USDT:USDT": PairInputs("BTC/USDT:USDT", filled)},
                              GarchSettings(), 300)["BTC/USDT:USDT"]
    settled = result.iloc[2100:].drop(columns=[c for c in result if "funding" in c])
    missing = settled.columns[~np.isfinite(settled.to_numpy()).all(axis=0)]
    assert set(missing) <= set(GAP_UNDEFINED)  # the documented zero-denominator ratios...
    holes = settled[list(missing)].isna().any(axis=1)
    assert holes[holes].index.min() >= 2500 and holes[holes].index.max() < 2530 + 20  # ...only
    # inside the 30-candle gap and the 20-candle windows that still see nothing but it


def test_labels_enter_training_only_after_their_candle_closed():
    close = pd.Series(np.arange(1.0, 101.0))
    forward = forward_log_return(close, 48)
    assert forward.iloc[-48:].isna().all() and forward.iloc[:52].notna().all()
    boundary = pd.Timestamp("2025-03-15", tz="UTC")
    cutoff = label_cutoff(boundary, 48, 300)
    # the label of the cut-off candle needs the close of candle cutoff + 48, known at boundary
    assert cutoff + pd.Timedelta(minutes=5 * 49) == boundary


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=3, max_size=12, unique=True),
       st.floats(0.0, 0.01), st.integers(2, 6))
def test_relevance_grades_are_bounded_ordered_and_cover_both_tails(returns, fee, grades):
    assume(np.diff(np.sort(returns)).min() > 1e-9)  # distinct after subtracting the mean
    forward = pd.DataFrame([returns])
    graded = relevance_grades(forward, fee, grades).iloc[0]
    assert ((graded >= 0) & (graded <= grades - 1)).all()
    order = np.argsort(returns)
    assert (np.diff(graded.to_numpy()[order]) >= 0).all()  # monotone in the return
    if len(returns) >= grades:  # every grade can be filled: both extremes are
        assert graded.iloc[order[0]] == 0 and graded.iloc[order[-1]] == grades - 1
    if grades >= 4 and len(returns) >= grades:  # the bottom half is not one flat grade
        bottom = graded.to_numpy()[order[: len(returns) // 2]]
        assert len(set(bottom)) >= 2
    # the fee shifts every pair alike: it never changes a grade
    assert graded.equals(relevance_grades(forward, 0.0, grades).iloc[0])


def test_eight_pairs_and_four_grades_split_symmetrically():
    forward = pd.DataFrame([[0.04, -0.03, 0.01, -0.01, 0.02, -0.02, 0.03, 0.0]])
    graded = relevance_grades(forward, 0.001, 4).iloc[0].to_numpy()
    assert list(graded[np.argsort(forward.iloc[0].to_numpy())]) == [0, 0, 1, 1, 2, 2, 3, 3]
