"""Rule: the weekly report is a pure function of the bot's records and a window.

``build_report(records, window)`` turns what ``control_tower.weekly_sources`` read (freqtrade's
trades, the fills log, the state store's events, human GO answers and overrides, the LLM veto
decisions and candles) into one JSON-able dict; ``control_tower.weekly_render`` draws it.

- Window: the 7 days ending at ``--end`` (default now), or ``--timerange YYYYMMDD-[YYYYMMDD]``;
  a trade belongs to the week it closed in.
- KPIs: closed profit (``close_profit_abs``: after fees and funding), fees, funding, win rate,
  max drawdown and daily Sharpe of the daily closed-equity curve (``weekly_equity``).
- Attribution: profit by (strategy, enter_tag); the largest winners and losers.
- Slippage by venue: volume-weighted bps of the routed child fills against their arrival mid.
- Vetoes: the LLM's decisions by reason code; each denied entry with its would-be outcome
  (``weekly_counterfactual``, an approximation the report says it is).
- Halts: risk and tower halts (kill switch, drawdown, loss streak, state, reconciliation ...).
- Manual overrides with their reasons: the kill switch, resume, state reset, revoked
  interventions and accepted breaker actions (operator events), every human GO answer and
  timeout with who and when (``human_go_answers``), and the paper-gate overrides with their
  reason (``overrides``).

CLI: ``python -m control_tower.weekly_report --config config/dry-run.json --out
reports/weekly`` writes ``reports/weekly.{json,md,html,pdf}``. The report names its database
with the password masked (``weekly_sources.shown_db_url``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from centaur.decision import ReasonCode
from control_tower import weekly_equity as eq
from control_tower.weekly_counterfactual import horizon_of, veto_outcomes
from control_tower.weekly_sources import (
    BotRecords,
    MissingDatabase,
    read_records,
    shown_db_url,
    utc,
)

WEEK = timedelta(days=7)
EXTREMES = 3

HALT_CODES = frozenset({
    ReasonCode.KILL_SWITCH, ReasonCode.DAILY_DRAWDOWN, ReasonCode.MAX_DRAWDOWN,
    ReasonCode.LOSS_STREAK, ReasonCode.EXCHANGE_ERROR_RATE, ReasonCode.STATE_LOST,
    ReasonCode.STATE_CORRUPT, ReasonCode.TRADING_STATE_HALTED,
    ReasonCode.TRADING_STATE_REDUCING, ReasonCode.BREAKER_TRIGGERED,
    ReasonCode.RECONCILIATION_DRIFT, ReasonCode.PAPER_GATE_REFUSED,
    ReasonCode.RECONCILIATION_FAILED})
# Operator actions known from their events; GO answers and paper-gate overrides come from
# their own records (who, why), not from their events (HUMAN_GO_*, PAPER_GATE_OVERRIDE).
OVERRIDE_CODES = frozenset({
    ReasonCode.KILL_SWITCH, ReasonCode.OPERATOR_RESUME, ReasonCode.STATE_RESET,
    ReasonCode.INTERVENTION_REVOKED, ReasonCode.BREAKER_ACTION_ACCEPTED})
_TIME_KEYS = ("time", "answered_at", "decided_at", "at", "created_at", "requested_at")


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __contains__(self, when: Any) -> bool:
        return when is not None and self.start <= utc(when) < self.end


def window_for(now: datetime, end: datetime | None = None, timerange: str | None = None
               ) -> Window:
    """``timerange`` (``YYYYMMDD-YYYYMMDD``; an open stop ends at ``end`` / ``now``), else the
    7 days ending at ``end`` (default ``now``)."""
    stop = utc(end or now).to_pydatetime()
    if timerange:
        first, _, last = timerange.partition("-")
        try:
            start = utc(pd.Timestamp(first)).to_pydatetime()
            stop = utc(pd.Timestamp(last)).to_pydatetime() if last else stop
        except ValueError as err:
            raise ValueError(f"--timerange {timerange!r}: expected YYYYMMDD-YYYYMMDD") from err
        if start >= stop:
            raise ValueError(f"--timerange {timerange!r}: the start must be before the stop")
        return Window(start, stop)
    return Window(stop - WEEK, stop)


# --- sections --------------------------------------------------------------------------------

def closed_in(trades: Iterable[Mapping[str, Any]], window: Window) -> list[Mapping[str, Any]]:
    return sorted((t for t in trades if not t["is_open"] and t["close_date"] in window),
                  key=lambda t: t["close_date"])


def trade_fees_usd(trade: Mapping[str, Any]) -> float:
    """Both legs' fees: freqtrade's fee costs when it has them, else amount x rate x ratio."""
    opening = trade.get("fee_open_cost")
    closing = trade.get("fee_close_cost")
    amount = float(trade["amount"] or 0)
    if opening is None:
        opening = amount * float(trade["open_rate"] or 0) * float(trade["fee_open"] or 0)
    if closing is None:
        closing = amount * float(trade["close_rate"] or 0) * float(trade["fee_close"] or 0)
    return float(opening) + float(closing)


def kpis(trades: Sequence[Mapping[str, Any]], closed: Sequence[Mapping[str, Any]],
         equity: pd.Series, window: Window) -> dict[str, Any]:
    profits = [float(t["close_profit_abs"] or 0) for t in closed]
    wins = sum(p > 0 for p in profits)
    opening, closing = float(equity.iloc[0]), float(equity.iloc[-1])
    return {
        "closed_trades": len(closed), "wins": wins, "losses": sum(p < 0 for p in profits),
        "win_rate": eq.round_or_none(wins / len(profits), 4) if profits else None,
        "pnl_usd": round(sum(profits), 2),
        "fees_usd": round(sum(trade_fees_usd(t) for t in closed), 2),
        "funding_usd": round(sum(float(t.get("funding_fees") or 0) for t in closed), 2),
        "opening_equity_usd": round(opening, 2), "closing_equity_usd": round(closing, 2),
        "return_ratio": eq.round_or_none(closing / opening - 1 if opening else None, 6),
        "max_drawdown_ratio": round(eq.max_drawdown_ratio(equity), 6),
        "daily_sharpe": round(eq.daily_sharpe(equity), 4),
        "open_trades_at_end": sum(1 for t in trades if t["open_date"] < window.end and (
            t["is_open"] or t["close_date"] >= window.end)),
    }


def attribution(closed: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Profit by (strategy, enter_tag), largest first."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for t in closed:
        groups[(t["strategy"] or "-", t["enter_tag"] or "-")].append(
            float(t["close_profit_abs"] or 0))
    rows = [{"strategy": s, "enter_tag": tag, "trades": len(p), "pnl_usd": round(sum(p), 2),
             "win_rate": round(sum(x > 0 for x in p) / len(p), 4)}
            for (s, tag), p in groups.items()]
    return sorted(rows, key=lambda r: -r["pnl_usd"])


def trade_row(t: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": t["id"], "pair": t["pair"], "side": "short" if t["is_short"] else "long",
            "strategy": t["strategy"], "enter_tag": t["enter_tag"],
            "exit_reason": t["exit_reason"], "open_date": t["open_date"],
            "close_date": t["close_date"], "pnl_usd": round(float(t["close_profit_abs"]), 2),
            "profit_ratio": eq.round_or_none(t["close_profit"], 6)}


def extremes(closed: Sequence[Mapping[str, Any]], n: int = EXTREMES
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``n`` largest winners and the ``n`` largest losers."""
    ranked = sorted(closed, key=lambda t: float(t["close_profit_abs"] or 0))
    winners = [trade_row(t) for t in reversed(ranked) if float(t["close_profit_abs"]) > 0][:n]
    losers = [trade_row(t) for t in ranked if float(t["close_profit_abs"]) < 0][:n]
    return winners, losers


