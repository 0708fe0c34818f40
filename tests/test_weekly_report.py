"""The weekly report on a real freqtrade database (written with freqtrade's own persistence),
a real state store, fills log and LLM record: KPIs against hand-computed values, the PDF's
pages rendered to PNG with poppler's ``pdftoppm``, and the scheduled part sending the PDF once
a week through the local Telegram Bot API (multipart ``sendDocument``)."""

from __future__ import annotations

import json
import math
import subprocess
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.settings import CentaurSettings, settings_from
from centaur.state import StateStore, state_path
from control_tower.human_go import AnswerRecord
from control_tower.human_go_book import ANSWERS as GO_ANSWERS
from control_tower.paper_gate import record_override
from control_tower.weekly_render import write_all
from control_tower.weekly_report import build_report, main, parse_args, run, window_for
from control_tower.weekly_report_part import (
    NAMESPACE,
    WeeklyReportPart,
    due_week,
    weekly_report_part,
)
from control_tower.weekly_sources import MissingDatabase, read_records, trading_config
from llm_layer.store import DecisionRecord, DecisionStore
from sor_exchange.fills_log import Fill, FillsLog, default_url
from tests.fakes.telegram_bot_api import start_fake_bot_api
from tests.support.paths import BINANCE_DATA
from tests.support.processes import free_port

WEEK_END = datetime(2026, 2, 16, tzinfo=UTC)  # a Monday
DAY = datetime(2026, 2, 9)  # naive UTC, as freqtrade stores dates
FEE = 0.0005
BTC = "BTC/USDT:USDT"

# id, pair, tag, short, open, close, open rate, close rate, amount
TRADES = (
    (1, "XRP/USDT:USDT", "trend", False, DAY - timedelta(days=8), DAY - timedelta(days=7),
     1.0, 1.1, 100.0),  # before the week: in the opening equity
    (2, BTC, "trend", False, DAY + timedelta(hours=10), DAY + timedelta(hours=16),
     100.0, 110.0, 2.0),
    (3, "ETH/USDT:USDT", "meanrev", True, DAY + timedelta(days=1, hours=8),
     DAY + timedelta(days=2, hours=8), 100.0, 105.0, 3.0),
    (4, "SOL/USDT:USDT", "trend", False, DAY + timedelta(days=3, hours=9),
     DAY + timedelta(days=3, hours=21), 50.0, 52.0, 10.0),
    (5, BTC, "breakout", False, DAY + timedelta(days=4, hours=14),
     DAY + timedelta(days=5, hours=12), 200.0, 190.0, 1.0),
)


def _profit(short: bool, open_rate: float, close_rate: float, amount: float) -> float:
    """By hand: the move on the amount, less the fee ratio on each side's value."""
    move = (open_rate - close_rate) if short else (close_rate - open_rate)
    return move * amount - FEE * amount * (open_rate + close_rate)


def write_freqtrade_db(db_url: str, trades=TRADES) -> None:
    """Closed trades with their entry and exit orders, through freqtrade's persistence."""
    from freqtrade.enums import TradingMode
    from freqtrade.persistence import Order, Trade, init_db

    init_db(db_url)
    for trade_id, pair, tag, short, opened, closed, open_rate, close_rate, amount in trades:
        trade = Trade(id=trade_id, pair=pair, base_currency=pair.split("/")[0],
                      stake_currency="USDT", exchange="binance", is_open=True, is_short=short,
                      leverage=1.0, strategy="CentaurEnsemble", enter_tag=tag,
                      open_rate=open_rate, amount=amount, stake_amount=amount * open_rate,
                      open_date=opened, fee_open=FEE, fee_close=FEE,
                      trading_mode=TradingMode.FUTURES)
        Trade.session.add(trade)
        for name, when, price, side in (("entry", opened, open_rate, "sell" if short else "buy"),
                                        ("exit", closed, close_rate, "buy" if short else "sell")):
            order = Order(ft_order_side=side, ft_pair=pair, ft_is_open=False, ft_amount=amount,
                          ft_price=price, order_id=f"{trade_id}-{name}", status="closed",
                          symbol=pair, order_type="limit", side=side, price=price,
                          average=price, amount=amount, filled=amount, remaining=0.0,
                          cost=amount * price, order_date=when, order_filled_date=when)
            trade.orders.append(order)
            if name == "exit":
                trade.exit_reason = "roi"
            trade.update_trade(order)
        Trade.commit()
    Trade.session.remove()


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return (DAY + timedelta(days=day, hours=hour, minutes=minute)).replace(tzinfo=UTC)


