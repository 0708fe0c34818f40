"""The metrics endpoint's series, read from a host as the bot has it, and the Grafana dashboard
that queries them.

The host is a stand-in for the strategy with the suite's real collaborators: the state store
holding a risk state, the event sink, freqtrade's trades in an in-memory database, the
router's fills log, the exchange-failure record and the LLM decision store. The series are
read back through Prometheus' text format and prometheus_client's parser.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.persistence import Order, Trade, init_db
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from centaur.decision import ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.exchange_health import HEALTH
from centaur.settings import settings_from
from centaur.state import StateStore
from control_tower.metrics import MetricsPart, freqtrade_trades, host_sources, metrics_part
from control_tower.metrics_collector import daily_sharpe, trade_families
from llm_layer.store import CallRecord, DecisionStore
from risk_protections import trading_state as ts
from risk_protections.daily_drawdown import DayAnchor
from risk_protections.dynamic_leverage import LeverageState
from risk_protections.engine import STATE_KEY, STATE_NS
from sor_exchange.fills_log import Fill, FillsLog
from tests.support.paths import PROJECT_ROOT

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
ETH, BTC = "ETH/USDT:USDT", "BTC/USDT:USDT"
DASHBOARD = PROJECT_ROOT / "dashboards" / "centaur-grafana.json"


class FakeDataProvider:
    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames

    def current_whitelist(self) -> list[str]:
        return list(self.frames)

    def get_analyzed_dataframe(self, pair: str, timeframe: str):
        return self.frames[pair], NOW


class FakeWallets:
    def get_starting_balance(self) -> float:
        return 10_000.0


class FakeHost:
    """The strategy as a part sees it (``TowerHost``)."""

    def __init__(self, tmp_path: Path, status: dict):
        self.config = {"exchange": {"name": "binance"}, "timeframe": "5m",
                       "stake_currency": "USDT", "user_data_dir": str(tmp_path),
                       "centaur": {"metrics": {"enabled": True, "listen_port": 1},
                                   "llm": {"mode": "live",
                                           "store_path": str(tmp_path / "llm.sqlite")}}}
        self.centaur = settings_from(self.config)
        self.centaur_state = StateStore()
        self.events = EventSink(self.centaur_state)
        self.interventions = None
        self.dp = FakeDataProvider({
            ETH: pd.DataFrame({"close": [2000.0, 1900.0], "funding_rate": [0.0001, 0.0003]}),
            BTC: pd.DataFrame({"close": [60_000.0], "funding_rate": [-0.0002]})})
        self.wallets = FakeWallets()
        self.trading = True
        self._status = status

    def centaur_status(self) -> dict:
        return self._status


STATUS = {
    "trading_state": "HALTED", "equity_usd": 9_900.0, "peak_equity_usd": 11_000.0,
    "signals": {"basis": {"status": "live", "weight": 0.04, "excess_hit_rate": 0.1},
                "squeeze": {"status": "retired", "weight": 0.0, "excess_hit_rate": -0.05}},
    "denials": {"DRIFT_BLOCK": 3, "CAP_TOTAL": 1},
    "llm_veto": {"decisions": {"LLM_SKIP": 2, "LLM_PROCEED": 5}, "in_flight": 1},
}


def _risk_state() -> ts.RiskState:
    return ts.RiskState(
        halts=(ts.Halt(ReasonCode.KILL_SWITCH, NOW - timedelta(hours=1), None, "operator",
                       True),
               ts.Halt(ReasonCode.EXCHANGE_ERROR_RATE, NOW - timedelta(hours=3),
                       NOW - timedelta(hours=2), "ended", False)),
        day=DayAnchor(NOW.date(), 10_000.0, first_trade_risk_usd=50.0),
        peak_equity_usd=11_000.0,
        leverage={ETH: LeverageState(3.0, NOW - timedelta(hours=2))})


def _trade(pair, opened, *, short=False, closed_profit=None, tag="ens", funding=0.0):
    closed = closed_profit is not None
    return Trade(pair=pair, exchange="binance", strategy="CentaurEnsemble", is_short=short,
                 trading_mode="futures", leverage=2.0, stake_amount=100.0, amount=0.1,
                 open_rate=2000.0, open_date=opened, fee_open=0.0, fee_close=0.0,
                 is_open=not closed, enter_tag=tag, funding_fees=funding,
                 close_rate=2000.0 + (closed_profit or 0) / 0.1 if closed else None,
                 close_date=opened + timedelta(hours=1) if closed else None,
                 close_profit_abs=closed_profit,
                 close_profit=(closed_profit or 0) / 100.0 if closed else None)


@pytest.fixture
def trades_db():
    init_db("sqlite://")
    session = Trade.session
    session.add(_trade(ETH, NOW - timedelta(hours=5), short=True, funding=-1.5))
    for day, profit, tag in ((1, 30.0, "ens"), (2, -10.0, "ens"), (3, 20.0, "force_entry")):
        session.add(_trade(BTC, NOW - timedelta(days=day), closed_profit=profit, tag=tag,
                           funding=0.5))
    session.commit()
    yield
    Trade.session.remove()


@pytest.fixture
def part(tmp_path, trades_db):
    host = FakeHost(tmp_path, STATUS)
    host.centaur_state.put(STATE_NS, STATE_KEY, ts.to_json(_risk_state()))
    fills = FillsLog("sqlite://")
    fills.record(Fill("p1", "CentaurEnsemble", ETH, "buy", "bybit", "c1", "v1", price=100.1,
                      amount=2.0, fee_quote=0.1, fee_estimated=False, arrival_mid=100.0,
                      dry_run=True), NOW)
    HEALTH.clear()
    HEALTH.record_error(NOW - timedelta(hours=1), "create_order: ExchangeError: before")
    part = MetricsPart(host, host_sources(host, fills), lambda: NOW, fills)
    part.host = host  # the tests emit through it
    yield part
    part.stop()
    HEALTH.clear()


def scrape(part: MetricsPart) -> dict[str, dict[tuple, float]]:
    """sample name -> {sorted label items: value}, through the text format."""
    found: dict[str, dict[tuple, float]] = {}
    text = generate_latest(part.registry).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = \
                sample.value
    return found


def one(series: dict[str, dict[tuple, float]], name: str, **labels) -> float:
    return series[name][tuple(sorted(labels.items()))]


def test_equity_drawdown_in_r_trading_state_halts_and_leverage(part):
    s = scrape(part)
    assert one(s, "centaur_equity_usd") == 9_900.0
    assert one(s, "centaur_drawdown_ratio") == pytest.approx(1 - 9_900 / 11_000)
    assert one(s, "centaur_daily_loss_usd") == 100.0
    assert one(s, "centaur_daily_r_usd") == 50.0  # first trade's risk, above the 0.25 % floor
    assert one(s, "centaur_daily_drawdown_r") == 2.0
    assert one(s, "centaur_daily_loss_limit_usd") == 150.0  # 3 R binds before 5 % of equity
    assert one(s, "centaur_daily_loss_limit_r") == 3.0
    assert one(s, "centaur_daily_return_ratio") == pytest.approx(-0.01)
    assert one(s, "centaur_trading_state", state="HALTED") == 1.0
    assert one(s, "centaur_trading_state", state="ACTIVE") == 0.0
    assert one(s, "centaur_trading_state", state="UNKNOWN") == 0.0
    assert one(s, "centaur_risk_state_readable") == 1.0
    assert one(s, "centaur_halt_active", reason="KILL_SWITCH") == 1.0
    assert one(s, "centaur_halt_active", reason="EXCHANGE_ERROR_RATE") == 0.0  # ended
    assert one(s, "centaur_halt_active", reason="DAILY_DRAWDOWN") == 0.0
    assert one(s, "centaur_leverage_ratio", pair=ETH) == 3.0


def test_signals_denials_and_veto_decisions_from_the_status_view(part):
    s = scrape(part)
    assert one(s, "centaur_signal_weight", signal="basis") == 0.04
    assert one(s, "centaur_signal_status", signal="squeeze", status="retired") == 1.0
    assert one(s, "centaur_signal_status", signal="squeeze", status="live") == 0.0
    assert one(s, "centaur_entry_denials_total", reason="DRIFT_BLOCK") == 3
    assert one(s, "centaur_veto_decisions_total", reason="LLM_SKIP") == 2
    assert one(s, "centaur_llm_in_flight") == 1


def test_open_pnl_closed_trades_per_tag_funding_and_sharpe(part):
    s = scrape(part)
    assert one(s, "centaur_open_trades") == 1
    # short 0.1 ETH from 2000 at the last close 1900: +10 USD, less 1.5 USD funding paid
    assert one(s, "centaur_open_pnl_usd", pair=ETH) == pytest.approx(8.5)
    assert one(s, "centaur_position_notional_usd", pair=ETH, side="short") == 200.0
    assert one(s, "centaur_position_leverage_ratio", pair=ETH) == 2.0
    assert one(s, "centaur_closed_trades_total", enter_tag="ens") == 2
    assert one(s, "centaur_winning_trades_total", enter_tag="ens") == 1
    assert one(s, "centaur_realized_pnl_usd", enter_tag="force_entry") == pytest.approx(20.0)
    assert one(s, "centaur_funding_paid_usd", pair=ETH) == 1.5
    assert one(s, "centaur_funding_received_usd", pair=BTC) == pytest.approx(1.5)
    assert one(s, "centaur_funding_rate_ratio", pair=ETH) == 0.0003
    closed = Trade.get_trades_proxy(is_open=False)
    assert one(s, "centaur_sharpe_30d_ratio") == pytest.approx(daily_sharpe(closed, NOW, 1e4))


def test_a_trade_closed_during_a_scrape_is_read_either_open_or_closed(tmp_path, monkeypatch):
    """The bot closes a trade (its own session, its own thread) while a scrape reads the book.
    Two reads (open, then closed) put the same row in both lists with the first read's
    attributes - a "closed" trade without a close date, which failed the trades section."""
    init_db(f"sqlite:///{tmp_path / 'trades.sqlite'}")
    Trade.session.add(_trade(ETH, NOW - timedelta(hours=5), short=True))
    Trade.session.commit()
    Trade.session.remove()

    read = Trade.get_trades_proxy

    def bot_closes_the_trade():
        trade = read(is_open=True)[0]
        trade.close_rate, trade.close_date, trade.is_open = 1900.0, NOW, False
        trade.close_profit_abs, trade.close_profit = 10.0, 0.1
        Trade.session.commit()
        Trade.session.remove()

    def read_then_the_bot_commits(**filters):
        found = read(**filters)
        if read(is_open=True):  # the first read only
            bot = threading.Thread(target=bot_closes_the_trade)
            bot.start()
            bot.join()
        return found

    monkeypatch.setattr(Trade, "get_trades_proxy", staticmethod(read_then_the_bot_commits))
    try:
        with freqtrade_trades() as book:
            assert len(book.open) + len(book.closed) == 1
            families = {f.name: f for f in trade_families(book, lambda pair: 1900.0, NOW, 1e4)}
            assert families["centaur_open_trades"].samples[0].value == len(book.open)
    finally:
        Trade.session.remove()


def test_daily_sharpe_counts_days_without_trades_as_flat():
    class Closed:
        def __init__(self, day, profit):
            self.close_date_utc, self.close_profit_abs = NOW - timedelta(days=day), profit

    returns = [0.0] * 30
    returns[29 - 1], returns[29 - 2] = 0.003, -0.001
    mean = sum(returns) / 30
    std = (sum((r - mean) ** 2 for r in returns) / 29) ** 0.5
    trades = [Closed(1, 30.0), Closed(2, -10.0), Closed(40, 999.0)]  # 40 days ago: outside
    assert daily_sharpe(trades, NOW, 10_000.0) == pytest.approx(mean / std * 365 ** 0.5)
    assert daily_sharpe([], NOW, 10_000.0) is None


def test_router_slippage_against_the_arrival_mid_per_venue(part):
    s = scrape(part)
    assert one(s, "centaur_router_fills_total", venue="bybit") == 1
    assert one(s, "centaur_router_slippage_bps", venue="bybit") == pytest.approx(10.0)
    assert one(s, "centaur_router_filled_notional_usd_total", venue="bybit") == \
        pytest.approx(200.2)
    assert one(s, "centaur_router_slippage_cost_usd", venue="bybit") == pytest.approx(0.2002)


def feed_counters(part: MetricsPart, host: FakeHost, tmp_path: Path) -> None:
    """One of each: events, exchange failures, an LLM call, a fill; then two bot loops."""
    host.events.emit(OperatorEvent(NOW, Severity.WARNING, ReasonCode.DRIFT_BLOCK, "psi",
                                   pair=ETH))
    host.events.emit(OperatorEvent(NOW, Severity.WARNING, ReasonCode.SIGNAL_RETIRED, "bad",
                                   data={"signal": "squeeze"}))
    HEALTH.record_error(NOW, "fetch_order: TemporaryError: timeout")
    HEALTH.record_error(NOW, "create_order: ExchangeError: rejected")
    HEALTH.record_call("binance", "create_order", 0.25, failed=True)
    HEALTH.record_call("binance", "fetch_order", 0.05, failed=False)
    store = DecisionStore(tmp_path / "llm.sqlite", lambda: NOW)
    store.record_call(CallRecord("k", "veto", "m", "{}", None, None, None, "LLM_PROCEED",
                                 latency_ms=1200.0))
    store.close()
    trade = Trade.get_trades_proxy(is_open=True)[0]
    order = Order(ft_trade_id=trade.id, ft_order_side="sell", ft_pair=ETH, ft_is_open=False,
                  order_id="o1", status="closed", amount=0.1, filled=0.1, average=2000.0,
                  price=2000.0, order_type="limit", side="sell")
    part.on_fill(trade, order, NOW)
    part.on_loop(NOW)
    part.on_loop(NOW + timedelta(seconds=5))  # nothing new: nothing counted twice


def test_events_fills_exchange_errors_and_llm_calls_are_counted_once(part, tmp_path):
    feed_counters(part, part.host, tmp_path)
    s = scrape(part)
    assert one(s, "centaur_events_total", code="DRIFT_BLOCK", severity="warning") == 1
    assert one(s, "centaur_drift_blocks_total", pair=ETH) == 1
    assert one(s, "centaur_signal_retirements_total", signal="squeeze") == 1
    assert one(s, "centaur_exchange_errors_total", request="fetch_order") == 1
    assert one(s, "centaur_exchange_errors_total", request="create_order") == 1  # not "before"
    assert one(s, "centaur_exchange_errors_in_window") == 2  # the last 300 s
    assert one(s, "centaur_exchange_error_limit") == 5
    assert one(s, "centaur_llm_calls_total", kind="veto", reason="LLM_PROCEED") == 1
    assert one(s, "centaur_llm_call_latency_seconds_sum", kind="veto") == 1.2
    assert one(s, "centaur_llm_call_latency_seconds_bucket", kind="veto", le="2.0") == 1
    assert one(s, "centaur_order_fills_total", pair=ETH, side="sell") == 1
    assert one(s, "centaur_order_filled_notional_usd_total", pair=ETH) == 200.0


def test_venue_api_latency_and_error_rate_per_venue_and_method(part, tmp_path):
    feed_counters(part, part.host, tmp_path)
    s = scrape(part)
    assert one(s, "centaur_venue_api_requests_total", venue="binance",
               method="create_order") == 1
    assert one(s, "centaur_venue_api_failures_total", venue="binance",
               method="create_order") == 1
    assert one(s, "centaur_venue_api_failures_total", venue="binance", method="fetch_order") == 0
    assert one(s, "centaur_venue_api_seconds_total", venue="binance",
               method="fetch_order") == pytest.approx(0.05)


def test_a_failing_source_is_counted_and_the_others_still_answer(tmp_path, trades_db):
    host = FakeHost(tmp_path, STATUS)

    def broken():
        raise RuntimeError("status down")

    host.centaur_status = broken
    part = MetricsPart(host, host_sources(host, None), lambda: NOW)
    s = scrape(part)
    assert one(s, "centaur_metrics_errors_total", section="status") == 1
    assert "centaur_equity_usd" not in s
    assert one(s, "centaur_open_trades") == 1
    assert one(s, "centaur_halt_active", reason="KILL_SWITCH") == 0.0  # a fresh risk state
    assert one(s, "centaur_risk_state_readable") == 1.0
    # without the status view the trading state is not known: UNKNOWN, never silence
    assert one(s, "centaur_trading_state", state="UNKNOWN") == 1.0
    assert one(s, "centaur_trading_state", state="ACTIVE") == 0.0


def test_an_unreadable_risk_state_fails_closed_instead_of_going_quiet(tmp_path, trades_db):
    host = FakeHost(tmp_path, STATUS)
    host.centaur_state.put(STATE_NS, STATE_KEY, {"halts": "garbled"})  # RiskStateInvalid
    part = MetricsPart(host, host_sources(host, None), lambda: NOW)
    s = scrape(part)
    assert one(s, "centaur_metrics_errors_total", section="risk") == 1
    assert one(s, "centaur_risk_state_readable") == 0.0
    # an alert on any active halt, or on a state other than ACTIVE, still fires
    assert s["centaur_halt_active"] == {(("reason", "UNKNOWN"),): 1.0}
    assert {dict(k)["state"]: v for k, v in s["centaur_trading_state"].items()} == {
        "ACTIVE": 0.0, "REDUCING": 0.0, "HALTED": 0.0, "UNKNOWN": 1.0}
    assert one(s, "centaur_equity_usd") == 9_900.0  # the other sections still answer


def test_the_factory_is_off_by_default_and_names_the_key_of_a_busy_port(tmp_path):
    host = FakeHost(tmp_path, STATUS)
    host.centaur = settings_from({"centaur": {}})
    assert metrics_part(host) is None
    host.centaur = settings_from({"centaur": {"metrics": {"enabled": True}}})
    host.trading = False
    assert metrics_part(host) is None  # backtests and hyperopt: no endpoint
    host.trading = True
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        host.centaur = settings_from({"centaur": {"metrics": {"enabled": True,
                                                              "listen_port": port}}})
        with pytest.raises(Exception, match="centaur.metrics.listen_port"):
            metrics_part(host)


def test_the_endpoint_serves_the_text_format_until_stopped(part):
    import urllib.request

    part.serve("127.0.0.1", 0)
    url = part.status(NOW)["endpoint"]
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert "centaur_equity_usd 9900.0" in answer.read().decode()
    part.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)


# --- the dashboard -----------------------------------------------------------------------------

_FUNCTION_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset",
                   "bool", "and", "or", "unless", "sum", "avg", "min", "max", "count", "group",
                   "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "inf",
                   "nan"}


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression selects (not its functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    expr = re.sub(r"\$\{?\w+\}?", "", expr)  # Grafana variables
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\b\d+(\.\d+)?(ms|s|m|h|d|w|y|[eE][+-]?\d+)?\b", " ", expr)  # numbers
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[match.end():].lstrip().startswith("(") or match.group(0) in _FUNCTION_WORDS:
            continue  # a function or an aggregation
        names.add(match.group(0))
    return names


def _panels(items: list[dict]) -> list[dict]:
    return [p for item in items for p in (item, *_panels(item.get("panels", [])))]


def test_metric_names_finds_series_and_skips_functions_labels_and_durations():
    expr = ('sum by (pair) (rate(centaur_order_fills_total{side="buy"}[5m])) / '
            'ignoring(side) group_left avg_over_time(centaur_equity_usd[30d:1d] offset 1d) '
            '* 1e4 + histogram_quantile(0.9, sum by (le) (rate(x_bucket[$__rate_interval])))')
    assert metric_names(expr) == {"centaur_order_fills_total", "centaur_equity_usd", "x_bucket"}


def test_every_dashboard_query_names_only_series_the_endpoint_exports(part, tmp_path):
    """The fully populated scrape (every counter fed once) against every panel's PromQL."""
    feed_counters(part, part.host, tmp_path)
    exported = set(scrape(part))
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] not in ("row", "text")]
    assert len(panels) >= 6
    unknown = {}
    for panel in panels:
        exprs = [t["expr"] for t in panel.get("targets", [])]
        assert exprs, f"panel {panel['title']!r} has no query"
        for expr in exprs:
            names = metric_names(expr)
            assert names, f"panel {panel['title']!r}: {expr!r} names no series"
            if names - exported:
                unknown[panel["title"]] = sorted(names - exported)
    assert not unknown, f"series the endpoint does not export: {unknown}"
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("pnl", "sharpe", "hit rate", "slippage", "latency", "funding"):
        assert topic in titles, topic
