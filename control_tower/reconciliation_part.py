"""The reconciliation part: freqtrade's open trades against every venue, on a schedule and
after every fill; a drift halts entries until a later run is clean.

Keys (``centaur.reconciliation``): ``enabled``; ``interval_secs`` between runs (a fill makes
the next loop run one too); ``tolerance_ratio`` and ``dust_lots`` (``control_tower
.reconciliation.Tolerance``); ``failures_before_halt``.

- A run asks every venue account: freqtrade's exchange (positions in futures, balances in
  spot), each extra venue of the order router, and the carry's spot hedge venue
  (``reconciliation_sources``). Pairs still settling (open orders, a pending hedge leg) are
  left out of that run.
- A drift must be seen twice in a row - the second run at the next loop - before it counts:
  a forced entry placed from the REST thread may fill between the venue's answer and the
  trade's commit. Then: a CRITICAL ``RECONCILIATION_DRIFT`` (the drifts in ``data``) and a
  halt of entries under that code (``RiskEngine.halt_entries``: open positions are kept and
  managed). The halt ends when a run in which every venue answered finds no drift and
  compared every holding it announced - a drifting pair left out of a run (open orders) keeps
  the halt; a halt the part did not announce (from before a restart) ends only at a run that
  left nothing out (``RECONCILIATION_OK``, WARNING).
- A venue that cannot be asked, or a run that fails as a whole (the bot's books cannot be
  read): ``RECONCILIATION_FAILED`` WARNING at the first failure of a streak; at
  ``failures_before_halt`` runs in a row, CRITICAL and a halt under that code (fail closed)
  until a run succeeds with every venue answering. A failed venue's holdings are left out of
  the comparison; a failed run compares nothing and its error is in the status.

Live mode only. In dry-run freqtrade holds nothing at the venue (its fills are simulated,
``fetch_positions`` answers nothing) and the dry-run wallet is computed from the same trades it
would be compared with: the part stays idle and says so in its status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from centaur.decision import Decision, ReasonCode
from centaur.events import EventSink, OperatorEvent, Severity
from centaur.redaction import redact_text
from centaur.settings.tower import ReconciliationSettings
from control_tower.part import BasePart, TowerHost
from control_tower.reconciliation import Drift, Holding, Market, Tolerance, reconcile, summed
from control_tower.reconciliation_sources import (
    VenueAccount,
    base_of,
    dust_base,
    hedge_holdings,
    holds,
    journal_split,
    reported_holdings,
    trade_holdings,
    unsettled,
)

logger = logging.getLogger(__name__)

DRY_RUN_NOTE = ("dry-run: nothing is held at the venue (fills are simulated) - reconciliation "
                "runs in live mode only")


@dataclass
class Sources:
    """The bot's books and the venues, as callables (read at each run)."""

    accounts: Callable[[], list[VenueAccount]]
    open_trades: Callable[[], list[Any]]
    hedge_legs: Callable[[], list[tuple[str, Any]]]  # (venue, open HedgeResult)
    pending_pairs: Callable[[], set[str]]  # pairs whose hedge leg's answer is pending
    routed: Callable[[], Callable[[str], dict[str, float] | None]]
    primary: Callable[[], str]
    market: Market  # the trades' market
    quote: str
    watched_assets: Callable[[], set[str]]  # spot base currencies to read balances of


@dataclass(frozen=True)
class RunResult:
    drifts: list[Drift]
    asked: list[str]
    failed: dict[str, str]
    skipped_pairs: list[str]
    error: str | None = None  # the run itself failed: nothing was compared

    def compared(self, holding: Holding) -> bool:
        """The run compared this holding: its account answered and its pair was settled."""
        return any(holds(label, holding) for label in self.asked) and \
            not unsettled(holding, frozenset(self.skipped_pairs))


def _error_text(err: Exception) -> str:
    return redact_text(f"{type(err).__name__}: {err}")[:300]


