"""Rule: every fill, on every venue and both legs, is one row of Koinly's universal CSV.

Format: Koinly's "Universal" custom CSV template (support.koinly.io, "How to create a custom CSV
file with your data"), columns ``COLUMNS``, dates ``YYYY-MM-DD HH:MM UTC``, amounts positive.
A trade's fills are freqtrade's ``orders`` (a routed order is replaced by its child fills from
the fills log, one row per venue fill, with the child's own price and fee); the trade's
``trading_mode`` decides how they are booked (none stored: spot, as freqtrade reads it).
Spot trades are acquisitions and disposals - Koinly works out their gains from its own cost
basis -, so:

- spot fills: an entry (buy) sends the quote (amount x price) and receives the base amount, an
  exit (sell) sends the base amount and receives the quote; the fee in ``Fee Amount`` in the
  quote; no label.

Koinly books derivatives by their outcome, not by the contracts ("Futures and perpetuals PNL":
a gain is a deposit, a loss a withdrawal, tagged realized P&L), so:

- perpetual (futures / margin) fills:
  - entry fill: the fee as a withdrawal in the stake currency, label ``cost``;
  - exit fill: the realized P&L of the amount closed against the running average entry price
    (average-cost), as ``Received`` (gain) or ``Sent`` (loss) with label ``realized gain``,
    its fee in ``Fee Amount``;
  - funding, per trade at its close: received -> ``realized gain`` deposit, paid -> ``margin
    fee`` withdrawal;
- the carry's spot hedge legs (``sor_exchange.hedge_records``): ordinary trades - open sends the
  quote and receives the base, close the reverse; the fee in the base asset when the venue
  charged it there, else in quote; no label;
- routed child fills whose parent is no freqtrade order: their fee as a ``cost`` withdrawal
  (counted in ``unmatched_fills``).

An exit fill needs entry fills before it covering its amount (to a ``AMOUNT_TOLERANCE_RATIO``
of it): without them the perp rows would book the whole notional as gain and Koinly the spot
sale at a zero cost basis. The export then refuses: ``MissingEntry`` names the trade, the order
and the fill, and the CLI writes no file (exit status 2) - a tax file is complete or absent.

Totals reconcile: for freqtrade's own fills (fees as its ``fee_open``/``fee_close`` ratios),
received - sent - fees of a trade's rows = its ``close_profit_abs`` (spot: counting only the
quote amounts; the base amounts of a closed trade net to zero). Fees of routed children are
the venues' own and may differ from freqtrade's estimate by that much. ``TxHash`` carries the
order / client order id, unique per row. ``--timerange`` keeps the fills dated inside it.

CLI: ``python -m control_tower.tax_export --config config/dry-run.json --out reports/tax.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from control_tower.weekly_sources import BotRecords, MissingDatabase, read_records

COLUMNS = ("Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency",
           "Fee Amount", "Fee Currency", "Net Worth Amount", "Net Worth Currency", "Label",
           "Description", "TxHash")
DATE_FORMAT = "%Y-%m-%d %H:%M UTC"
REALIZED = "realized gain"
COST = "cost"
MARGIN_FEE = "margin fee"
AMOUNT_TOLERANCE_RATIO = 1e-6  # of an exit fill's amount: float noise, not a missing entry


class MissingEntry(ValueError):
    """An exit fill without the entry fills to cover it: the trade cannot be booked."""


@dataclass(frozen=True)
class TaxRow:
    time: datetime
    sent: float = 0.0
    sent_currency: str = ""
    received: float = 0.0
    received_currency: str = ""
    fee: float = 0.0
    fee_currency: str = ""
    label: str = ""
    description: str = ""
    tx: str = ""
    trade_id: int | None = None

    def csv(self) -> dict[str, str]:
        amount = (lambda x: f"{x:.10f}".rstrip("0").rstrip(".") if x else "")
        return dict(zip(COLUMNS, (
            self.time.strftime(DATE_FORMAT), amount(self.sent),
            self.sent_currency if self.sent else "", amount(self.received),
            self.received_currency if self.received else "", amount(self.fee),
            self.fee_currency if self.fee else "", "", "", self.label, self.description,
            self.tx), strict=True))

    @property
    def net_quote(self) -> float:
        """Received - sent - fee, for rows all in one (quote) currency."""
        return self.received - self.sent - self.fee


@dataclass
class Export:
    rows: list[TaxRow] = field(default_factory=list)
    unmatched_fills: int = 0


@dataclass(frozen=True)
class TradeFill:
    time: datetime
    amount: float
    price: float
    fee: float
    venue: str
    tx: str


@dataclass(frozen=True)
class BookedFill:
    """A fill of a trade in order, with the average entry price of the position before it."""

    order: Mapping[str, Any]
    entry: bool
    fill: TradeFill
    average_entry: float


def _is_entry(order: Mapping[str, Any], trade: Mapping[str, Any]) -> bool:
    return (order["side"] == "buy") != bool(trade["is_short"])


def is_spot(trade: Mapping[str, Any]) -> bool:
    """freqtrade stores the mode's name (``SPOT``, ``FUTURES``, ``MARGIN``); none is spot."""
    mode = trade.get("trading_mode")
    return str(getattr(mode, "value", mode) or "spot").lower() == "spot"


