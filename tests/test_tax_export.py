"""The tax export on a real freqtrade database, fills log and hedge-legs store: one Koinly
universal-CSV row per fill (routed orders by their venue fills), both legs of the carry, fees,
and totals that reconcile with freqtrade's trade profit."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from centaur.state import StateStore
from control_tower.tax_export import COLUMNS, COST, MARGIN_FEE, REALIZED, export, main, trade_rows
from control_tower.weekly_sources import read_records, trading_config
from sor_exchange.hedge_leg import legs_file_name
from sor_exchange.hedge_records import HedgeLegStore, HedgeRequest, HedgeResult, LegRecord
from tests.test_weekly_report import FEE, FILLS, TRADES, write_bot_records

HEDGE_AT = datetime(2026, 2, 12, 9, tzinfo=UTC)


def write_hedge_legs(config) -> None:
    """Trade 4's spot hedge: bought at its open (commission in the base asset), sold later."""
    config = trading_config(config)
    path = Path(config["user_data_dir"]) / legs_file_name(config)
    legs = HedgeLegStore(StateStore(str(path)))
    for action, price, fee_base, fee_quote, at in (
            ("open", 50.02, 0.01, 0.5002, HEDGE_AT),
            ("close", 51.98, 0.0, 0.5198, HEDGE_AT + timedelta(hours=12))):
        request = HedgeRequest(4, "SOL/USDT:USDT", action, 10.0, price)
        result = HedgeResult(request, f"carry-4-{action}", "filled", 10.0, price, fee_quote, "",
                             fee_base=fee_base)
        legs.put(request, LegRecord("filled", result.client_order_id, 10.0,
                                    int(at.timestamp() * 1000), result))


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    config = write_bot_records(tmp_path_factory.mktemp("taxbot"))
    write_hedge_legs(config)
    return config


@pytest.fixture(scope="module")
def records(bot):
    return read_records(bot)


def test_one_row_per_fill_on_every_venue_and_both_legs(records):
    rows = export(records).rows
    routed = {parent for parent, *_ in FILLS}
    orders = 2 * len(TRADES) - len(routed)  # routed orders are replaced by their fills
    assert len(rows) == orders + len(FILLS) + 2  # + the hedge's open and close
    venues = {r.description.rsplit(" on ", 1)[-1] for r in rows if "perp" in r.description}
    assert venues == {"binance", "bybit", "okx"}
    assert len({r.tx for r in rows}) == len(rows)
    assert [r.time for r in rows] == sorted(r.time for r in rows)


def test_perp_fills_are_fees_and_realized_pnl(records):
    rows = [r for r in export(records).rows if r.trade_id == 2]
    entry, exit_ = rows
    assert (entry.label, entry.sent, entry.sent_currency) == (COST, pytest.approx(0.1), "USDT")
    assert (exit_.label, exit_.received, exit_.received_currency) == (REALIZED, 20.0, "USDT")
    assert exit_.fee == pytest.approx(2 * 110 * FEE) and exit_.fee_currency == "USDT"
    short_exit = [r for r in export(records).rows if r.trade_id == 3][-1]
    assert short_exit.sent == pytest.approx(15.0) and short_exit.received == 0  # a loss


def test_totals_reconcile_with_freqtrades_trade_profit(records):
    rows = export(records).rows
    profit = {t["id"]: t["close_profit_abs"] for t in records.trades}
    for trade_id in (1, 2, 3):  # not routed: freqtrade's own fills and fee ratio
        net = sum(r.net_quote for r in rows if r.trade_id == trade_id)
        assert net == pytest.approx(profit[trade_id], abs=1e-9)
    # trade 4's entry was routed: its venues' prices and fees, by hand
    entry_cost = 50.01 * 6 + 50.03 * 4
    by_hand = 52.0 * 10 - entry_cost - FEE * entry_cost - FEE * 52.0 * 10
    perp = [r for r in rows if r.trade_id == 4 and "perp" in r.description]
    assert sum(r.net_quote for r in perp) == pytest.approx(by_hand, abs=1e-9)


def test_the_spot_hedge_legs_are_trades_with_their_fees(records):
    opened, closed = [r for r in export(records).rows if "spot hedge" in r.description]
    assert (opened.sent, opened.sent_currency) == (pytest.approx(500.2), "USDT")
    assert (opened.received, opened.received_currency) == (10.0, "SOL")
    assert (opened.fee, opened.fee_currency, opened.label) == (0.01, "SOL", "")
    assert (closed.sent, closed.sent_currency) == (10.0, "SOL")
    assert (closed.received, closed.fee, closed.fee_currency) == (
        pytest.approx(519.8), 0.5198, "USDT")


def test_funding_rows_by_sign():
    trade = {"id": 9, "pair": "BTC/USDT:USDT", "is_short": True, "is_open": False,
             "exchange": "binance", "stake_currency": "USDT", "fee_open": 0.0,
             "fee_close": 0.0, "close_date": HEDGE_AT}
    [paid] = trade_rows({**trade, "funding_fees": -1.5}, [], {})
    assert (paid.label, paid.sent, paid.net_quote) == (MARGIN_FEE, 1.5, -1.5)
    [received] = trade_rows({**trade, "funding_fees": 2.0}, [], {})
    assert (received.label, received.received) == (REALIZED, 2.0)


def test_the_csv_has_koinlys_universal_columns_and_a_timerange(bot, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(bot))
    out = tmp_path / "tax.csv"
    assert main(["--config", str(config_file), "--out", str(out),
                 "--timerange", "20260212-20260213"]) == 0
    with out.open() as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert rows and all(r["Date"].startswith("2026-02-12") and r["Date"].endswith(" UTC")
                        for r in rows)
    assert {r["Label"] for r in rows} == {COST, REALIZED, ""}
    assert all(float(r["Fee Amount"] or 0) >= 0 and float(r["Sent Amount"] or 0) >= 0
               for r in rows)