FILLS = (  # parent, venue, side, price, amount, arrival mid, at
    ("4-entry", "binance", "buy", 50.01, 6.0, 50.0, _at(3, 9)),
    ("4-entry", "bybit", "buy", 50.03, 4.0, 50.0, _at(3, 9)),
    ("5-exit", "okx", "sell", 189.9, 1.0, 190.0, _at(5, 12)),
)


def write_fills(config: dict[str, Any]) -> None:
    log = FillsLog(default_url(config))
    for n, (parent, venue, side, price, amount, mid, at) in enumerate(FILLS):
        log.record(Fill(parent, "CentaurEnsemble", BTC if parent.startswith("5") else
                        "SOL/USDT:USDT", side, venue, f"c{n}", f"v{n}", price, amount,
                        price * amount * FEE, False, mid, True), at)
    log.close()


EVENTS = (
    (_at(4, 10), Severity.CRITICAL, ReasonCode.KILL_SWITCH, "operator kill switch (telegram)"),
    (_at(4, 12), Severity.WARNING, ReasonCode.OPERATOR_RESUME,
     "telegram resumed trading; cleared KILL_SWITCH"),
    (_at(3, 8, 55), Severity.INFO, ReasonCode.HUMAN_GO_GRANTED,
     "operator 42 answered GO for SOL/USDT:USDT long 520 USD"),
    (_at(-3, 9), Severity.WARNING, ReasonCode.PAPER_GATE_OVERRIDE, "outside the week"),
    (_at(2, 1), Severity.WARNING, ReasonCode.DAILY_DRAWDOWN, "daily drawdown 3.1 R"),
)
VETO_AT = _at(2, 10)


def write_state(config: dict[str, Any]) -> None:
    store = StateStore(state_path(config))
    sink = EventSink(store)
    for when, severity, code, message in EVENTS:
        sink.emit(OperatorEvent(when, severity, code, message))
    record_override(store, {"kind": "paper_gate", "time": _at(1, 7).isoformat(),
                            "who": "alice", "why": "ramp test with 40 trades",
                            "record": {"closed_trades": 40}})
    store.put(GO_ANSWERS, "a1", AnswerRecord(
        "r1", "SOL/USDT:USDT", "long", 520.0, "go", "telegram:42", "telegram", _at(3, 8, 55),
        True, ReasonCode.HUMAN_GO_GRANTED).to_json())
    store.close()
    decisions = DecisionStore(Path(config["user_data_dir"]) / "llm" / "decisions.sqlite",
                              lambda: VETO_AT)
    decisions.record_decisions([
        DecisionRecord("live", "veto", "live", BTC, "long", VETO_AT, "k1", False, "LLM_SKIP",
                       1.0, "call", 120.0, "headline risk"),
        DecisionRecord("live", "veto", "live", BTC, "long", VETO_AT + timedelta(hours=1), "k2",
                       True, "LLM_PROCEED", 1.0, "call", 90.0, "fine"),
        DecisionRecord("bt", "veto", "record", BTC, "long", VETO_AT, "k3", False, "LLM_SKIP",
                       1.0, "call", 90.0, "a backtest's record: not the bot's"),
    ])
    decisions.close()