def order_fills(order: Mapping[str, Any], trade: Mapping[str, Any],
                children: Sequence[Mapping[str, Any]], fee_ratio: float) -> list[TradeFill]:
    """The order's child fills when the router placed it, else the order as one fill."""
    if children:
        return [TradeFill(c["recorded_at"], float(c["amount"]), float(c["price"]),
                          float(c["fee_quote"]), c["venue"],
                          f"{order['order_id']}/{c['client_order_id']}/{c['id']}")
                for c in children]
    filled = float(order["filled"] or 0)
    price = float(order["average"] or order["price"] or 0)
    when = order["order_filled_date"] or order["order_date"]
    return [TradeFill(when, filled, price, filled * price * fee_ratio,
                      trade["exchange"], str(order["order_id"]))] if filled > 0 else []


def trade_fills(trade: Mapping[str, Any], orders: Sequence[Mapping[str, Any]],
                children_of: Mapping[str, list[Mapping[str, Any]]]) -> list[BookedFill]:
    """The trade's fills in order; ``MissingEntry`` for an exit fill that the entries before it
    do not cover."""
    found: list[BookedFill] = []
    position = average = 0.0
    for order in sorted(orders, key=lambda o: (o["order_filled_date"] or o["order_date"],
                                               o["id"])):
        entry = _is_entry(order, trade)
        ratio = float((trade["fee_open"] if entry else trade["fee_close"]) or 0)
        for fill in order_fills(order, trade, children_of.get(str(order["order_id"]), []),
                                ratio):
            found.append(BookedFill(order, entry, fill, average))
            if entry:
                average = (average * position + fill.price * fill.amount) / (
                    position + fill.amount)
                position += fill.amount
                continue
            if fill.amount - position > AMOUNT_TOLERANCE_RATIO * fill.amount:
                raise MissingEntry(
                    f"trade {trade['id']} ({trade['pair']}): exit fill {fill.tx} "
                    f"({order['side']} {fill.amount:g} @ {fill.price:g} on {fill.venue}, "
                    f"{fill.time:%Y-%m-%d %H:%M} UTC) has only {position:g} entered before "
                    "it - its entry fill is missing, and booking it would count the notional "
                    "as gain. Fix: check the trade's orders in freqtrade's database "
                    f"(`freqtrade show-trades --trade-ids {trade['id']}`) and book it by hand, "
                    "or export the other pairs only (--pairs).")
            position = max(position - fill.amount, 0.0)
    return found