class ReconciliationPart(BasePart):
    """Trades against venue holdings; drift halts entries (see the module docstring)."""

    name = "reconciliation"

    def __init__(self, settings: ReconciliationSettings, sources: Sources | None, risk: Any,
                 events: EventSink):
        self.settings, self.sources, self.risk, self.events = settings, sources, risk, events
        self.last_run: datetime | None = None
        self.last: RunResult | None = None
        self.failures = 0
        self._due = False  # a fill, or a drift to confirm: run at the next loop
        self._suspected: frozenset[tuple[Holding, str]] = frozenset()
        self._announced: frozenset[tuple[Holding, str]] = frozenset()

    # --- hooks -----------------------------------------------------------------------------

    def on_fill(self, trade: Any, order: Any, now: datetime) -> None:
        self._due = True

    def on_loop(self, now: datetime) -> None:
        if self.sources is not None and self.due(now):
            self.run(now)

    def due(self, now: datetime) -> bool:
        return self._due or self.last_run is None or \
            (now - self.last_run).total_seconds() >= self.settings.interval_secs

    # --- one run ---------------------------------------------------------------------------

    def run(self, now: datetime) -> RunResult:
        self._due, self.last_run = False, now
        try:
            result = self._compare()
        except Exception as err:  # noqa: BLE001 - a run that fails is a failed run (fail closed)
            logger.exception("[%s] the reconciliation run failed",
                             ReasonCode.RECONCILIATION_FAILED)
            result = RunResult([], [], {}, [], error=_error_text(err))
        self.last = result
        self._after_failures(now, result)
        if result.error is None:
            self._after_drifts(now, result)
        return result

    def _compare(self) -> RunResult:
        sources = self.sources
        trades = list(sources.open_trades())
        primary, routed = sources.primary(), sources.routed()
        expected = summed(*(trade_holdings(t, sources.market, primary, routed) for t in trades),
                          hedge_holdings(sources.hedge_legs()))
        pairs = frozenset({t.pair for t in trades if t.has_open_orders}
                          | sources.pending_pairs())
        assets = sources.watched_assets() | {h.asset for h in expected
                                              if h.market is Market.SPOT}
        reported: dict[Holding, float] = {}
        dust: dict[Holding, float] = {}
        asked, failed = [], {}
        for account in sources.accounts():
            try:
                found = reported_holdings(account, assets)
                dust.update(dust_base(account, set(expected) | set(found),
                                      self.settings.dust_lots, sources.quote))
            except Exception as err:  # noqa: BLE001 - any failure: this venue is not known
                failed[account.label] = _error_text(err)
                continue
            reported.update(found)
            asked.append(account.label)

        def compared(holding: Holding) -> bool:
            return not unsettled(holding, pairs) and not any(holds(f, holding) for f in failed)

        tolerance = Tolerance(self.settings.tolerance_ratio, dust)
        drifts = reconcile({h: q for h, q in expected.items() if compared(h)},
                           {h: q for h, q in reported.items() if compared(h)}, tolerance)
        return RunResult(drifts, asked, failed, sorted(pairs))

    def _after_failures(self, now: datetime, result: RunResult) -> None:
        if not result.failed and result.error is None:
            if self.failures:
                logger.info("[%s] every venue answered again", ReasonCode.RECONCILIATION_OK)
            self.failures = 0
            self._clear(now, ReasonCode.RECONCILIATION_FAILED, "every venue answers again")
            return
        self.failures += 1
        what = "; ".join([f"the run: {result.error}"] * (result.error is not None)
                         + [f"{venue}: {error}" for venue, error in sorted(result.failed.items())])
        data = {"failed": dict(result.failed), "error": result.error,
                "consecutive_failures": self.failures}
        if self.failures == 1:
            self.events.emit(OperatorEvent(
                now, Severity.WARNING, ReasonCode.RECONCILIATION_FAILED,
                f"reconciliation could not ask {what}; asked again in "
                f"{self.settings.interval_secs} s", data=data))
        if self.failures == self.settings.failures_before_halt:
            detail = (f"reconciliation failed {self.failures} runs in a row ({what}): entries "
                      "halted until every venue answers")
            self.risk.halt_entries(now, Decision(False, ReasonCode.RECONCILIATION_FAILED, detail))
            self.events.emit(OperatorEvent(now, Severity.CRITICAL,
                                           ReasonCode.RECONCILIATION_FAILED, detail, data=data))

    def _after_drifts(self, now: datetime, result: RunResult) -> None:
        seen = frozenset((d.holding, str(d.kind)) for d in result.drifts)
        confirmed = [d for d in result.drifts if (d.holding, str(d.kind)) in self._suspected]
        self._suspected = seen
        if seen - {(d.holding, str(d.kind)) for d in confirmed}:
            self._due = True  # a drift seen once: looked at again at the next loop
        if confirmed:
            self._drift(now, confirmed)
        elif not seen and not result.failed and self._covered(result):
            self._announced = frozenset()
            self._clear(now, ReasonCode.RECONCILIATION_DRIFT,
                        "reconciliation clean: venues and trades agree")

    def _covered(self, result: RunResult) -> bool:
        """The run compared every holding whose drift halted entries; a halt this part did not
        announce (from before a restart): the run left nothing out."""
        if not self._announced:
            return not result.skipped_pairs
        return all(result.compared(holding) for holding, _ in self._announced)

    def _drift(self, now: datetime, drifts: list[Drift]) -> None:
        key = frozenset((d.holding, str(d.kind)) for d in drifts)
        halted = self.risk.halt_entries(now, Decision(
            False, ReasonCode.RECONCILIATION_DRIFT,
            f"{len(drifts)} holding(s) disagree with the venues: entries halted until a "
            "reconciliation is clean"))
        if key == self._announced and not halted:
            return  # the same drift as announced, still halted: said once
        self._announced = key
        self.events.emit(OperatorEvent(
            now, Severity.CRITICAL, ReasonCode.RECONCILIATION_DRIFT,
            "venue holdings disagree with the bot's trades - entries halted (open positions "
            "kept): " + "; ".join(d.text() for d in drifts)
            + ". Fix: reconcile the account on the venue (or close the trade); the halt ends "
              "at the next clean run",
            data={"drifts": [d.as_dict() for d in drifts]}))

    def _clear(self, now: datetime, code: ReasonCode, why: str) -> None:
        if str(code) not in self.risk.active_halt_codes(now):
            return
        cleared = self.risk.clear_halt(now, code, self.name)
        if cleared:
            self.events.emit(OperatorEvent(now, Severity.WARNING, ReasonCode.RECONCILIATION_OK,
                                           f"{why}; the {code} halt is cleared, entries resume"))

    # --- status ----------------------------------------------------------------------------

    def status(self, now: datetime) -> dict[str, Any]:
        if self.sources is None:
            return {"live": False, "note": DRY_RUN_NOTE}
        last = self.last
        return {
            "live": True,
            "interval_secs": self.settings.interval_secs,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "venues_asked": last.asked if last else [],
            "venues_failed": last.failed if last else {},
            "consecutive_failures": self.failures,
            "error": last.error if last else None,
            "skipped_pairs": last.skipped_pairs if last else [],
            "drifts": [d.as_dict() for d in last.drifts] if last else [],
            "halted": [c for c in self.risk.active_halt_codes(now)
                       if c in (ReasonCode.RECONCILIATION_DRIFT,
                                ReasonCode.RECONCILIATION_FAILED)],
        }