def bot_config(folder: Path) -> dict[str, Any]:
    return {"dry_run": True, "dry_run_wallet": 1000, "stake_currency": "USDT",
            "timeframe": "5m", "trading_mode": "futures", "exchange": {"name": "binance"},
            "user_data_dir": str(folder / "user_data"), "datadir": str(BINANCE_DATA),
            "db_url": f"sqlite:///{folder / 'bot.sqlite'}", "centaur": {}}


def write_bot_records(folder: Path) -> dict[str, Any]:
    """A bot's records: freqtrade's database, fills log, state store, LLM record."""
    config = bot_config(folder)
    write_freqtrade_db(config["db_url"])
    write_fills(trading_config(config))
    write_state(trading_config(config))
    return config


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> dict[str, Any]:
    return write_bot_records(tmp_path_factory.mktemp("bot"))


@pytest.fixture(scope="module")
def written(bot, tmp_path_factory) -> tuple[dict[str, Any], list[Path]]:
    folder = tmp_path_factory.mktemp("report")
    config_file = folder / "config.json"
    config_file.write_text(json.dumps(bot))
    args = parse_args(["--config", str(config_file), "--end", WEEK_END.isoformat(),
                       "--out", str(folder / "weekly")])
    return run(args, WEEK_END + timedelta(hours=1))


# --- KPIs by hand ----------------------------------------------------------------------------

def _hand_equity() -> list[float]:
    profit = {t[0]: _profit(t[3], t[6], t[7], t[8]) for t in TRADES}
    opening = 1000 + profit[1]
    by_day = [0.0] * 7
    for trade_id, *_, closed, _o, _c, _a in TRADES[1:]:
        by_day[(closed - DAY).days] += profit[trade_id]
    return [opening] + list(opening + np.cumsum(by_day))


def test_kpis_match_the_hand_computed_week(written):
    report, _ = written
    k = report["kpis"]
    week = [_profit(t[3], t[6], t[7], t[8]) for t in TRADES[1:]]
    assert k["closed_trades"] == 4 and (k["wins"], k["losses"]) == (2, 2)
    assert k["pnl_usd"] == pytest.approx(round(sum(week), 2))
    assert k["pnl_usd"] == pytest.approx(13.78, abs=0.005)
    equity = _hand_equity()
    assert [row["equity_usd"] for row in report["equity"]] == pytest.approx(equity, abs=0.01)
    # the deepest fall: trade 3's loss from the peak after trade 2
    assert k["max_drawdown_ratio"] == pytest.approx(15.3075 / 1029.685, abs=1e-6)
    returns = np.diff(equity) / np.array(equity[:-1])
    sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(365)
    assert k["daily_sharpe"] == pytest.approx(sharpe, abs=1e-3)
    assert k["fees_usd"] == pytest.approx(FEE * sum(t[8] * (t[6] + t[7]) for t in TRADES[1:]),
                                          abs=0.005)


def test_attribution_extremes_and_slippage(written):
    report, _ = written
    by_tag = {row["enter_tag"]: row for row in report["attribution"]}
    assert set(by_tag) == {"trend", "meanrev", "breakout"}
    assert by_tag["trend"]["trades"] == 2
    assert by_tag["trend"]["pnl_usd"] == pytest.approx(19.79 + 19.49, abs=0.01)
    assert [w["id"] for w in report["winners"]] == [2, 4]
    assert [w["id"] for w in report["losers"]] == [3, 5]
    venues = {row["venue"]: row for row in report["slippage_by_venue"]}
    assert set(venues) == {"binance", "bybit", "okx"}
    assert venues["bybit"]["slippage_bps"] == pytest.approx(6.0, abs=1e-3)  # 50.03 vs 50.00
    assert venues["okx"]["slippage_bps"] == pytest.approx((1 - 189.9 / 190) * 1e4, abs=1e-3)


