"""Spot candles for a futures bot on Binance (a ccxt quirk, worked around at the boundary).

In futures mode freqtrade's ccxt object has ``defaultType: swap``, and ccxt's
``binance.market()`` then resolves a spot symbol (``BTC/USDT``) to its perpetual
(``BTC/USDT:USDT``) - so an informative pair with ``candle_type="spot"`` silently receives
the perpetual's candles (ccxt ``binance.market``, "defaultType 'swap' resolves spot-style
symbols to the perpetual"). Backtests read spot files from disk and are unaffected; dry-run
and live would see a spot-perp basis of zero. This mixin asks the spot klines endpoint for
the spot market itself.
"""

from __future__ import annotations

from typing import Any

from freqtrade.enums import CandleType, TradingMode


class SpotCandlesInFuturesMixin:
    """Fetches ``candle_type=spot`` candles from the spot market when trading futures."""

    trading_mode: TradingMode
    markets: dict[str, Any]
    _api_async: Any

    async def _async_get_candle_history(self, pair: str, timeframe: str,
                                        candle_type: CandleType, since_ms: int | None = None):
        if candle_type != CandleType.SPOT or self.trading_mode != TradingMode.FUTURES:
            return await super()._async_get_candle_history(  # type: ignore[misc]
                pair, timeframe, candle_type, since_ms)
        market = self.markets[pair]
        limit = self.ohlcv_candle_limit(timeframe, candle_type, since_ms)  # type: ignore[attr-defined]
        request = {"symbol": market["id"], "interval": timeframe, "limit": limit}
        if since_ms is not None:
            request["startTime"] = since_ms
        rows = await self._api_async.publicGetKlines(request)
        data = self._api_async.parse_ohlcvs(rows, market, timeframe, since_ms, limit)
        return (pair, timeframe, candle_type, data,
                self._drop_incomplete_candle(candle_type))  # type: ignore[attr-defined]
