"""Kelly from realised trades (issue 13), fast tier: the shrinkage rule, the no-look-ahead rule
of the trade record, and the record of the cap that bound each sizing decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centaur.decision import ReasonCode
from centaur.interventions import InterventionBook
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings import settings_from
from centaur.settings.risk import SizingSettings
from centaur.signal_stats import SignalStats
from centaur.state import StateStore
from research.risk_report import cap_binding, cap_binding_from_trades, cap_binding_markdown
from risk_protections.entry_gates import PositionSizer, SizingTally
from risk_protections.kelly import kelly_fraction, shrunk_kelly_fraction, shrunk_win_rate
from risk_protections.position_sizing import (
    RiskBasis,
    SizingCap,
    SizingInputs,
    base_risk_ratio,
    size_position,
)
from risk_protections.risk_inputs import StopModel
from risk_protections.trade_record import ClosedTrade, TagRecord, TradeRecord, tag_record
from tests.support.accounts import FlatAccount

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
CANDLE = timedelta(minutes=5)
SIZING = SizingSettings()  # min 30 trades, prior 30 trades, quarter Kelly, default 0.5 %


# --- the shrinkage rule --------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(win=st.floats(0, 1), payoff=st.floats(0.05, 20), trades=st.integers(0, 5000),
       prior=st.floats(0, 500))
def test_shrunk_kelly_is_the_raw_kelly_scaled_by_the_samples_share(win, payoff, trades, prior):
    shrunk = shrunk_kelly_fraction(win, payoff, trades, prior)
    share = trades / (trades + prior) if trades + prior > 0 else 0.0
    assert shrunk == pytest.approx(share * kelly_fraction(win, payoff), abs=1e-9)
    assert shrunk * kelly_fraction(win, payoff) >= -1e-12  # the sign never flips


def test_the_win_rate_shrinks_toward_break_even():
    assert shrunk_win_rate(0.6, 2.0, 0, 30) == pytest.approx(1 / 3)  # p0 = 1 / (1 + b)
    assert shrunk_win_rate(0.6, 2.0, 30, 30) == pytest.approx((0.6 + 1 / 3) / 2)
    assert shrunk_kelly_fraction(0.6, 2.0, 0, 30) == pytest.approx(0.0)


def test_no_trades_and_too_few_trades_size_with_the_default_fraction():
    for record in (None, TagRecord("basis", 0, None, None),
                   TagRecord("basis", SIZING.min_trades_for_kelly - 1, 0.9, 5.0)):
        decision = base_risk_ratio(record, SIZING)
        assert decision.allowed and decision.scale == SIZING.default_risk_ratio


def test_few_trades_are_close_to_zero_edge_and_many_to_the_raw_kelly():
    settings_ = SizingSettings(min_trades_for_kelly=1, kelly_prior_trades=30)
    raw = SIZING.kelly_fraction * kelly_fraction(0.6, 2.0)  # quarter of 0.4 = 0.1
    few = base_risk_ratio(TagRecord("basis", 2, 0.6, 2.0), settings_).scale
    many = base_risk_ratio(TagRecord("basis", 30_000, 0.6, 2.0), settings_).scale
    assert few == pytest.approx(raw * 2 / 32)
    assert few < 0.1 * raw
    assert many == pytest.approx(raw, rel=2e-3)


def test_a_tag_whose_shrunk_kelly_is_not_positive_is_denied_no_edge():
    decision = base_risk_ratio(TagRecord("basis", 100, 0.30, 1.0), SIZING)
    assert not decision.allowed and decision.reason is ReasonCode.NO_EDGE
    result = size_position(SizingInputs(10_000, 0.02, 2.0, TagRecord("basis", 100, 0.3, 1.0),
                                        1.0, 0.002, 288), SIZING)
    assert result.stake_usd == 0 and result.basis is RiskBasis.NO_EDGE


def test_the_new_sizing_keys_are_bounded():
    from centaur.settings import CentaurConfigError
    for bad in ({"min_trades_for_kelly": 0}, {"kelly_prior_trades": -1},
                {"kelly_lookback_days": 0}):
        with pytest.raises(CentaurConfigError, match="centaur.risk.sizing"):
            settings_from({"centaur": {"risk": {"sizing": bad}}})


# --- the trade record: no look-ahead, the lookback, R --------------------------------------------

def _closed(tag: str, profits_r: list[float], last_close: datetime) -> list[ClosedTrade]:
    return [ClosedTrade(last_close - i * CANDLE, tag, r) for i, r in
            enumerate(reversed(profits_r))]


def test_a_trade_closing_after_the_decision_does_not_count():
    trades = _closed("basis", [2.0, -1.0, 2.0], NOW) + [ClosedTrade(NOW + CANDLE, "basis", 5.0)]
    record = tag_record(trades, "basis", NOW)
    assert record.trades == 3  # the one closing at NOW counts, the later one does not
    assert record.win_rate == pytest.approx(2 / 3) and record.payoff_ratio == pytest.approx(2.0)
    assert tag_record(trades, "basis", NOW + CANDLE).trades == 4


def test_only_the_exact_tag_and_trades_inside_the_lookback_count():
    trades = (_closed("basis", [1.0] * 3, NOW) + _closed("basis+ema_adx", [1.0] * 5, NOW)
              + [ClosedTrade(NOW - timedelta(days=200), "basis", -1.0)])
    assert tag_record(trades, "basis", NOW).trades == 4
    assert tag_record(trades, "basis", NOW, lookback=timedelta(days=180)).trades == 3
    assert tag_record(trades, "basis+ema_adx", NOW).trades == 5
    assert tag_record(trades, None, NOW).trades == 0


class FtTrade:
    """What the record reads of a freqtrade trade (the database keeps naive UTC times)."""

    def __init__(self, tag: str | None, profit_usd: float, close: datetime | None,
                 stake: float = 500.0, leverage: float = 5.0):
        self.enter_tag = tag
        self.close_profit_abs = profit_usd
        self.close_date = close.replace(tzinfo=None) if close else None
        self.max_stake_amount = stake
        self.stake_amount = stake
        self.leverage = leverage


def test_the_record_reads_freqtrades_closed_trades_in_r():
    # 1 R = 500 USD stake x 5 x the 2 % hard stop = 50 USD
    trades = [FtTrade("basis", 100.0, NOW - CANDLE), FtTrade("basis", -50.0, NOW),
              FtTrade("basis", 400.0, NOW + CANDLE), FtTrade("basis", 10.0, None),
              FtTrade("", -25.0, NOW)]
    record = TradeRecord(0.02, None, closed=lambda: trades)
    basis = record.of_tag("basis", NOW)
    assert (basis.trades, basis.win_rate, basis.payoff_ratio) == (2, 0.5, pytest.approx(2.0))
    untagged = record.of_tag(None, NOW)
    assert untagged.trades == 1 and untagged.win_rate == 0.0


# --- the sizer: Kelly from the tag's trades, and the cap that bound ------------------------------

class Rows:
    def __init__(self, sigma: float):
        self.sigma = sigma

    def row(self, pair, now):
        return {"risk_sigma": self.sigma, "close": 100.0}


SIGMA_ON_TARGET = 0.03 / 288 ** 0.5  # the volatility scale is exactly 1


def _sizer(trades: list[FtTrade], tally: SizingTally, sigma: float = SIGMA_ON_TARGET
           ) -> PositionSizer:
    risk = settings_from({}).risk
    return PositionSizer(risk, Rows(sigma), StopModel(risk.stops), FlatAccount(),
                         InterventionBook(StateStore()), 288,
                         TradeRecord(risk.stops.hard_stop_ratio, None, closed=lambda: trades),
                         on_sized=tally)


def _proposal(tag: str = "basis") -> EntryProposal:
    # the tracker's statistics say "huge edge": the sizer must not read them any more
    return EntryProposal("BTC/USDT:USDT", "long", tag, (tag,), 1.0, SignalStats(0.9, 5.0, 1000),
                         NOW - CANDLE, NOW, 100.0)


def _edge_history(last_close: datetime, count: int = 40) -> list[FtTrade]:
    """p = 0.6, b = 2 (raw Kelly 0.4): 60 % of +2 R, 40 % of -1 R."""
    return [FtTrade("basis", 100.0 if i % 5 < 3 else -50.0, last_close - i * CANDLE)
            for i in range(count)]


def test_the_sizer_uses_the_tags_trades_not_the_trackers_statistics():
    tally = SizingTally()
    decision, stake = _sizer([], tally).stake(_proposal(), EntryRequest(NOW, 100.0, 10.0),
                                              1.0)
    assert decision.allowed and stake == pytest.approx(250.0)  # 0.5 % / 2 % stop / 10x
    assert tally.basis == {"default": 1} and tally.binding == {"none": 1}


def test_the_thirtieth_trade_counts_only_once_it_has_closed():
    tally = SizingTally()
    request = EntryRequest(NOW, 100.0, 20.0)
    late = _edge_history(NOW + CANDLE, count=SIZING.min_trades_for_kelly)  # last closes later
    _sizer(late, tally).stake(_proposal(), request, 1.0)
    on_time = _edge_history(NOW, count=SIZING.min_trades_for_kelly)
    _sizer(on_time, tally).stake(_proposal(), request, 1.0)
    assert tally.basis == {"default": 1, "kelly": 1}


@pytest.mark.parametrize(("trades", "leverage", "max_stake", "binding", "reason"), [
    ([], 10.0, 1e9, SizingCap.NONE, ReasonCode.OK),  # 250 USD: inside every cap
    ([], 2.0, 1e9, SizingCap.POSITION, ReasonCode.CAP_POSITION),  # 1,250 USD > 5 % margin
    ([], 10.0, 100.0, SizingCap.MAX_STAKE, ReasonCode.OK),  # freqtrade's maximum
    (_edge_history(NOW), 20.0, 1e9, SizingCap.RISK_PER_TRADE, ReasonCode.OK),  # 1.5 % risk
    (_edge_history(NOW), 5.0, 1e9, SizingCap.POSITION, ReasonCode.CAP_POSITION),  # both cut
])
def test_each_decision_records_the_cap_that_bound(trades, leverage, max_stake, binding, reason):
    records = []
    tally = SizingTally()
    sizer = _sizer(trades, lambda record: (records.append(record), tally(record)))
    decision, stake = sizer.stake(_proposal(), EntryRequest(NOW, 100.0, leverage,
                                                            max_stake_usd=max_stake), 1.0)
    assert decision.allowed and decision.reason is reason and stake > 0
    [record] = records
    assert record.binding is binding and record.stake_usd == stake
    assert tally.binding == {str(binding): 1}
    if binding is SizingCap.POSITION and trades:
        assert record.caps == (SizingCap.RISK_PER_TRADE, SizingCap.POSITION)


def test_the_volatility_clamp_is_recorded_when_it_binds():
    records = []
    sizer = _sizer([], records.append, sigma=SIGMA_ON_TARGET / 4)  # x4 wanted, 1.5 allowed
    sizer.stake(_proposal(), EntryRequest(NOW, 100.0, 20.0), 1.0)
    assert records[0].binding is SizingCap.VOL_SCALE_MAX


def test_a_no_edge_denial_is_counted_by_basis_not_as_a_cap():
    losing = [FtTrade("basis", 100.0 if i % 4 == 0 else -50.0, NOW - i * CANDLE)
              for i in range(40)]  # p = 0.25, b = 2: Kelly -0.125
    tally = SizingTally()
    decision, stake = _sizer(losing, tally).stake(_proposal(),
                                                  EntryRequest(NOW, 100.0, 10.0), 1.0)
    assert not decision.allowed and decision.reason is ReasonCode.NO_EDGE and stake == 0
    assert tally.as_dict() == {"decisions": 1, "risk_basis": {"no_edge": 1}, "cap_binding": {}}


# --- the report's cap-binding section ------------------------------------------------------------

def test_the_report_shows_how_often_each_cap_binds():
    section = cap_binding({"decisions": 5, "risk_basis": {"default": 4, "kelly": 1},
                           "cap_binding": {"position": 3, "none": 2}})
    assert section["cap_binding"]["position"] == {"decisions": 3, "share": 0.6}
    assert section["risk_basis"]["kelly"] == {"decisions": 1, "share": 0.2}
    assert any("position" in line for line in cap_binding_markdown(section))


def test_the_report_infers_the_position_cap_from_a_trade_export():
    day = 86_400_000
    export = {"starting_balance": 10_000.0, "trades": [
        {"open_timestamp": 0, "close_timestamp": day, "stake_amount": 500.0,
         "profit_abs": 1_000.0},  # 5 % of 10,000: the cap bound
        {"open_timestamp": 2 * day, "close_timestamp": 3 * day, "stake_amount": 550.0,
         "profit_abs": 0.0},  # 5 % of 11,000 after the first trade's profit
        {"open_timestamp": 4 * day, "close_timestamp": 5 * day, "stake_amount": 200.0,
         "profit_abs": 0.0},
    ]}
    inferred = cap_binding_from_trades(export, max_position_ratio=0.05)
    assert inferred["trades"] == 3 and inferred["position_cap_binding"] == 2
    assert inferred["position_cap_share"] == pytest.approx(2 / 3, abs=1e-4)