def test_vetoes_are_priced_from_the_candles_of_the_datadir(written):
    vetoes = written[0]["vetoes"]
    assert vetoes["decisions_by_reason"] == {"LLM_SKIP": 1, "LLM_PROCEED": 1}
    [vetoed] = vetoes["vetoed"]
    assert vetoed["reason_code"] == "LLM_SKIP" and vetoed["detail"] == "headline risk"
    # by hand: the 5m candle opening at the veto, the close of the last candle before the
    # median holding time (6 h, 24 h, 12 h, 22 h -> 17 h) has passed
    candles = pd.read_feather(BINANCE_DATA / "futures" / "BTC_USDT_USDT-5m-futures.feather")
    entry = candles.loc[candles["date"] == VETO_AT, "open"].item()
    close = candles.loc[candles["date"] == VETO_AT + timedelta(hours=17, minutes=-5),
                        "close"].item()
    outcome = vetoed["counterfactual"]
    assert vetoes["horizon_hours"] == 17.0
    assert outcome["entry_price"] == entry and outcome["exit_price"] == close
    assert outcome["return_ratio"] == pytest.approx(close / entry - 1 - 2 * FEE, abs=1e-6)
    median_notional = float(np.median([t[6] * t[8] for t in TRADES[1:]]))
    assert outcome["would_be_profit_usd"] == pytest.approx(
        outcome["return_ratio"] * median_notional, abs=0.01)


def test_halts_and_manual_overrides_with_their_reasons(written):
    report, _ = written
    assert [h["code"] for h in report["halts"]] == ["DAILY_DRAWDOWN", "KILL_SWITCH"]
    codes = [(o["source"], o["code"]) for o in report["overrides"]]
    assert codes == [("overrides", "paper_gate"), ("human_go", "HUMAN_GO_GRANTED"),
                     ("events", "KILL_SWITCH"), ("events", "OPERATOR_RESUME")]
    paper, go = report["overrides"][:2]
    assert "who: alice" in paper["message"] and "why: ramp test with 40 trades" in \
        paper["message"]
    assert "by: telegram:42" in go["message"] and go["pair"] == "SOL/USDT:USDT"


def test_files_and_pdf_pages_render_non_blank(written, tmp_path):
    report, files = written
    assert sorted(p.suffix for p in files) == [".html", ".json", ".md", ".pdf"]
    page_html = next(p for p in files if p.suffix == ".html").read_text()
    assert page_html.count("data:image/png;base64,") == 3 and "headline risk" in page_html
    stored = json.loads(next(p for p in files if p.suffix == ".json").read_text())
    assert stored["kpis"]["closed_trades"] == 4
    pdf = next(p for p in files if p.suffix == ".pdf")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 8  # KPIs and plots, then one page per table
    for page in pages:
        pixels = matplotlib.image.imread(page)
        assert pixels.shape[0] > 200 and float(pixels[..., :3].var()) > 1e-3, page.name
    first = matplotlib.image.imread(pages[0])[..., :3]
    assert float((first.sum(axis=2) < 2.9).mean()) > 0.03  # plots drawn, not just a title


# --- sources and options ---------------------------------------------------------------------

def test_pairs_narrow_every_source(bot):
    records = read_records(bot, pairs=[BTC])
    assert {t["pair"] for t in records.trades} == {BTC}
    assert {f["pair"] for f in records.fills} == {BTC}
    assert len(records.vetoes) == 2  # the bot's two; the backtest's record is left out


def test_no_database_is_one_error_naming_the_url_and_the_fix(tmp_path, capsys):
    config = bot_config(tmp_path)
    with pytest.raises(MissingDatabase, match="freqtrade trade -c config/dry-run.json"):
        read_records(config)
    config_file = tmp_path / "c.json"
    config_file.write_text(json.dumps(config))
    assert main(["--config", str(config_file), "--out", str(tmp_path / "w")]) == 2
    assert config["db_url"] in capsys.readouterr().err


