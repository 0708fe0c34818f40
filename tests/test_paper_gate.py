"""The paper-trading gate and the live size ramp (fast tier): the pure rules with injected
clocks, the dry-run record read from a real freqtrade database (freqtrade's own schema and
``Trade`` objects), the override kept in the state store, the ramp's first start surviving a
restart, and the shipped live configs pointing the gate at their dry-run databases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import Trade
from freqtrade.persistence.base import ModelBase
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, Severity
from centaur.pipeline import EntryPipeline, EntryProposal, EntryRequest
from centaur.settings import CentaurConfigError, CentaurSettings, settings_from
from centaur.settings.tower import PaperGateSettings, SizeRampSettings
from centaur.state import StateStore
from control_tower import paper_gate, size_ramp
from control_tower.paper_gate import (
    PaperRecord,
    dry_run_db_url,
    list_overrides,
    paper_record_verdict,
    read_paper_record,
)
from control_tower.size_ramp import (
    SizeRampGate,
    first_live_start,
    next_step_at,
    ramp_ratio,
    ramp_week,
)
from tests.support.freqtrade_run import load_project_config

STRATEGY = "CentaurEnsemble"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GATE = PaperGateSettings()


def profits(wins: int, losses: int, win_usd: float = 12.0, loss_usd: float = 8.0
            ) -> list[float]:
    return [win_usd] * wins + [-loss_usd] * losses


def write_dry_run_db(path: Path, closed_profits_usd: list[float], strategy: str = STRATEGY,
                     open_trades: int = 0) -> str:
    """A freqtrade trade database (freqtrade's schema, its ``Trade`` rows); returns its URL."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    ModelBase.metadata.create_all(engine)
    with Session(engine) as session:
        for i, profit in enumerate(closed_profits_usd):
            session.add(_trade(strategy, T0 + timedelta(hours=i), profit))
        for i in range(open_trades):
            session.add(_trade(strategy, T0 + timedelta(days=30, hours=i), None))
        session.commit()
    engine.dispose()
    return url


def _trade(strategy: str, opened: datetime, profit_usd: float | None) -> Trade:
    closed = profit_usd is not None
    return Trade(pair="BTC/USDT:USDT", exchange="binance", strategy=strategy, is_short=False,
                 trading_mode="futures", leverage=2.0, stake_amount=100.0, amount=0.002,
                 open_rate=100_000.0, open_date=opened, fee_open=0.0005, fee_close=0.0005,
                 is_open=not closed, close_rate=100_000.0 + (profit_usd or 0) / 0.002,
                 close_date=opened + timedelta(hours=1) if closed else None,
                 close_profit_abs=profit_usd, close_profit=(profit_usd or 0) / 100.0)


# --- the rule ----------------------------------------------------------------------------------


def test_expectancy_is_the_mean_trade_win_rate_times_avg_win_less_loss_rate_times_avg_loss():
    record = PaperRecord.from_profits([10.0, 20.0, -6.0, 0.0])
    assert (record.closed_trades, record.wins, record.losses) == (4, 2, 1)
    assert record.win_rate == 0.5 and record.avg_win_usd == 15.0 and record.avg_loss_usd == 6.0
    assert record.expectancy_usd == pytest.approx(0.5 * 15.0 - 0.25 * 6.0)
    assert record.expectancy_usd == pytest.approx(sum([10.0, 20.0, -6.0, 0.0]) / 4)


def test_59_good_trades_are_refused_and_the_refusal_names_the_numbers():
    decision = paper_record_verdict(PaperRecord.from_profits(profits(30, 29)), GATE)
    assert not decision.allowed and decision.reason == ReasonCode.PAPER_GATE_REFUSED
    for figure in ("59 closed trades < 60 needed", "win rate 50.8%", "avg win 12.00",
                   "avg loss 8.00", "expectancy +2.1695"):
        assert figure in decision.detail, decision.detail


def test_60_trades_with_a_positive_expectancy_pass():
    decision = paper_record_verdict(PaperRecord.from_profits(profits(30, 30)), GATE)
    assert decision.allowed and decision.reason == ReasonCode.OK
    assert "60 closed trades" in decision.detail


@pytest.mark.parametrize("trades", [profits(24, 36), profits(30, 30, 8.0, 8.0), [0.0] * 60])
def test_a_non_positive_expectancy_is_refused_however_many_trades(trades):
    decision = paper_record_verdict(PaperRecord.from_profits(trades * 2), GATE)
    assert not decision.allowed and decision.reason == ReasonCode.PAPER_GATE_REFUSED
    assert "is not positive" in decision.detail and "closed trades <" not in decision.detail


def test_the_trade_count_is_configurable():
    decision = paper_record_verdict(PaperRecord.from_profits(profits(6, 4)),
                                    PaperGateSettings(min_closed_trades=10))
    assert decision.allowed


# --- the record: a real freqtrade database ------------------------------------------------------


def test_the_reader_counts_the_strategys_closed_trades_only(tmp_path):
    url = write_dry_run_db(tmp_path / "dry.sqlite", profits(40, 25), open_trades=3)
    other = write_dry_run_db(tmp_path / "dry.sqlite", profits(0, 50), strategy="CentaurCarry")
    assert other == url
    record = read_paper_record(url, STRATEGY)
    assert record == PaperRecord.from_profits(profits(40, 25))
    assert read_paper_record(url, "CentaurCarry").expectancy_usd == pytest.approx(-8.0)
    assert paper_record_verdict(record, GATE).allowed


def test_the_reader_opens_the_database_read_only(tmp_path):
    path = tmp_path / "dry.sqlite"
    url = write_dry_run_db(path, profits(1, 1))
    path.chmod(0o444)
    try:
        assert read_paper_record(url, STRATEGY).closed_trades == 2
    finally:
        path.chmod(0o644)
    assert not (tmp_path / "dry.sqlite-journal").exists()


def test_a_missing_database_is_a_refusal_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "dry.sqlite"
    record = read_paper_record(f"sqlite:///{missing}", STRATEGY)
    decision = paper_record_verdict(record, GATE)
    assert not decision.allowed and str(missing) in decision.detail
    assert not missing.parent.exists()  # nothing created


def test_a_database_without_freqtrades_trades_table_is_a_refusal(tmp_path):
    path = tmp_path / "other.sqlite"
    StateStore(str(path)).close()  # an SQLite file, but not freqtrade's
    decision = paper_record_verdict(read_paper_record(f"sqlite:///{path}", STRATEGY), GATE)
    assert not decision.allowed and "trades table" in decision.detail


def test_the_dry_run_database_is_configured_or_freqtrades_default():
    configured = PaperGateSettings(dry_run_db_url="sqlite:///user_data/d.sqlite")
    assert dry_run_db_url({"db_url": "sqlite:///user_data/l.sqlite"}, configured) \
        == "sqlite:///user_data/d.sqlite"
    assert dry_run_db_url({"db_url": "sqlite:///tradesv3.sqlite"}, GATE) \
        == "sqlite:///tradesv3.dryrun.sqlite"
    with pytest.raises(CentaurConfigError, match="centaur.paper_gate.dry_run_db_url is required"):
        dry_run_db_url({"db_url": "sqlite:///user_data/l.sqlite"}, GATE)
    with pytest.raises(CentaurConfigError, match="is the live database"):
        dry_run_db_url({"db_url": "sqlite:///user_data/d.sqlite"}, configured)


@pytest.mark.parametrize(("live", "dry_run"), [("live.json", "dry-run.json"),
                                               ("live-carry.json", "dry-run-carry.json")])
def test_the_shipped_live_configs_gate_on_their_dry_run_databases(live, dry_run):
    config = load_project_config(live)
    gate = settings_from(config).paper_gate
    assert gate.enabled and gate.min_closed_trades == 60 and not gate.override_reason
    assert dry_run_db_url(config, gate) == load_project_config(dry_run)["db_url"]
    assert load_project_config(dry_run)["strategy"] == config["strategy"]


# --- the start-up check on a host ---------------------------------------------------------------


@dataclass
class Host:
    """The strategy as the tower sees it (``TowerHost``), in memory."""

    config: dict[str, Any]
    centaur: CentaurSettings
    centaur_state: StateStore = field(default_factory=StateStore)
    interventions: Any = None
    dp: Any = None
    wallets: Any = None
    events: EventSink = field(init=False)

    def __post_init__(self):
        self.events = EventSink(self.centaur_state)

    @property
    def trading(self) -> bool:
        return True

    def centaur_status(self) -> dict[str, Any]:
        return {}


def host(db_url: str, runmode: RunMode = RunMode.LIVE, **gate: Any) -> Host:
    config = {"strategy": STRATEGY, "runmode": runmode, "dry_run": runmode != RunMode.LIVE,
              "bot_name": "centaur-live", "db_url": "sqlite:///live.sqlite",
              "centaur": {"paper_gate": {"dry_run_db_url": db_url, **gate}}}
    return Host(config, settings_from(config))


def test_a_live_start_on_a_short_record_is_refused_naming_the_numbers_and_the_fix(tmp_path):
    url = write_dry_run_db(tmp_path / "dry.sqlite", profits(10, 5))
    with pytest.raises(CentaurConfigError) as err:
        paper_gate.part(host(url))
    message = str(err.value)
    for text in ("PAPER_GATE_REFUSED", STRATEGY, "15 closed trades < 60 needed",
                 "win rate 66.7%", "avg win 12.00", "avg loss 8.00", "expectancy +5.3333",
                 str(tmp_path / "dry.sqlite"), "centaur.paper_gate.override_reason"):
        assert text in message, message


def test_a_good_record_starts_and_shows_its_numbers(tmp_path):
    url = write_dry_run_db(tmp_path / "dry.sqlite", profits(35, 30))
    bot = host(url)
    gate = paper_gate.part(bot)
    status = gate.status(T0)
    assert status["verdict"] == "passed" and status["record"]["closed_trades"] == 65
    assert status["override"] is None and list_overrides(bot.centaur_state) == []


def test_an_override_starts_and_is_kept_with_who_when_why_and_the_numbers(tmp_path):
    url = write_dry_run_db(tmp_path / "dry.sqlite", profits(3, 9))
    bot = host(url, override_reason="  carry moved to a new venue; record is on the old one ")
    before = datetime.now(UTC)
    gate = paper_gate.part(bot)
    assert gate.status(T0)["verdict"] == "overridden"
    kept, = list_overrides(bot.centaur_state, since=before)
    assert kept["kind"] == "paper_gate" and kept["strategy"] == STRATEGY
    assert kept["why"] == "carry moved to a new venue; record is on the old one"
    assert kept["who"] and datetime.fromisoformat(kept["time"]) >= before
    assert kept["record"]["closed_trades"] == 12 and kept["record"]["expectancy_usd"] < 0
    assert "12 closed trades < 60 needed" in kept["refused"]
    event, = bot.events.recent()
    assert event["code"] == ReasonCode.PAPER_GATE_OVERRIDE and event["severity"] == Severity.WARNING
    assert list_overrides(bot.centaur_state, kind="human_go") == []


@pytest.mark.parametrize(("runmode", "gate"), [(RunMode.DRY_RUN, {}),
                                               (RunMode.BACKTEST, {}),
                                               (RunMode.LIVE, {"enabled": False})])
def test_no_gate_outside_live_or_when_disabled(tmp_path, runmode, gate):
    bot = host(f"sqlite:///{tmp_path / 'missing.sqlite'}", runmode, **gate)
    assert paper_gate.part(bot) is None


# --- the size ramp ------------------------------------------------------------------------------


RAMP = SizeRampSettings()


@pytest.mark.parametrize(("days", "ratio"), [(0, 0.25), (6.99, 0.25), (7, 0.5), (13, 0.5),
                                             (14, 0.75), (20.9, 0.75), (21, 1.0), (400, 1.0)])
def test_the_ramp_steps_by_whole_weeks(days, ratio):
    assert ramp_ratio(T0, T0 + timedelta(days=days), RAMP) == pytest.approx(ratio)


def test_the_next_step_date_and_the_end_of_the_ramp():
    assert next_step_at(T0, T0 + timedelta(days=1), RAMP) == T0 + timedelta(days=7)
    assert next_step_at(T0, T0 + timedelta(days=15), RAMP) == T0 + timedelta(days=21)
    assert next_step_at(T0, T0 + timedelta(days=21), RAMP) is None
    assert ramp_week(T0, T0 - timedelta(hours=1)) == 0  # a clock set back stays in week 0


def test_other_ramp_shapes():
    two = SizeRampSettings(start_ratio=0.5, weeks=2)
    assert [ramp_ratio(T0, T0 + timedelta(weeks=w), two) for w in range(3)] == [0.5, 1.0, 1.0]
    assert ramp_ratio(T0, T0, SizeRampSettings(weeks=1)) == 1.0


def test_the_first_live_start_survives_a_restart(tmp_path):
    path = str(tmp_path / "live.centaur.sqlite")
    store = StateStore(path)
    assert first_live_start(store, T0) == T0
    store.close()
    restarted = StateStore(path)
    assert first_live_start(restarted, T0 + timedelta(days=9)) == T0


class RecordingSizer:
    name = "recording"

    def __init__(self):
        self.scales: list[float] = []

    def stake(self, proposal, request, scale):
        self.scales.append(scale)
        return Decision.allow(), 1000.0 * scale


def test_the_ramp_gate_scales_the_sizers_stake():
    sizer = RecordingSizer()
    pipeline = EntryPipeline([], [SizeRampGate(T0, RAMP)], sizer)
    proposal = EntryProposal("BTC/USDT:USDT", "long", "t", (), 0.6, None, T0, T0)
    week_one = pipeline.size(proposal, EntryRequest(T0 + timedelta(days=8), 100_000.0))
    assert week_one.stake_usd == pytest.approx(500.0)
    decision = SizeRampGate(T0, RAMP).at_sizing(proposal, EntryRequest(T0, 1.0))
    assert decision == Decision(True, ReasonCode.SIZE_RAMP, decision.detail, scale=0.25)
    full = SizeRampGate(T0, RAMP).at_sizing(proposal, EntryRequest(T0 + timedelta(days=30), 1.0))
    assert full == Decision.allow()


def test_the_ramp_part_is_live_only_and_shows_its_next_step(tmp_path):
    assert size_ramp.part(host("sqlite:///d.sqlite", RunMode.DRY_RUN)) is None
    bot = host("sqlite:///d.sqlite")
    bot.centaur_state.put(size_ramp.NAMESPACE, size_ramp.FIRST_START_KEY, T0.isoformat())
    ramp = size_ramp.part(bot)
    status = ramp.status(T0 + timedelta(days=10))
    assert status == {"ratio": 0.5, "week": 1, "first_live_start": T0.isoformat(),
                      "next_step_at": (T0 + timedelta(days=14)).isoformat(),
                      "next_ratio": 0.75}
    ramp.on_loop(T0 + timedelta(days=10))
    ramp.on_loop(T0 + timedelta(days=11))  # same step: said once
    ramp.on_loop(T0 + timedelta(days=14))
    assert [e["code"] for e in bot.events.recent()] == [ReasonCode.SIZE_RAMP] * 2
    assert len(ramp.entry_gates()) == 1
