"""The tax export on a real freqtrade database, fills log and hedge-legs store: one Koinly
universal-CSV row per fill (routed orders by their venue fills), both legs of the carry, fees,
and totals that reconcile with freqtrade's trade profit; spot trades as acquisitions and
disposals; an exit without its entry refused, naming the trade."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from centaur.state import StateStore
from sqlalchemy import create_engine, text

from control_tower.tax_export import (
    COLUMNS,
    COST,
    MARGIN_FEE,
    REALIZED,
    MissingEntry,
    export,
    main,
    trade_rows,
)
from control_tower.weekly_sources import read_records, trading_config
from sor_exchange.hedge_leg import legs_file_name
from sor_exchange.hedge_records import HedgeLegStore, HedgeRequest, HedgeResult, LegRecord
from tests.test_weekly_report import DAY, FEE, FILLS, TRADES, bot_config, write_bot_records

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
             "fee_close": 0.0, "close_date": HEDGE_AT, "trading_mode": "FUTURES"}
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


# --- spot trades and exits without an entry ----------------------------------------------------

# id, pair, open, close, open rate, close rate, amount (spot: long only)
SPOT_TRADES = ((1, "BTC/USDT", DAY, DAY + timedelta(hours=6), 100.0, 110.0, 2.0),
               (2, "ETH/USDT", DAY + timedelta(hours=1), DAY + timedelta(hours=8), 50.0, 45.0,
                3.0))


def write_spot_db(db_url: str) -> None:
    """Closed spot trades with their entry and exit orders, through freqtrade's persistence."""
    from freqtrade.enums import TradingMode
    from freqtrade.persistence import Order, Trade, init_db

    init_db(db_url)
    for trade_id, pair, opened, closed, open_rate, close_rate, amount in SPOT_TRADES:
        trade = Trade(id=trade_id, pair=pair, base_currency=pair.split("/")[0],
                      stake_currency="USDT", exchange="binance", is_open=True, is_short=False,
                      leverage=1.0, strategy="CentaurEnsembleSpot", open_rate=open_rate,
                      amount=amount, stake_amount=amount * open_rate, open_date=opened,
                      fee_open=FEE, fee_close=FEE, trading_mode=TradingMode.SPOT)
        Trade.session.add(trade)
        for name, when, price, side in (("entry", opened, open_rate, "buy"),
                                        ("exit", closed, close_rate, "sell")):
            order = Order(ft_order_side=side, ft_pair=pair, ft_is_open=False, ft_amount=amount,
                          ft_price=price, order_id=f"{trade_id}-{name}", status="closed",
                          symbol=pair, order_type="limit", side=side, price=price,
                          average=price, amount=amount, filled=amount, remaining=0.0,
                          cost=amount * price, order_date=when, order_filled_date=when)
            trade.orders.append(order)
            trade.update_trade(order)
        Trade.commit()
    Trade.session.remove()


@pytest.fixture(scope="module")
def spot_bot(tmp_path_factory):
    config = {**bot_config(tmp_path_factory.mktemp("spotbot")), "trading_mode": "spot"}
    write_spot_db(config["db_url"])
    return config


def test_spot_trades_are_acquisitions_and_disposals(spot_bot):
    records = read_records(spot_bot)
    assert {t["trading_mode"] for t in records.trades} == {"SPOT"}  # as freqtrade stores it
    rows = export(records).rows
    buy, sell = [r for r in rows if r.trade_id == 1]
    assert (buy.sent, buy.sent_currency, buy.received, buy.received_currency) == (
        200.0, "USDT", 2.0, "BTC")
    assert (buy.fee, buy.fee_currency, buy.label) == (pytest.approx(200 * FEE), "USDT", "")
    assert (sell.sent, sell.sent_currency, sell.received, sell.received_currency) == (
        2.0, "BTC", pytest.approx(220.0), "USDT")
    assert (sell.fee, sell.fee_currency, sell.label) == (pytest.approx(220 * FEE), "USDT", "")
    assert all(r.label == "" for r in rows)  # trades: no realized-gain or cost rows
    for trade in records.trades:  # the quote side reconciles, the base side nets to zero
        own = [r for r in rows if r.trade_id == trade["id"]]
        quote = sum((r.received if r.received_currency == "USDT" else 0.0)
                    - (r.sent if r.sent_currency == "USDT" else 0.0) - r.fee for r in own)
        assert quote == pytest.approx(trade["close_profit_abs"], abs=1e-9)
        base = sum((r.received if r.received_currency != "USDT" else 0.0)
                   - (r.sent if r.sent_currency != "USDT" else 0.0) for r in own)
        assert base == pytest.approx(0.0, abs=1e-12)


def _without_the_entry_of(bot, trade_id: int, tmp_path) -> dict:
    """A copy of the bot's database without ``trade_id``'s entry order."""
    copy = tmp_path / "lost-entry.sqlite"
    with sqlite3.connect(bot["db_url"].removeprefix("sqlite:///")) as source, \
            sqlite3.connect(copy) as target:
        source.backup(target)  # the WAL's pages included
    engine = create_engine(f"sqlite:///{copy}")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM orders WHERE order_id = :o"),
                           {"o": f"{trade_id}-entry"})
    engine.dispose()
    return {**bot, "db_url": f"sqlite:///{copy}"}


@pytest.mark.parametrize("which", ["perp", "spot"])
def test_an_exit_without_its_entry_is_refused_naming_the_trade(which, bot, spot_bot,
                                                               tmp_path):
    config = _without_the_entry_of(bot if which == "perp" else spot_bot, 2, tmp_path)
    with pytest.raises(MissingEntry, match=r"trade 2 .*2-exit.*entry fill is missing"):
        export(read_records(config))
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    out = tmp_path / "tax.csv"
    assert main(["--config", str(config_file), "--out", str(out)]) == 2
    assert not out.exists()  # no incomplete tax file
    # the other pairs still export when the operator leaves that trade's pair out
    trades = read_records(config).trades
    lost = next(t["pair"] for t in trades if t["id"] == 2)
    others = read_records(config, pairs=[t["pair"] for t in trades if t["pair"] != lost])
    assert {r.trade_id for r in export(others).rows} == {
        t["id"] for t in trades if t["pair"] != lost}


def test_an_exit_larger_than_its_entries_is_refused_beyond_float_noise():
    trade = {"id": 7, "pair": "BTC/USDT:USDT", "is_short": False, "is_open": False,
             "exchange": "binance", "stake_currency": "USDT", "fee_open": 0.0,
             "fee_close": 0.0, "close_date": HEDGE_AT, "trading_mode": "FUTURES"}

    def order(n, side, amount, price):
        return {"id": n, "order_id": f"o{n}", "side": side, "filled": amount, "average": price,
                "price": price, "order_date": HEDGE_AT + timedelta(minutes=n),
                "order_filled_date": HEDGE_AT + timedelta(minutes=n)}

    entries = [order(1, "buy", 0.1, 100.0), order(2, "buy", 0.2, 100.0)]
    [*_, exit_] = trade_rows(trade, [*entries, order(3, "sell", 0.1 + 0.2, 110.0)], {})
    assert exit_.received == pytest.approx(3.0)  # 0.30000000000000004 closes 0.3: noise
    with pytest.raises(MissingEntry, match="trade 7"):
        trade_rows(trade, [*entries, order(3, "sell", 0.5, 110.0)], {})
