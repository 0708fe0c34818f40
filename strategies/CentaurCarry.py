"""CentaurCarry: the flagship - delta-neutral funding carry, the perpetual short in freqtrade and
the same base quantity long in spot through the suite's hedge.

- **Rule** (``strategies.carry_rule``): enter when trailing funding and its forecast pay for
  a round trip within a month and the perp trades near spot; exit when funding flips, the
  basis blows out, or the price is half-way to the short's liquidation.
- **Legs**: freqtrade holds the perp short. On its entry fill the hedge buys the spot leg
  (``sor_exchange.hedge_leg.SpotHedge`` live and dry-run: idempotent client ids, fail closed;
  ``sor_exchange.hedge_simulated.SimulatedSpotHedge`` in backtests: the real spot candles with
  fees and slippage); on its exit fill the hedge sells it. A hedge that cannot be placed
  flattens the perp (``HEDGE_FAILED``) and alerts; a spot leg left without its perp (a perp
  closed by a stop or liquidation, a close that failed) is sold at the next loop.
- **Risk**: the risk layer's halts, interventions and breakers apply, on the two-leg equity
  (``strategies.carry_account``); the sizer is the carry's own (``strategies.carry_sizer``,
  equal capital per pair under a per-venue cap). The LLM veto applies to entries when enabled.
- **Directional signals**: none (``centaur.ensemble`` is not read here): no signal beat random
  directions after costs in ``make report-evidence``; they stay in ``CentaurEnsemble``.

freqtrade's own tables show the perp leg only; the two-leg result is printed by ``make demo``
and reported by ``make report-evidence`` (``research.carry_result``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Trade

from centaur.decision import ReasonCode
from centaur.events import OperatorEvent, Severity
from centaur.market_data import funding_informative
from centaur.pipeline import EntryPipeline, EntryRequest
from centaur.settings import CentaurConfigError, settings_from
from risk_protections import entry_gates as gates
from sor_exchange.hedge_leg import HedgeRequest, HedgeResult, spot_hedge_from_config
from sor_exchange.hedge_simulated import SimulatedSpotHedge
from sor_exchange.spot_candles import SpotCandlesInFuturesMixin
from strategies.carry_account import CarryAccount
from strategies.carry_frames import CarryFrames
from strategies.carry_rule import carry_columns, entry_mask, exit_decision
from strategies.carry_sizer import CarrySizer, HedgeReadyGate, VenueCapital
from strategies.pipeline_strategy import PipelineStrategy
from strategies.signals.hourly import spot_pair

logger = logging.getLogger(__name__)

CARRY_TAG = "carry"
PENDING_FLATTEN = timedelta(seconds=60)  # an unknown answer this old: flatten the perp


class CentaurCarry(PipelineStrategy):
    """Short perpetual + long spot while funding pays; both legs or neither."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    uses_ensemble = False
    uses_models = False
    process_only_new_candles = True
    startup_candle_count = 0  # set from the carry windows in __init__

    # The outer net only: the carry's deleverage exit closes both legs well before it.
    stoploss = -0.75
    use_custom_stoploss = False
    position_adjustment_enable = False
    minimal_roi = {"0": 100}
    trailing_stop = False
    use_exit_signal = True
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}

    plot_config = {
        "main_plot": {},
        "subplots": {
            "Funding": {"carry_funding_entry": {"color": "#2b83ba"},
                        "carry_funding_exit": {"color": "#abdda4"},
                        "carry_forecast": {"color": "#fdae61"}},
            "Basis": {"carry_basis": {"color": "#d7191c"}},
        },
    }

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        carry = settings_from(config).carry
        step_hours = timeframe_to_seconds(config.get("timeframe") or self.timeframe) / 3600
        longest = max(carry.entry_window_hours, carry.exit_window_hours,
                      carry.forecast_window_hours)
        self.startup_candle_count = int(-(-longest // step_hours)) + 1

    # --- start-up ------------------------------------------------------------------------------

    def bot_start(self, **kwargs) -> None:
        self.frames = CarryFrames(pd.Timedelta(self.timeframe).to_pytimedelta())
        self._now = datetime.now(UTC)
        self.hedge = None  # built once the events and the exchange are there
        self._unhedged: dict[int, str] = {}  # trade id -> why its perp is flattened
        self._pending: dict[tuple[int, str], tuple[HedgeRequest, datetime]] = {}
        self._alerted: set[tuple[int, str, str, str]] = set()
        super().bot_start(**kwargs)
        self.hedge = self._make_hedge()
        if self.trading:
            self._load_unresolved_legs()
        if not self.futures:
            raise CentaurConfigError(
                "CentaurCarry holds a short perpetual against spot: trading_mode must be "
                "'futures' (with margin_mode 'isolated'). Fix: use config/backtest.json.")

    def check_host(self) -> None:
        """Trading needs the suite's exchange class: freqtrade's own would answer the spot
        candles with the perpetual's (``sor_exchange.spot_candles``), a basis of zero."""
        super().check_host()
        exchange = getattr(self.dp, "_exchange", None) if self.dp else None
        if self.trading and exchange is not None and not isinstance(
                exchange, SpotCandlesInFuturesMixin):
            raise CentaurConfigError(
                "CentaurCarry reads spot candles for the basis and the hedge, which "
                f"freqtrade's {type(exchange).__name__} answers with the perpetual's. Fix: opt "
                "in to the suite's exchange class (centaur.exchange.router.enabled: true, as in "
                "config/dry-run-carry.json and config/live-carry.json).")

    def _make_hedge(self):
        """Backtests: legs priced from the spot candles. Dry-run and live: the venue's hedge
        (paper fills against the real spot book in dry-run, ccxt orders live)."""
        settings = settings_from(self.config).carry
        if not self.trading:
            return SimulatedSpotHedge(self.frames.spot_fill_price, lambda: self._now,
                                      settings.spot_fee_ratio, settings.slippage_ratio)
        state_dir = Path(self.config.get("user_data_dir") or "user_data")
        return spot_hedge_from_config(self.config, state_dir, events=self.events,
                                      exchange_config=self._exchange_credentials())

    def _exchange_credentials(self) -> dict[str, Any]:
        """freqtrade's exchange block with the credentials its bot moved into the exchange
        object (``config["exchange"]`` has them removed while trading)."""
        api = getattr(getattr(self.dp, "_exchange", None), "_api", None)
        block = dict(self.config["exchange"])
        if api is not None and getattr(api, "apiKey", None):
            block.update(key=api.apiKey, secret=api.secret)
        return block

    def _account(self) -> CarryAccount:
        return CarryAccount(self.config, lambda: self.wallets,
                            lambda: getattr(self.dp, "_exchange", None), self.candle_rows,
                            lambda: self.hedge, self.frames.spot_mark)

    def _build_pipeline(self) -> EntryPipeline:
        found: list[Any] = []
        if self.centaur.risk.enabled:
            found += [gates.HaltGate(lambda: self.risk.state),
                      gates.InterventionGate(self.interventions),
                      gates.FundingKnownGate(self.candle_rows)]
        found.append(HedgeReadyGate(self._hedge_price))
        if self.veto is not None:
            found.append(self.veto)
        sizer = CarrySizer(self.centaur.carry, self._venue_capital,
                           lambda: len(self.dp.current_whitelist()))
        return EntryPipeline([], found, sizer, on_denial=self.denials)

    def restart_backtest_run(self) -> None:
        super().restart_backtest_run()
        if isinstance(self.hedge, SimulatedSpotHedge):
            self.hedge.clear()
        self._unhedged.clear()
        self._pending.clear()

    # --- data ----------------------------------------------------------------------------------

    def informative_pairs(self):
        whitelist = self.dp.current_whitelist()
        return [e for pair in whitelist for e in (
            funding_informative(pair), (spot_pair(pair), self.timeframe, CandleType.SPOT.value))]

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)
        pair = metadata["pair"]
        spot = self.dp.get_pair_dataframe(spot_pair(pair), self.timeframe,
                                          candle_type=CandleType.SPOT)
        aligned = _aligned(dataframe["date"], spot)
        dataframe["spot_open"] = aligned["open"]
        dataframe["spot_close"] = aligned["close"]
        hours = timeframe_to_seconds(self.timeframe) / 3600
        dataframe = carry_columns(dataframe, dataframe["spot_close"].to_numpy(), hours,
                                  self.centaur.carry)
        self.frames.update(pair, dataframe)
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        enter = entry_mask(dataframe, self.centaur.carry)
        dataframe["enter_short"] = enter.astype("int8")
        dataframe["enter_long"] = 0
        dataframe["enter_tag"] = None
        dataframe.loc[enter, "enter_tag"] = CARRY_TAG
        return super().populate_entry_trend(dataframe, metadata)

    # --- entries --------------------------------------------------------------------------------

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None,
                 side: str, **kwargs) -> float:
        wanted = self.centaur.carry.leverage
        ceiling = self.interventions.leverage_ceiling(pair, current_time)
        return max(1.0, min(wanted, max_leverage, ceiling if ceiling else wanted))

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs) -> float:
        proposal = self._proposal_at(pair, side, current_time, entry_tag)
        with self.risk.lock:
            verdict = self.pipeline.size(proposal, EntryRequest(
                current_time, current_rate, leverage, min_stake, max_stake))
        return verdict.stake_usd if verdict.decision.allowed else 0.0

    def _venue_capital(self, request: EntryRequest) -> VenueCapital:
        open_margin = sum(float(t.stake_amount) for t in Trade.get_trades_proxy(is_open=True))
        return VenueCapital(self.risk.account.equity_usd(request.now), open_margin)

    def _hedge_price(self, pair: str, request: EntryRequest) -> float | None:
        if self.trading:  # the live hedge checks the real book when it places the leg
            return self.frames.spot_mark(pair, request.now)
        return self.frames.spot_fill_price(pair, request.now)

    # --- fills: the hedge follows the perp ------------------------------------------------------

    def order_filled(self, pair: str, trade: Trade, order, current_time: datetime,
                     **kwargs) -> None:
        """The hedge follows the perp's fills first (freqtrade swallows a callback's errors:
        one here must not skip it), then the risk layer's bookkeeping."""
        self._now = current_time
        try:
            if order.ft_order_side == trade.entry_side:
                self._hedge(self._request(trade, "open", float(order.safe_filled),
                                          float(order.safe_price)))
            elif _closes(trade, order):
                self._close_hedge(trade, float(order.safe_price))
            else:  # a partial exit: the spot leg no longer matches the perp
                self._flatten_unhedged(trade, "a partial exit of the perp: both legs close")
        except Exception as err:  # noqa: BLE001 - the leg's outcome is unknown: resolve it
            logger.exception("[%s] trade %s: the hedge raised", ReasonCode.HEDGE_PENDING,
                             trade.id)
            action = "open" if order.ft_order_side == trade.entry_side else "close"
            self._alert(trade, action, "pending", f"the hedge raised {err!r}")
            if action == "open":
                self._flatten_unhedged(trade, f"the hedge raised {err!r}")
        super().order_filled(pair, trade, order, current_time, **kwargs)

    def _request(self, trade: Trade, action: str, base_amount: float, price: float
                 ) -> HedgeRequest:
        opened = int(trade.open_date_utc.timestamp())
        return HedgeRequest(int(trade.id), trade.pair, action, base_amount, price,
                            key=str(opened))

    def _hedge(self, request: HedgeRequest) -> HedgeResult:
        """Place one leg; an open leg that is not filled flattens the perp (a pending one
        only once its answer stays unknown past ``PENDING_FLATTEN``)."""
        result = self.hedge.execute(request)
        trade_id = request.trade_id
        if result.status == "pending":
            self._pending.setdefault((trade_id, request.action), (request, self._now))
        else:
            self._pending.pop((trade_id, request.action), None)
        if not result.done:
            self._alert_result(result)
            if request.action == "open" and result.status != "pending":
                self._unhedged[trade_id] = result.reason or result.status
        return result

    def _alert_result(self, result: HedgeResult) -> None:
        request = result.request
        trade = _trade(request.trade_id)
        if trade is not None:
            self._alert(trade, request.action, result.status, result.reason)

    def _alert(self, trade: Trade, action: str, status: str, reason: str) -> None:
        said = (int(trade.id), action, status, reason)
        if said in self._alerted:  # retried every loop: one alert per state
            return
        self._alerted.add(said)
        code = ReasonCode.HEDGE_PENDING if status == "pending" else ReasonCode.HEDGE_FAILED
        self.events.emit(OperatorEvent(
            self._now, Severity.CRITICAL, code,
            f"spot {action} leg of trade {trade.id} {status}: {reason}; "
            + ("the perp is flattened" if action == "open" and status != "pending"
               else "asked again every loop"), pair=trade.pair))

    def _flatten_unhedged(self, trade: Trade, reason: str) -> None:
        self._unhedged[int(trade.id)] = reason

    def _close_hedge(self, trade: Trade, price: float) -> None:
        opened = self.hedge.legs(int(trade.id)).get("open")
        if opened is not None and opened.filled_base > 0:
            self._hedge(self._request(trade, "close", opened.filled_base, price))

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        self._now = current_time
        try:  # before the breakers read the two-leg equity; never instead of them
            self._reconcile_hedges()
        except Exception:  # noqa: BLE001 - logged critical, asked again next loop
            logger.exception("[%s] hedge reconciliation failed; again at the next loop",
                             ReasonCode.HEDGE_PENDING)
        super().bot_loop_start(current_time=current_time, **kwargs)

    def _load_unresolved_legs(self) -> None:
        """After a restart: legs written as intents or left pending are asked again first
        (their trades may be open or closed); a stored leg naming a trade this database does
        not hold means the legs file belongs to another database - fail closed."""
        for trade_id, action in self.hedge.unresolved():
            trade = _trade(trade_id)
            if trade is None:
                raise CentaurConfigError(
                    f"the hedge's legs file has an unresolved {action} leg of trade {trade_id}, "
                    "which this trade database does not hold: it belongs to another database. "
                    "Fix: resolve that leg on the venue by hand, then move the legs file away.")
            opened = self.hedge.legs(trade_id).get("open")
            amount = opened.filled_base if action == "close" and opened else float(trade.amount)
            request = self._request(trade, action, amount, float(trade.open_rate))
            self._pending[(trade_id, action)] = (request, self._now)

    def _reconcile_hedges(self) -> None:
        """Every loop: unknown answers are asked again (same client id); an open perp
        without a filled spot leg (and no answer pending) is flattened; a spot leg whose
        perp is closed is unhedged and is sold now."""
        for (trade_id, _), (request, since) in list(self._pending.items()):
            result = self._hedge(request)
            if result.status == "pending" and self._now - since > PENDING_FLATTEN:
                self._unhedged.setdefault(trade_id, "the spot leg's answer is still unknown")
        pending_opens = {trade_id for trade_id, action in self._pending if action == "open"}
        for trade in Trade.get_trades_proxy(is_open=True):
            trade_id = int(trade.id)
            opened = self.hedge.legs(trade_id).get("open")
            if (opened is None or not opened.done) and trade_id not in pending_opens \
                    and not trade.has_open_orders:
                self._unhedged.setdefault(trade_id, "no filled spot leg for this open perp")
        open_ids = {int(t.id) for t in Trade.get_trades_proxy(is_open=True)}
        for leg in self.hedge.open_hedges():
            trade = None if leg.request.trade_id in open_ids else _trade(leg.request.trade_id)
            if trade is not None and (leg.request.trade_id, "close") not in self._pending:
                self._hedge(self._request(trade, "close", leg.filled_base,
                                          float(trade.close_rate or leg.average_price)))

    # --- exits ------------------------------------------------------------------------------------

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | None:
        if int(trade.id) in self._unhedged:
            return str(ReasonCode.HEDGE_FAILED)
        if self.centaur.risk.enabled:
            flatten = self.risk.state.flatten(current_time)
            if flatten is not None:
                return str(flatten.source)
        row = self.frames.closed_at(pair, current_time) or {}
        adverse = current_rate / float(trade.open_rate) - 1.0  # the short loses when up
        decision = exit_decision(row.get("carry_funding_exit"), row.get("carry_forecast"),
                                 row.get("carry_basis"), adverse, self.centaur.carry)
        if decision.allowed:
            return None
        logger.info("[%s] %s: %s", decision.reason, pair, decision.detail)
        return str(decision.reason)

    def adjust_trade_position(self, trade: Trade, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              current_entry_rate: float, current_exit_rate: float,
                              current_entry_profit: float, current_exit_profit: float,
                              **kwargs):
        return None

    # --- status ------------------------------------------------------------------------------------

    def centaur_status(self) -> dict[str, Any]:
        status = super().centaur_status()
        if not hasattr(self, "hedge"):
            return status
        now = datetime.now(UTC)
        status["carry"] = {
            "hedges_open": [{"trade_id": leg.request.trade_id, "pair": leg.request.perp_pair,
                             "spot_base": leg.filled_base, "spot_price": leg.average_price,
                             "client_order_id": leg.client_order_id}
                            for leg in self.hedge.open_hedges()],
            "hedge_failures": {str(k): v for k, v in self._unhedged.items()},
            "hedges_pending": [f"{t}:{a}" for t, a in self._pending],
            "spot_pnl_usd": round(self.risk.account.spot_pnl_usd(now), 2),
            "equity_two_legs_usd": round(self.risk.account.equity_usd(now), 2),
        }
        return status


def _aligned(dates: pd.Series, spot: pd.DataFrame | None) -> dict[str, Any]:
    """Spot open and close on the perp's candle dates (NaN where spot has no candle)."""
    if spot is None or spot.empty:
        nan = pd.Series(float("nan"), index=dates.index)
        return {"open": nan.to_numpy(), "close": nan.to_numpy()}
    frame = spot.drop_duplicates("date", keep="last").set_index("date")
    index = pd.DatetimeIndex(dates)
    return {name: frame[name].reindex(index).to_numpy(dtype="float64")
            for name in ("open", "close")}


def _trade(trade_id: int) -> Trade | None:
    """The trade with this id, open or closed."""
    for is_open in (True, False):
        for trade in Trade.get_trades_proxy(is_open=is_open):
            if int(trade.id) == trade_id:
                return trade
    return None


def _closes(trade: Trade, order) -> bool:
    """An exit fill that closes the trade (freqtrade's backtest calls ``order_filled``
    before it closes the trade, live after)."""
    return not trade.is_open or float(order.safe_filled) >= float(trade.amount) * (1 - 1e-9)
