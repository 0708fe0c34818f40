"""Reconciliation (fast tier): the pure comparison - lost fills, unknown positions, dust within
tolerance, shorts negative, spot hedge legs, the router's per-venue split - and the part's
schedule with an injected clock, ccxt-shaped venue stand-ins and the real risk engine: a drift
seen twice halts entries with a CRITICAL event, a clean run clears it, a venue that cannot be
asked fails closed after N runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import ccxt
import pytest
from freqtrade.persistence import PairLocks

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink
from centaur.interventions import InterventionBook
from centaur.pipeline import EntryProposal, EntryRequest
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.tower import ReconciliationSettings
from centaur.state import StateStore
from control_tower.reconciliation import DriftKind, Holding, Market, Tolerance, reconcile
from control_tower.reconciliation_part import ReconciliationPart, Sources
from control_tower.reconciliation_sources import (
    VenueAccount,
    futures_positions,
    hedge_holdings,
    spot_balances,
    trade_holdings,
)
from risk_protections import entry_gates as gates
from risk_protections.engine import RiskCollaborators, RiskEngine
from risk_protections.risk_inputs import CandleRows
from sor_exchange.hedge_records import HedgeRequest, HedgeResult
from tests.support.accounts import FlatAccount

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def fut(asset: str, venue: str = "binance") -> Holding:
    return Holding(venue, Market.FUTURES, asset)


def spot(asset: str, venue: str = "binance") -> Holding:
    return Holding(venue, Market.SPOT, asset)


# --- the pure comparison ---------------------------------------------------------------------


def test_agreeing_holdings_have_no_drift_and_shorts_are_negative():
    expected = {fut(BTC): 0.01, fut(ETH): -0.5}
    reported = futures_positions("binance", [
        {"symbol": BTC, "contracts": 0.01, "contractSize": 1, "side": "long"},
        {"symbol": ETH, "contracts": 0.5, "contractSize": 1, "side": "short"},
        {"symbol": "SOL/USDT:USDT", "contracts": 0, "contractSize": 1, "side": None}])
    assert reported == {fut(BTC): 0.01, fut(ETH): -0.5}
    assert reconcile(expected, reported, Tolerance()) == []


def test_a_lost_fill_an_unknown_position_and_a_mismatch_are_three_kinds():
    expected = {fut(BTC): 0.01, fut(ETH): -0.5}
    reported = {fut(ETH): -0.3, fut("SOL/USDT:USDT"): 2.0}
    drifts = {d.holding.asset: d for d in reconcile(expected, reported, Tolerance(0.002))}
    assert drifts[BTC].kind is DriftKind.MISSING_AT_VENUE
    assert (drifts[BTC].expected_base, drifts[BTC].reported_base) == (0.01, 0.0)
    assert drifts["SOL/USDT:USDT"].kind is DriftKind.UNKNOWN_AT_VENUE
    assert drifts[ETH].kind is DriftKind.QUANTITY_MISMATCH
    assert drifts[ETH].as_dict() == {"venue": "binance", "market": "futures", "asset": ETH,
                                     "kind": "QUANTITY_MISMATCH", "expected_base": -0.5,
                                     "reported_base": -0.3}


def test_a_short_the_venue_holds_long_is_a_mismatch_not_agreement():
    drifts = reconcile({fut(ETH): -0.5}, {fut(ETH): 0.5}, Tolerance(0.01))
    assert [d.kind for d in drifts] == [DriftKind.QUANTITY_MISMATCH]


def test_dust_within_a_lot_or_the_ratio_agrees_beyond_it_drifts():
    lot = {fut(BTC): 0.001, spot("BTC"): 0.00001}
    tolerance = Tolerance(0.002, lot)
    # a fee of 0.1 % charged in the base: within the ratio
    assert reconcile({spot("BTC"): 0.009990}, {spot("BTC"): 0.01}, tolerance) == []
    # a lot of dust left after a close: within the lot
    assert reconcile({}, {fut(BTC): 0.001}, tolerance) == []
    assert reconcile({spot("BTC"): 0.0}, {spot("BTC"): 0.000008}, tolerance) == []
    # two lots: beyond it, and unknown to the bot
    assert [d.kind for d in reconcile({}, {fut(BTC): 0.002}, tolerance)] == [
        DriftKind.UNKNOWN_AT_VENUE]
    assert [d.kind for d in reconcile({fut(BTC): 0.01}, {fut(BTC): 0.0098}, tolerance)] == []
    assert [d.kind for d in reconcile({fut(BTC): 0.01}, {fut(BTC): 0.0085}, tolerance)] == [
        DriftKind.QUANTITY_MISMATCH]


def test_spot_hedge_legs_are_expected_as_base_held_after_a_base_commission():
    leg = HedgeResult(HedgeRequest(7, BTC, "open", 0.01, 70_000.0), "cid", "filled", 0.01,
                      70_010.0, 0.7, "", fee_base=0.00001)
    assert hedge_holdings([("binance", leg)]) == {spot("BTC"): pytest.approx(0.00999)}
    balance = {"USDT": {"total": 99_000.0}, "BTC": {"total": 0.00999}, "BNB": {"total": 3.0}}
    reported = spot_balances("binance", balance, {"BTC", "ETH"})  # watched bases only
    assert reported == {spot("BTC"): 0.00999}
    assert reconcile(hedge_holdings([("binance", leg)]), reported, Tolerance()) == []


def _order(order_id: str, side: str, filled: float) -> SimpleNamespace:
    return SimpleNamespace(order_id=order_id, ft_order_side=side, safe_filled=filled)


def test_a_trade_holds_its_signed_amount_or_the_routers_split_per_venue():
    short = SimpleNamespace(pair=ETH, is_short=True, amount=0.5,
                            orders=[_order("x1", "sell", 0.5)])
    assert trade_holdings(short, Market.FUTURES, "binance", lambda oid: None) == {
        fut(ETH): -0.5}
    routed = SimpleNamespace(pair=ETH, is_short=True, amount=0.5,
                             orders=[_order("sor-1", "sell", 0.5)])
    split = {"sor-1": {"binance": -0.3, "bybit": -0.2}}
    assert trade_holdings(routed, Market.FUTURES, "binance", split.get) == {
        fut(ETH): -0.3, fut(ETH, "bybit"): -0.2}
    spot_trade = SimpleNamespace(pair="BTC/USDT", is_short=False, amount=0.00999,
                                 orders=[_order("s1", "buy", 0.01)])
    assert trade_holdings(spot_trade, Market.SPOT, "binance", lambda oid: None) == {
        spot("BTC"): 0.00999}  # freqtrade's amount nets the fee taken in the base


# --- the part: schedule, halts, events ---------------------------------------------------------


@dataclass
class VenueStandIn:
    """A ccxt exchange as reconciliation calls it: unified positions, balances, markets."""

    id: str = "binance"
    positions: list[dict[str, Any]] = field(default_factory=list)
    balance: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None
    calls: int = 0
    precisionMode = ccxt.TICK_SIZE

    @property
    def markets(self) -> dict[str, Any]:
        return {s: {"symbol": s, "contractSize": 1.0, "precision": {"amount": 0.001,
                                                                    "price": 0.1},
                    "limits": {}, "taker": 0.0004, "maker": 0.0002} for s in (BTC, ETH)}

    def market(self, symbol: str) -> dict[str, Any]:
        if symbol not in self.markets:
            raise ccxt.BadSymbol(symbol)
        return self.markets[symbol]

    def fetch_positions(self) -> list[dict[str, Any]]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.positions

    def fetch_balance(self) -> dict[str, Any]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.balance


@pytest.fixture(autouse=True)
def memory_locks():
    PairLocks.use_db, PairLocks.timeframe = False, "5m"
    PairLocks.reset_locks()
    yield
    PairLocks.reset_locks()
    PairLocks.use_db = True


def _engine(store: StateStore, events: EventSink) -> RiskEngine:
    config = {"runmode": "backtest", "stake_currency": "USDT", "exchange": {"name": "binance"}}
    return RiskEngine(settings_from({}).risk, RiskCollaborators(
        config=config, store=store, events=events, interventions=InterventionBook(store),
        rows=CandleRows(timedelta(minutes=5)), account=FlatAccount(),
        order_book=lambda pair, depth: {}, candles_per_day=288))


class Bot:
    """The part over one futures venue, an open BTC long and the real risk engine."""

    def __init__(self, **settings: Any):
        self.store = StateStore()
        self.events = EventSink(self.store)
        self.seen: list = []
        self.events.subscribe(self.seen.append)
        self.risk = _engine(self.store, self.events)
        self.risk.start(NOW)
        self.venue = VenueStandIn(positions=[_position(BTC, 0.01)])
        self.trades = [SimpleNamespace(pair=BTC, is_short=False, amount=0.01,
                                       has_open_orders=False, orders=[])]
        self.part = ReconciliationPart(
            ReconciliationSettings(enabled=True, interval_secs=60, **settings),
            Sources(accounts=lambda: [VenueAccount("binance", Market.FUTURES, self.venue)],
                    open_trades=lambda: self.trades, hedge_legs=lambda: [],
                    pending_pairs=set, routed=lambda: (lambda oid: None),
                    primary=lambda: "binance", market=Market.FUTURES, quote="USDT",
                    watched_assets=set),
            self.risk, self.events)

    def codes(self) -> list[tuple[str, str]]:
        return [(str(e.code), str(e.severity)) for e in self.seen]

    def halts(self, now: datetime) -> list[str]:
        return self.risk.active_halt_codes(now)


def _position(symbol: str, signed: float) -> dict[str, Any]:
    return {"symbol": symbol, "contracts": abs(signed), "contractSize": 1.0,
            "side": "short" if signed < 0 else "long"}


def test_it_runs_at_start_then_on_its_interval_and_after_a_fill():
    bot = Bot()
    bot.part.on_loop(NOW)
    assert bot.venue.calls == 1 and bot.part.last.drifts == []
    bot.part.on_loop(NOW + timedelta(seconds=30))
    assert bot.venue.calls == 1  # not due yet
    bot.part.on_fill(bot.trades[0], None, NOW + timedelta(seconds=31))
    bot.part.on_loop(NOW + timedelta(seconds=35))
    assert bot.venue.calls == 2  # the loop after the fill
    bot.part.on_loop(NOW + timedelta(seconds=60))
    assert bot.venue.calls == 2
    bot.part.on_loop(NOW + timedelta(seconds=95))
    assert bot.venue.calls == 3
    status = bot.part.status(NOW + timedelta(seconds=95))
    assert status["venues_asked"] == ["binance:futures"] and status["drifts"] == []
    assert status["last_run"] == (NOW + timedelta(seconds=95)).isoformat()
    assert bot.codes() == []


def test_a_drift_seen_twice_halts_entries_and_a_clean_run_clears_the_halt():
    bot = Bot()
    bot.part.on_loop(NOW)
    bot.venue.positions.append(_position(ETH, -0.4))  # a position the bot does not know
    first = NOW + timedelta(seconds=60)
    bot.part.on_loop(first)
    assert bot.halts(first) == [] and bot.codes() == []  # seen once: looked at again
    second = first + timedelta(seconds=5)
    bot.part.on_loop(second)  # the next loop, not the next interval
    assert bot.halts(second) == ["RECONCILIATION_DRIFT"]
    assert bot.codes() == [("RECONCILIATION_DRIFT", "critical")]
    event = bot.seen[0]
    assert event.data["drifts"] == [{"venue": "binance", "market": "futures", "asset": ETH,
                                     "kind": "UNKNOWN_AT_VENUE", "expected_base": 0.0,
                                     "reported_base": -0.4}]
    # entries are denied through the risk layer's halt gate; the open trade is not flattened
    denied = gates.HaltGate(lambda: bot.risk.state).at_confirm(
        EntryProposal(BTC, "long", None, (), 1.0, None, second, second, None),
        EntryRequest(second, 70_000.0))
    assert not denied.allowed and "[RECONCILIATION_DRIFT]" in denied.detail
    assert bot.risk.state.flatten(second) is None
    assert any(lock.reason.startswith("[RECONCILIATION_DRIFT]") for lock in PairLocks.locks)
    # the same drift at the next runs: still halted, announced once
    bot.part.on_loop(second + timedelta(seconds=60))
    assert bot.codes() == [("RECONCILIATION_DRIFT", "critical")]
    # the operator closes the stray position: the next run is clean, the halt ends
    bot.venue.positions.pop()
    clean = second + timedelta(seconds=120)
    bot.part.on_loop(clean)
    assert bot.halts(clean) == []
    assert bot.codes()[-1] == ("RECONCILIATION_OK", "warning")
    assert not [lk for lk in PairLocks.get_pair_locks("*", clean)
                if lk.reason.startswith("[RECONCILIATION_DRIFT]")]
    assert bot.part.status(clean)["halted"] == []


def test_a_lost_fill_is_missing_at_the_venue():
    bot = Bot()
    bot.venue.positions.clear()
    bot.part.on_loop(NOW)
    bot.part.on_loop(NOW + timedelta(seconds=5))
    assert bot.halts(NOW + timedelta(seconds=5)) == ["RECONCILIATION_DRIFT"]
    drift, = bot.seen[0].data["drifts"]
    assert (drift["kind"], drift["expected_base"], drift["reported_base"]) == (
        "MISSING_AT_VENUE", 0.01, 0.0)


def test_a_drift_seen_once_is_a_race_not_a_drift():
    bot = Bot()
    bot.venue.positions.append(_position(ETH, -0.4))
    bot.part.on_loop(NOW)
    # the forced entry's trade is committed by the next loop
    bot.trades.append(SimpleNamespace(pair=ETH, is_short=True, amount=0.4,
                                      has_open_orders=False, orders=[]))
    bot.part.on_loop(NOW + timedelta(seconds=5))
    assert bot.codes() == [] and bot.halts(NOW + timedelta(seconds=5)) == []


def test_pairs_with_open_orders_are_left_out_of_a_run():
    bot = Bot()
    bot.venue.positions = [_position(BTC, 0.004)]  # the entry order is still filling
    bot.trades[0].has_open_orders = True
    bot.part.on_loop(NOW)
    bot.part.on_loop(NOW + timedelta(seconds=60))
    assert bot.part.last.drifts == [] and bot.part.last.skipped_pairs == [BTC]


def test_a_venue_that_cannot_be_asked_warns_then_halts_after_n_failures_then_clears():
    bot = Bot(failures_before_halt=3)
    bot.venue.error = ccxt.NetworkError("binance GET https://fapi... timed out")
    moments = [NOW + timedelta(seconds=60 * i) for i in range(4)]
    for moment in moments[:2]:
        bot.part.on_loop(moment)
    assert bot.codes() == [("RECONCILIATION_FAILED", "warning")]  # once per streak
    assert bot.halts(moments[1]) == []
    bot.part.on_loop(moments[2])
    assert bot.halts(moments[2]) == ["RECONCILIATION_FAILED"]
    assert bot.codes()[-1] == ("RECONCILIATION_FAILED", "critical")
    status = bot.part.status(moments[2])
    assert status["consecutive_failures"] == 3
    assert "NetworkError" in status["venues_failed"]["binance:futures"]
    bot.venue.error = None
    bot.part.on_loop(moments[3])
    assert bot.halts(moments[3]) == []
    assert bot.codes()[-1] == ("RECONCILIATION_OK", "warning")


def test_dry_run_leaves_the_part_idle_and_says_why():
    bot = Bot()
    idle = ReconciliationPart(bot.part.settings, None, bot.risk, bot.events)
    idle.on_loop(NOW)
    status = idle.status(NOW)
    assert status["live"] is False and "live mode only" in status["note"]
    assert bot.venue.calls == 0 and bot.codes() == []


def test_the_settings_reject_a_bad_tolerance():
    with pytest.raises(ValueError):
        ReconciliationSettings(tolerance_ratio=1.5)
    with pytest.raises(CentaurConfigError, match="failures_befor_halt: unknown key"):
        settings_from({"centaur": {"reconciliation": {"failures_befor_halt": 2}}})
    assert settings_from({"centaur": {"reconciliation": {"enabled": True}}}
                         ).reconciliation.failures_before_halt == 3


def test_a_run_that_crashes_is_a_failed_run_and_halts_after_n():
    bot = Bot(failures_before_halt=2)
    bot.part.on_loop(NOW)
    assert bot.part.status(NOW)["venues_asked"] == ["binance:futures"]

    def broken() -> list:
        raise RuntimeError("database is locked")

    bot.part.sources.open_trades = broken
    first, second = NOW + timedelta(seconds=60), NOW + timedelta(seconds=120)
    bot.part.on_loop(first)  # does not raise: the part owns its failure
    assert bot.codes() == [("RECONCILIATION_FAILED", "warning")]
    status = bot.part.status(first)
    assert status["consecutive_failures"] == 1
    assert "RuntimeError: database is locked" in status["error"]
    assert status["venues_asked"] == [] and status["last_run"] == first.isoformat()
    bot.part.on_loop(second)
    assert bot.halts(second) == ["RECONCILIATION_FAILED"]  # fail closed
    assert bot.codes()[-1] == ("RECONCILIATION_FAILED", "critical")
    # the books answer again: a clean run ends the halt
    bot.part.sources.open_trades = lambda: bot.trades
    clean = NOW + timedelta(seconds=180)
    bot.part.on_loop(clean)
    assert bot.halts(clean) == [] and bot.part.status(clean)["error"] is None
    assert bot.codes()[-1] == ("RECONCILIATION_OK", "warning")


def test_a_drifting_pair_left_out_of_a_run_keeps_the_drift_halt():
    bot = Bot()
    bot.venue.positions.clear()  # the BTC fill is lost at the venue
    bot.part.on_loop(NOW)
    bot.part.on_loop(NOW + timedelta(seconds=5))
    assert bot.halts(NOW + timedelta(seconds=5)) == ["RECONCILIATION_DRIFT"]
    # an exit order opens on the drifting pair: it is left out, nothing seen, still halted
    bot.trades[0].has_open_orders = True
    skipped = NOW + timedelta(seconds=65)
    bot.part.on_loop(skipped)
    assert bot.part.last.skipped_pairs == [BTC] and bot.part.last.drifts == []
    assert bot.halts(skipped) == ["RECONCILIATION_DRIFT"]
    # settled again and still missing: halted, announced once
    bot.trades[0].has_open_orders = False
    bot.part.on_loop(skipped + timedelta(seconds=60))
    bot.part.on_loop(skipped + timedelta(seconds=65))
    assert bot.halts(skipped + timedelta(seconds=65)) == ["RECONCILIATION_DRIFT"]
    assert bot.codes() == [("RECONCILIATION_DRIFT", "critical")]
    # the operator restores the position: compared and agreeing, the halt ends
    bot.venue.positions.append(_position(BTC, 0.01))
    clean = skipped + timedelta(seconds=125)
    bot.part.on_loop(clean)
    assert bot.halts(clean) == []
    assert bot.codes()[-1] == ("RECONCILIATION_OK", "warning")


def test_a_drift_halt_from_before_a_restart_ends_only_at_a_run_that_skipped_nothing():
    bot = Bot()
    bot.risk.halt_entries(NOW, Decision(False, ReasonCode.RECONCILIATION_DRIFT, "before"))
    bot.trades[0].has_open_orders = True  # which holding drifted is not known to this part
    bot.part.on_loop(NOW)
    assert bot.halts(NOW) == ["RECONCILIATION_DRIFT"]
    bot.trades[0].has_open_orders = False
    bot.part.on_loop(NOW + timedelta(seconds=60))
    assert bot.halts(NOW + timedelta(seconds=60)) == []