# --- the host's sources ------------------------------------------------------------------------


def host_sources(host: TowerHost) -> Sources:
    """The running bot's sources: freqtrade's exchange (and its router's venues), its open
    trades, and the carry's hedge when the strategy has one (``host.hedge``, ``host.legs``)."""
    from freqtrade.persistence import Trade

    futures = host.config.get("trading_mode") == "futures"
    market = Market.FUTURES if futures else Market.SPOT

    def exchange() -> Any:
        return host.dp._exchange

    def router() -> Any:
        return getattr(exchange(), "order_router", None)

    def accounts() -> list[VenueAccount]:
        api = exchange()._api
        found = [VenueAccount(api.id, market, api)]
        if (sor := router()) is not None:
            found += [VenueAccount(name, market, gateway.api)
                      for name, gateway in sorted(sor.gateways.items()) if name != api.id]
        hedge = getattr(host, "hedge", None)
        venue = getattr(getattr(hedge, "client", None), "venue", None)
        if venue is not None:  # the live hedge's spot client (``LiveSpotClient``)
            found.append(VenueAccount(hedge.venue, Market.SPOT, venue.api))
        return found

    def hedge_legs() -> list[tuple[str, Any]]:
        hedge = getattr(host, "hedge", None)
        return [(hedge.venue, leg) for leg in hedge.open_hedges()] if hedge is not None else []

    def pending_pairs() -> set[str]:
        legs = getattr(host, "legs", None)
        if legs is None:
            return set()
        return {t.pair for trade_id, _ in legs.pending
                if (t := Trade.get_trades([Trade.id == trade_id]).first()) is not None}

    def routed() -> Callable[[str], dict[str, float] | None]:
        sor = router()
        return journal_split(sor.journal) if sor is not None else (lambda order_id: None)

    return Sources(
        accounts=accounts, open_trades=Trade.get_open_trades, hedge_legs=hedge_legs,
        pending_pairs=pending_pairs, routed=routed, primary=lambda: exchange()._api.id,
        market=market, quote=str(host.config.get("stake_currency", "USDT")),
        watched_assets=lambda: {base_of(p) for p in host.dp.current_whitelist()})


def reconciliation_part(host: TowerHost) -> ReconciliationPart | None:
    """The part when ``centaur.reconciliation.enabled``; idle in dry-run (``DRY_RUN_NOTE``)."""
    settings = host.centaur.reconciliation
    if not settings.enabled:
        return None
    live = not host.config.get("dry_run", True)
    if not live:
        logger.info("reconciliation: %s", DRY_RUN_NOTE)
    return ReconciliationPart(settings, host_sources(host) if live else None,
                              host.risk, host.events)  # type: ignore[attr-defined]