def trade_rows(trade: Mapping[str, Any], orders: Sequence[Mapping[str, Any]],
               children_of: Mapping[str, list[Mapping[str, Any]]]) -> list[TaxRow]:
    """A trade's rows by its trading mode (see the module rules)."""
    fills = trade_fills(trade, orders, children_of)
    return spot_rows(trade, fills) if is_spot(trade) else perp_rows(trade, fills)


def spot_rows(trade: Mapping[str, Any], fills: Sequence[BookedFill]) -> list[TaxRow]:
    """A spot trade's fills as acquisitions (buy) and disposals (sell)."""
    quote, pair, rows = trade["stake_currency"] or "USDT", trade["pair"], []
    base = trade.get("base_currency") or pair.split("/")[0]
    for booked in fills:
        order, entry, fill = booked.order, booked.entry, booked.fill
        value = fill.amount * fill.price
        rows.append(TaxRow(
            fill.time, sent=value if entry else fill.amount,
            sent_currency=quote if entry else base, received=fill.amount if entry else value,
            received_currency=base if entry else quote, fee=fill.fee, fee_currency=quote,
            description=f"spot {'buy' if entry else 'sell'} - {pair} trade {trade['id']}: "
                        f"{order['side']} {fill.amount:g} @ {fill.price:g} on {fill.venue}",
            tx=fill.tx, trade_id=trade["id"]))
    return rows


def perp_rows(trade: Mapping[str, Any], fills: Sequence[BookedFill]) -> list[TaxRow]:
    """A perpetual trade's rows: entry fees, realized P&L per exit fill, funding at close."""
    quote, pair, rows = trade["stake_currency"] or "USDT", trade["pair"], []
    sign = -1.0 if trade["is_short"] else 1.0
    for booked in fills:
        order, entry, fill = booked.order, booked.entry, booked.fill
        what = f"{pair} {'short' if trade['is_short'] else 'long'} trade {trade['id']}: " \
               f"{order['side']} {fill.amount:g} @ {fill.price:g} on {fill.venue}"
        if entry:
            rows.append(TaxRow(fill.time, sent=fill.fee, sent_currency=quote, label=COST,
                               description=f"perp entry fee - {what}", tx=fill.tx,
                               trade_id=trade["id"]))
            continue
        pnl = sign * (fill.price - booked.average_entry) * fill.amount
        rows.append(TaxRow(fill.time, sent=max(-pnl, 0.0), sent_currency=quote,
                           received=max(pnl, 0.0), received_currency=quote, fee=fill.fee,
                           fee_currency=quote, label=REALIZED,
                           description=f"perp realized P&L - {what}", tx=fill.tx,
                           trade_id=trade["id"]))
    funding = float(trade.get("funding_fees") or 0)
    if funding and not trade["is_open"]:
        rows.append(TaxRow(trade["close_date"], sent=max(-funding, 0.0), sent_currency=quote,
                           received=max(funding, 0.0), received_currency=quote,
                           label=REALIZED if funding > 0 else MARGIN_FEE,
                           description=f"perp funding - {pair} trade {trade['id']}",
                           tx=f"funding-{trade['id']}", trade_id=trade["id"]))
    return rows


def hedge_rows(legs: Iterable[Mapping[str, Any]], quote: str) -> list[TaxRow]:
    """The spot hedge's legs as trades."""
    rows = []
    for leg in legs:
        base = leg["spot_symbol"].split("/")[0]
        value = float(leg["filled_base"]) * float(leg["average_price"])
        fee, fee_currency = (float(leg["fee_base"]), base) if leg["fee_base"] \
            else (float(leg["fee_quote"]), quote)
        buy = leg["side"] == "buy"
        rows.append(TaxRow(
            leg["time"], sent=value if buy else float(leg["filled_base"]),
            sent_currency=quote if buy else base,
            received=float(leg["filled_base"]) if buy else value,
            received_currency=base if buy else quote, fee=fee, fee_currency=fee_currency,
            description=f"carry spot hedge {leg['action']} - {leg['spot_symbol']} "
                        f"{leg['side']} {float(leg['filled_base']):g} @ "
                        f"{float(leg['average_price']):g}, trade {leg['trade_id']}",
            tx=str(leg["client_order_id"]), trade_id=leg["trade_id"]))
    return rows