def slippage_by_venue(fills: Iterable[Mapping[str, Any]], window: Window
                      ) -> list[dict[str, Any]]:
    """Volume-weighted slippage (bps against the arrival mid), fees and notional per venue."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for f in fills:
        if f["recorded_at"] not in window:
            continue
        notional = float(f["price"]) * float(f["amount"])
        row = sums[f["venue"]]
        row[0] += 1
        row[1] += notional
        row[2] += float(f["fee_quote"])
        row[3] += float(f["slippage_bps"]) * notional
    return [{"venue": venue, "fills": int(n), "notional_usd": round(notional, 2),
             "fees_usd": round(fees, 4),
             "slippage_bps": round(weighted / notional, 3) if notional else None}
            for venue, (n, notional, fees, weighted) in sorted(sums.items())]


def veto_section(records: BotRecords, window: Window, closed: Sequence[Mapping[str, Any]]
                 ) -> dict[str, Any]:
    decisions = [v for v in records.vetoes if v["decided_at"] in window]
    outcomes = veto_outcomes(decisions, records.candles, closed)
    priced = [o["counterfactual"] for o in outcomes if o["counterfactual"]]
    return {
        "decisions_by_reason": dict(Counter(str(v["reason_code"]) for v in decisions)),
        "vetoed": [{"pair": o["pair"], "side": o["side"], "decided_at": o["decided_at"],
                    "reason_code": o["reason_code"], "detail": o["detail"],
                    "counterfactual": o["counterfactual"]} for o in outcomes],
        "priced": len(priced),
        "would_be_profit_usd": round(sum(c["would_be_profit_usd"] for c in priced), 2),
        "horizon_hours": round(horizon_of(closed).total_seconds() / 3600, 2),
    }


def _event_row(event: Mapping[str, Any]) -> dict[str, Any]:
    return {"time": utc(event["time"]), "severity": event.get("severity"),
            "code": event.get("code"), "pair": event.get("pair"),
            "message": event.get("message", ""), "source": "events"}


def halts(events: Iterable[Mapping[str, Any]], window: Window) -> list[dict[str, Any]]:
    rows = [_event_row(e) for e in events
            if e.get("code") in HALT_CODES and e.get("time") in window]
    return sorted(rows, key=lambda r: r["time"])


def _time_of(record: Mapping[str, Any]) -> pd.Timestamp | None:
    for key in _TIME_KEYS:
        if record.get(key):
            try:
                return utc(record[key])
            except ValueError:
                continue
    return None


def _record_row(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A ``human_go`` / ``overrides`` record: its time, who, and every other field as text."""
    details = {k: v for k, v in record.items() if k not in (*_TIME_KEYS, "key")}
    code = details.pop("code", None) or details.get("reason") or details.get("kind") or source
    return {"time": _time_of(record), "severity": None, "code": str(code),
            "pair": details.pop("pair", None),
            "message": "; ".join(f"{k}: {v}" for k, v in details.items()
                                 if not isinstance(v, dict | list)), "source": source}