def test_a_database_password_is_masked_in_every_file(bot, tmp_path):
    url = "postgresql+psycopg2://centaur:S3CRET-DB-PASSWORD@db.internal:5432/trades"
    window = window_for(WEEK_END, WEEK_END)
    records = replace(read_records(bot), db_url=url)
    report = build_report(records, window, WEEK_END)
    assert report["db_url"] == "postgresql+psycopg2://centaur:*****@db.internal:5432/trades"
    files = write_all({**report, "db_url": url}, tmp_path / "weekly")  # masked when drawn too
    for path in files:
        assert b"S3CRET-DB-PASSWORD" not in path.read_bytes(), path.name
    assert "centaur:*****@db.internal" in (tmp_path / "weekly.md").read_text()


def test_window_is_the_seven_days_to_end_or_a_timerange():
    now = datetime(2026, 2, 18, 15, tzinfo=UTC)
    assert window_for(now).start == now - timedelta(days=7)
    window = window_for(now, timerange="20260201-20260210")
    assert (window.start, window.end) == (datetime(2026, 2, 1, tzinfo=UTC),
                                          datetime(2026, 2, 10, tzinfo=UTC))
    assert window_for(now, timerange="20260201-").end == now
    with pytest.raises(ValueError, match="--timerange"):
        window_for(now, timerange="20260210-20260201")


# --- the scheduled Telegram document ---------------------------------------------------------

def test_due_week_is_the_last_passed_monday_not_yet_sent():
    monday = datetime(2026, 2, 16, tzinfo=UTC)
    assert due_week(monday - timedelta(minutes=1), (monday - timedelta(days=7)).isoformat()
                    ) is None
    assert due_week(monday, (monday - timedelta(days=7)).isoformat()) == monday
    assert due_week(monday + timedelta(days=3), monday.isoformat()) is None
    assert due_week(monday, None) is None  # no baseline yet: the first run only records one


@dataclass
class Host:
    """What the part uses of the strategy (a hand-written stub of ``TowerHost``)."""

    config: dict[str, Any]
    centaur: CentaurSettings
    centaur_state: StateStore
    events: EventSink
    interventions: Any = None
    dp: Any = None
    wallets: Any = None
    trading: bool = True

    def centaur_status(self) -> dict[str, Any]:
        return {}