def export(records: BotRecords, start: datetime | None = None,
           end: datetime | None = None) -> Export:
    """Every fill of the records as Koinly rows, oldest first, inside [start, end);
    ``MissingEntry`` for a trade whose exit has no entry."""
    children_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for fill in records.fills:
        children_of[str(fill["parent_order_id"])].append(fill)
    orders_of: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for order in records.orders:
        if order["ft_order_side"] != "stoploss" or float(order["filled"] or 0) > 0:
            orders_of[order["ft_trade_id"]].append(order)
    out = Export()
    for trade in records.trades:
        out.rows += trade_rows(trade, orders_of[trade["id"]], children_of)
    out.rows += hedge_rows(records.hedge_legs, records.stake_currency)
    known = {str(o["order_id"]) for o in records.orders}
    for parent, fills in children_of.items():
        if parent in known:
            continue
        out.unmatched_fills += len(fills)
        out.rows += [TaxRow(f["recorded_at"], sent=float(f["fee_quote"]),
                            sent_currency=records.stake_currency, label=COST,
                            description=f"routed fill without a freqtrade order - {f['pair']} "
                                        f"{f['side']} {float(f['amount']):g} @ "
                                        f"{float(f['price']):g} on {f['venue']}",
                            tx=f"{parent}/{f['client_order_id']}/{f['id']}") for f in fills]
    out.rows = sorted((r for r in out.rows if (start is None or r.time >= start)
                       and (end is None or r.time < end)), key=lambda r: (r.time, r.tx))
    return out


def quote_net(rows: Iterable[TaxRow], quote: str) -> float:
    """Received - sent - fees over the rows that move only ``quote`` (the perp rows)."""
    return sum(r.net_quote for r in rows
               if {r.sent_currency or quote, r.received_currency or quote,
                   r.fee_currency or quote} == {quote})


def write_csv(rows: Iterable[TaxRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(row.csv() for row in rows)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from control_tower.weekly_report import load_config, window_for

    parser = argparse.ArgumentParser(prog="python -m control_tower.tax_export",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--config", "-c", action="append", default=None,
                        help="freqtrade config(s) of the bot (default config/dry-run.json)")
    parser.add_argument("--db-url", default=None, help="freqtrade database (default: config)")
    parser.add_argument("--datadir", type=Path, default=None, help="unused: every report "
                        "takes the data options; the export reads no candles")
    parser.add_argument("--timeframe", default=None, help="unused, as --datadir")
    parser.add_argument("--pairs", nargs="+", default=None, help="only these pairs")
    parser.add_argument("--timerange", default=None, help="YYYYMMDD-[YYYYMMDD] (default: all)")
    parser.add_argument("--out", type=Path, default=Path("reports/tax.csv"))
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    try:
        window = window_for(now, timerange=args.timerange) if args.timerange else None
        records = read_records(load_config(args.config or ["config/dry-run.json"]),
                               db_url=args.db_url, pairs=args.pairs or ())
        result = export(records, window.start if window else None,
                        window.end if window else None)
    except (MissingDatabase, ValueError) as err:  # MissingEntry included: no file written
        print(f"tax export: {err}", file=sys.stderr)
        return 2
    write_csv(result.rows, args.out)
    print(f"wrote {args.out}: {len(result.rows)} rows (Koinly universal CSV); net "
          f"{quote_net(result.rows, records.stake_currency):,.2f} {records.stake_currency} "
          f"on the rows in {records.stake_currency} only; {result.unmatched_fills} routed "
          "fills without a freqtrade order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