def overrides(records: BotRecords, window: Window) -> list[dict[str, Any]]:
    """Operator events with an override code, then the GO answers and override records."""
    rows = [_event_row(e) for e in records.events
            if e.get("code") in OVERRIDE_CODES and e.get("time") in window]
    for source, items in (("human_go", records.human_go), ("overrides", records.overrides)):
        rows += [row for row in (_record_row(r, source) for r in items)
                 if row["time"] is None or row["time"] in window]
    return sorted(rows, key=lambda r: (r["time"] is None, r["time"] or 0))


def build_report(records: BotRecords, window: Window, now: datetime) -> dict[str, Any]:
    closed = closed_in(records.trades, window)
    curve = eq.daily_equity(((t["close_date"], float(t["close_profit_abs"] or 0))
                             for t in records.trades if not t["is_open"]),
                            records.starting_balance_usd, window.start, window.end)
    drawdown = eq.drawdown_ratio_series(curve)
    winners, losers = extremes(closed)
    return {
        "generated_at": utc(now), "window": {"start": window.start, "end": window.end},
        "db_url": shown_db_url(records.db_url), "stake_currency": records.stake_currency,
        "kpis": kpis(records.trades, closed, curve, window),
        "equity": [{"day": day, "equity_usd": round(float(v), 2),
                    "drawdown_ratio": round(float(drawdown[day]), 6)}
                   for day, v in curve.items()],
        "attribution": attribution(closed), "winners": winners, "losers": losers,
        "slippage_by_venue": slippage_by_venue(records.fills, window),
        "vetoes": veto_section(records, window, closed),
        "halts": halts(records.events, window), "overrides": overrides(records, window),
        "notes": [
            "Equity: starting balance (dry_run_wallet) plus closed profit; open trades are not "
            "marked to market.",
            "Veto counterfactual: entry at the next candle's open, exit after the median holding "
            "time of the week's trades, no stops/ROI/funding, taker fee 0.05 % a side, sized at "
            "the week's median notional - an approximation.",
        ],
    }