class FlakyOnce:
    """Fails the first send (a network error), then hands over to the real sender."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def __call__(self, path, caption):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("network unreachable")
        self.real(path, caption)


def _host(bot: dict[str, Any], api_url: str, store: StateStore) -> Host:
    config = {**bot, "runmode": "dry_run",
              "telegram": {"enabled": True, "token": "123:weekly", "chat_id": "4242"},
              "centaur": {"telegram": {"base_url": api_url},
                          "weekly_report": {"send_telegram": True, "retry_secs": 0}}}
    return Host(config, settings_from(config), store, EventSink(store))


def test_the_part_sends_the_pdf_once_a_week_and_not_again_after_a_restart(bot, tmp_path):
    api, stop = start_fake_bot_api("123:weekly")
    try:
        store = StateStore(str(tmp_path / "tower.sqlite"))
        host = _host(bot, api.url, store)
        part = weekly_report_part(host)
        flaky = FlakyOnce(part._send)
        part._send = flaky
        part.on_loop(datetime(2026, 2, 15, 23, tzinfo=UTC))  # Sunday: the baseline only
        part.on_loop(WEEK_END + timedelta(minutes=1))  # Monday: due, the send fails
        assert part.wait(120)
        assert api.documents == [] and store.get(NAMESPACE, "last_week_end") == \
            (WEEK_END - timedelta(days=7)).isoformat()
        part.on_loop(WEEK_END + timedelta(minutes=2))  # retried: sent
        assert part.wait(60)
        part.on_loop(WEEK_END + timedelta(minutes=3))
        assert part.wait(60) and len(api.documents) == 1
        document = api.documents[0]
        assert document["chat_id"] == 4242 and document["filename"] == "weekly-2026-02-16.pdf"
        assert document["content"].startswith(b"%PDF") and "4 trades" in document["caption"]
        restarted = weekly_report_part(host)
        restarted.on_loop(WEEK_END + timedelta(hours=5))
        assert restarted.wait(60) and len(api.documents) == 1
        restarted.on_loop(WEEK_END + timedelta(days=7, minutes=1))  # the next Monday
        assert restarted.wait(120) and len(api.documents) == 2 and api.documents[1]["filename"] == \
            "weekly-2026-02-23.pdf"
        codes = [(e["severity"], e["code"]) for e in host.events.recent(10)]
        assert codes == [("warning", "WEEKLY_REPORT"), ("info", "WEEKLY_REPORT"),
                         ("info", "WEEKLY_REPORT")]
    finally:
        stop()


def test_the_part_is_off_by_default_and_needs_the_telegram_block(bot, tmp_path):
    store = StateStore(str(tmp_path / "tower.sqlite"))
    assert weekly_report_part(Host(bot, settings_from(bot), store, EventSink(store))) is None
    host = _host(bot, "http://127.0.0.1:9", store)
    host.config["telegram"] = {"enabled": False}
    from centaur.settings import CentaurConfigError

    with pytest.raises(CentaurConfigError, match="FREQTRADE__TELEGRAM__TOKEN"):
        weekly_report_part(host)


class SlowBuild:
    """A build that runs until released (the database, the candles, matplotlib)."""

    def __init__(self, pdf: Path):
        self.pdf, self.calls = pdf, 0
        self.running, self.release, self.done = (threading.Event(), threading.Event(),
                                                 threading.Event())

    def __call__(self, week: datetime, now: datetime) -> tuple[Path, str]:
        self.calls += 1
        self.running.set()
        self.release.wait(5)
        self.done.set()
        return self.pdf, "4 trades"


def test_the_bot_loop_only_starts_the_job_one_at_a_time(tmp_path):
    pdf = tmp_path / "weekly.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    store = StateStore()
    store.put(NAMESPACE, "last_week_end", (WEEK_END - timedelta(days=7)).isoformat())
    build, sent = SlowBuild(pdf), []
    part = WeeklyReportPart(store, EventSink(store), build,
                            lambda path, caption: sent.append(path.name), retry_secs=0)
    part.on_loop(WEEK_END + timedelta(minutes=1))  # due: the job starts, the loop goes on
    assert build.running.wait(5) and not build.done.is_set()
    part.on_loop(WEEK_END + timedelta(minutes=2))  # still running: no second job
    assert part.status(WEEK_END)["running"] and build.calls == 1
    assert store.get(NAMESPACE, "last_week_end") == (WEEK_END - timedelta(days=7)).isoformat()
    build.release.set()
    part.stop()  # waits for the job
    assert sent == ["weekly.pdf"] and build.calls == 1
    assert store.get(NAMESPACE, "last_week_end") == WEEK_END.isoformat()
    assert not part.status(WEEK_END)["running"]


def test_a_failed_send_tells_no_token(bot, tmp_path):
    token = "777:WEEKLY-LEAK-TOKEN"
    pdf = tmp_path / "weekly.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    store = StateStore()
    host = _host(bot, f"http://127.0.0.1:{free_port()}", store)  # nobody listens there
    host.config["telegram"]["token"] = token
    part = weekly_report_part(host)
    part._build = lambda week, now: (pdf, "4 trades")  # the sender under test, not the build
    part.on_loop(datetime(2026, 2, 15, 23, tzinfo=UTC))
    part.on_loop(WEEK_END + timedelta(minutes=1))
    assert part.wait(30)
    (warning,) = [e for e in host.events.recent() if e["code"] == "WEEKLY_REPORT"]
    status = json.dumps(part.status(WEEK_END))
    assert "ConnectionError" in warning["message"] and "ConnectionError" in status
    for text in (warning["message"], status):
        assert "WEEKLY-LEAK-TOKEN" not in text and "/bot" not in text
