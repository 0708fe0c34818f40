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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.enums import CandleType
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Trade

from centaur.decision import ReasonCode
from centaur.market_data import funding_informative
from centaur.pipeline import EntryPipeline, EntryRequest
from centaur.settings import CentaurConfigError, settings_from
from risk_protections import entry_gates as gates
from risk_protections.dynamic_leverage import rounded_down
from sor_exchange.hedge_leg import spot_hedge_from_config
from sor_exchange.hedge_simulated import SimulatedSpotHedge
from sor_exchange.spot_candles import SpotCandlesInFuturesMixin
from strategies.carry_account import CarryAccount
from strategies.carry_frames import CarryFrames
from strategies.carry_legs import CarryLegs
from strategies.carry_rule import carry_columns, entry_mask, exit_decision
from strategies.carry_sizer import CarrySizer, HedgeReadyGate, VenueCapital
from strategies.pipeline_strategy import PipelineStrategy
from strategies.signals.hourly import spot_pair

logger = logging.getLogger(__name__)

CARRY_TAG = "carry"


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
            "Funding": {"funding_rate": {"color": "#878787"},  # the settled rate it averages
                        "carry_funding_entry": {"color": "#2b83ba"},
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
        super().bot_start(**kwargs)
        self.hedge = self._make_hedge()
        self.legs = CarryLegs(self.hedge, _FreqtradeTrades(), self.events, lambda: self._now)
        if self.trading:
            self.legs.load_unresolved()
        if not self.futures:
            raise CentaurConfigError(
                "CentaurCarry holds a short perpetual against spot: trading_mode must be "
                "'futures' (with margin_mode 'isolated'). Fix: use config/carry.json.")

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
        found += self.tower.entry_gates()
        sizer = CarrySizer(self.centaur.carry, self._venue_capital,
                           lambda: len(self.whitelist()))
        return EntryPipeline([], found, sizer, on_denial=self.denials)

    def restart_backtest_run(self) -> None:
        super().restart_backtest_run()
        if isinstance(self.hedge, SimulatedSpotHedge):
            self.hedge.clear()
        self.legs.clear()

    # --- data ----------------------------------------------------------------------------------

    def informative_pairs(self):
        whitelist = self.whitelist()
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
        return rounded_down(min(wanted, max_leverage, ceiling if ceiling else wanted))

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

    # --- fills: the spot leg follows the perp (``strategies.carry_legs``) ----------------------

    def order_filled(self, pair: str, trade: Trade, order, current_time: datetime,
                     **kwargs) -> None:
        """The hedge first (its errors are caught there), then the risk layer's bookkeeping."""
        self._now = current_time
        self.legs.on_fill(trade, order)
        super().order_filled(pair, trade, order, current_time, **kwargs)

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        self._now = current_time
        try:  # before the breakers read the two-leg equity; never instead of them
            self.legs.reconcile()
        except Exception:  # noqa: BLE001 - logged critical, asked again next loop
            logger.exception("[%s] hedge reconciliation failed; again at the next loop",
                             ReasonCode.HEDGE_PENDING)
        super().bot_loop_start(current_time=current_time, **kwargs)

    # --- exits ------------------------------------------------------------------------------------

    def custom_exit(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs) -> str | None:
        if self.legs.must_flatten(int(trade.id)):
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
            **self.legs.status(),
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


class _FreqtradeTrades:
    """freqtrade's trades for ``CarryLegs`` (backtests: the in-memory lists)."""

    @staticmethod
    def open():
        return Trade.get_trades_proxy(is_open=True)

    @staticmethod
    def by_id(trade_id: int):
        for is_open in (True, False):
            for trade in Trade.get_trades_proxy(is_open=is_open):
                if int(trade.id) == trade_id:
                    return trade
        return None