# --- CLI -------------------------------------------------------------------------------------

def load_config(paths: Sequence[str]) -> dict[str, Any]:
    from freqtrade.configuration.load_config import load_from_files

    return load_from_files(list(paths))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m control_tower.weekly_report",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--config", "-c", action="append", default=None,
                        help="freqtrade config(s) of the bot (default config/dry-run.json)")
    parser.add_argument("--db-url", default=None, help="freqtrade database (default: config)")
    parser.add_argument("--datadir", type=Path, default=None,
                        help="freqtrade data directory (candles for the veto counterfactual)")
    parser.add_argument("--pairs", nargs="+", default=None, help="only these pairs")
    parser.add_argument("--timeframe", default=None,
                        help="candles for the veto counterfactual (default: the config's)")
    parser.add_argument("--timerange", default=None, help="YYYYMMDD-[YYYYMMDD] instead of the "
                                                          "7 days ending at --end")
    parser.add_argument("--end", default=None, help="end of the week, ISO date/time "
                                                    "(default: now, UTC)")
    parser.add_argument("--starting-balance-usd", type=float, default=None,
                        help="equity before the first trade (default: dry_run_wallet)")
    parser.add_argument("--out", type=Path, default=Path("reports/weekly"),
                        help="output stem: writes <out>.{json,md,html,pdf}")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, now: datetime) -> tuple[dict[str, Any], list[Path]]:
    """Read, build and write the report; returns it and the files written."""
    from control_tower.weekly_render import write_all

    config = load_config(args.config or ["config/dry-run.json"])
    if args.starting_balance_usd is not None:
        config = {**config, "dry_run_wallet": args.starting_balance_usd}
    if args.timeframe:
        config = {**config, "timeframe": args.timeframe}
    window = window_for(now, pd.Timestamp(args.end).to_pydatetime() if args.end else None,
                        args.timerange)
    records = read_records(config, db_url=args.db_url, datadir=args.datadir,
                           pairs=args.pairs or (), candles_from=window.start,
                           candles_to=window.end + timedelta(days=3))
    report = build_report(records, window, now)
    return report, write_all(report, args.out)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report, written = run(args, datetime.now(UTC))
    except (MissingDatabase, ValueError) as err:
        print(f"weekly report: {err}", file=sys.stderr)
        return 2
    k = report["kpis"]
    print(f"week {report['window']['start']:%Y-%m-%d} - {report['window']['end']:%Y-%m-%d}: "
          f"{k['closed_trades']} trades, PnL {k['pnl_usd']} USD, max drawdown "
          f"{k['max_drawdown_ratio']:.2%}, daily Sharpe {k['daily_sharpe']}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
