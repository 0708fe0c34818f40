"""Where reconciliation's quantities come from: the bot's books (expected) and the venues
(reported), parsed at this boundary into ``reconciliation.Holding`` quantities.

Expected:
- a freqtrade trade holds its signed base amount (short negative) on the primary venue; an
  order the router split (``sor-`` ids) holds, per venue, what its children filled there
  (``sor_exchange.journal``); a spot trade holds its base currency;
- the carry's open spot hedge legs hold ``held_base`` of their base currency on the hedge's
  venue (``sor_exchange.hedge_records.HedgeResult``: the fill less a commission in the base).

Reported, per venue account (a ccxt client and the market it holds):
- futures: ccxt ``fetch_positions`` - ``contracts x contractSize``, negative for shorts;
- spot: ccxt ``fetch_balance`` totals of the watched base currencies (the traded pairs'
  bases; the quote currency and unrelated assets are not positions).

Pairs still settling - a trade with open orders, a hedge leg whose answer is pending - are
left out of a run (``unsettled``) on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ccxt

from control_tower.reconciliation import Holding, Market
from sor_exchange.venues import VenueClient


@dataclass(frozen=True)
class VenueAccount:
    """One account reconciliation asks: ``api`` is a ccxt (sync) exchange object."""

    venue: str
    market: Market
    api: Any

    @property
    def label(self) -> str:
        return f"{self.venue}:{self.market}"


def base_of(pair: str) -> str:
    return pair.split("/")[0]


def holds(account_label: str, holding: Holding) -> bool:
    return account_label == f"{holding.venue}:{holding.market}"


# --- expected ------------------------------------------------------------------------------


def trade_holdings(trade: Any, market: Market, primary: str,
                   routed: Callable[[str], Mapping[str, float] | None]) -> dict[Holding, float]:
    """A freqtrade trade's signed base quantity per venue (see the module docstring);
    ``routed(order_id)``: the router's filled base per venue of that order, None if unrouted."""
    asset = trade.pair if market is Market.FUTURES else base_of(trade.pair)
    split: dict[str, float] = {}
    any_routed = False
    for order in getattr(trade, "orders", None) or []:
        filled = float(order.safe_filled or 0.0)
        by_venue = routed(str(order.order_id)) if filled and order.order_id else None
        if by_venue is None:
            sign = 1.0 if order.ft_order_side == "buy" else -1.0
            split[primary] = split.get(primary, 0.0) + sign * filled
            continue
        any_routed = True
        for venue, quantity in by_venue.items():
            split[venue] = split.get(venue, 0.0) + quantity
    if not any_routed:  # the trade's own amount: it nets fees freqtrade took in the base
        sign = -1.0 if trade.is_short else 1.0
        return {Holding(primary, market, asset): sign * float(trade.amount)}
    return {Holding(venue, market, asset): quantity for venue, quantity in split.items()}


def hedge_holdings(legs: Iterable[tuple[str, Any]]) -> dict[Holding, float]:
    """The open spot hedge legs, (venue, ``HedgeResult``), as base currency held."""
    out: dict[Holding, float] = {}
    for venue, leg in legs:
        holding = Holding(venue, Market.SPOT, base_of(leg.request.spot_symbol))
        out[holding] = out.get(holding, 0.0) + float(leg.held_base)
    return out


def journal_split(journal: Any) -> Callable[[str], dict[str, float] | None]:
    """``routed`` for ``trade_holdings`` from the router's journal: a parent's children's
    signed fills per venue."""
    def routed(order_id: str) -> dict[str, float] | None:
        parent = journal.parents.get(order_id)
        if parent is None:
            return None
        out: dict[str, float] = {}
        for child in journal.children_of(parent):
            out[child.venue] = out.get(child.venue, 0.0) + child.signed_filled
        return out
    return routed


def unsettled(holding: Holding, pairs: frozenset[str]) -> bool:
    """The holding belongs to a pair still settling (its perp, or its base in spot)."""
    if holding.market is Market.FUTURES:
        return holding.asset in pairs
    return holding.asset in {base_of(p) for p in pairs}


# --- reported ------------------------------------------------------------------------------


def futures_positions(venue: str, positions: Iterable[Mapping[str, Any]]) -> dict[Holding, float]:
    """ccxt unified positions as signed base quantities (zero positions left out)."""
    out: dict[Holding, float] = {}
    for position in positions:
        contracts = float(position.get("contracts") or 0.0)
        if not contracts:
            continue
        size = float(position.get("contractSize") or 1.0)
        sign = -1.0 if position.get("side") == "short" else 1.0
        holding = Holding(venue, Market.FUTURES, str(position["symbol"]))
        out[holding] = out.get(holding, 0.0) + sign * abs(contracts) * size
    return out


def spot_balances(venue: str, balance: Mapping[str, Any], assets: Iterable[str]
                  ) -> dict[Holding, float]:
    """ccxt unified balance totals of ``assets`` (zero balances left out)."""
    out = {}
    for asset in sorted(set(assets)):
        total = float(((balance.get(asset) or {}).get("total")) or 0.0)
        if total:
            out[Holding(venue, Market.SPOT, asset)] = total
    return out


def reported_holdings(account: VenueAccount, assets: Iterable[str]) -> dict[Holding, float]:
    """What the venue account holds now (network calls; ccxt errors propagate)."""
    if account.market is Market.FUTURES:
        return futures_positions(account.venue, account.api.fetch_positions())
    return spot_balances(account.venue, account.api.fetch_balance(), assets)


def dust_base(account: VenueAccount, holdings: Iterable[Holding], lots: float, quote: str
              ) -> dict[Holding, float]:
    """``lots`` of each holding's market lot (in base units) on this account; holdings whose
    market is unknown to the venue get none."""
    client = VenueClient(account.venue, account.api)
    out = {}
    for holding in holdings:
        if not holds(account.label, holding):
            continue
        symbol = holding.asset if holding.market is Market.FUTURES else f"{holding.asset}/{quote}"
        try:
            out[holding] = lots * client.terms(symbol).lot_base
        except (ccxt.BadSymbol, KeyError):  # a market the venue does not list: no dust
            continue
    return out
