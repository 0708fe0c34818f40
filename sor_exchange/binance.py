from __future__ import annotations

import logging

from freqtrade.exchange import Binance

from centaur.exchange_health import ExchangeHealthMixin
from centaur.funding import FundingAlignmentMixin
from centaur.offline.markets import OfflineMarketsMixin
from centaur.settings import settings_from
from sor_exchange.routed import RoutedExchangeMixin
from sor_exchange.spot_candles import SpotCandlesInFuturesMixin

logger = logging.getLogger(__name__)


class CentaurBinance(ExchangeHealthMixin, FundingAlignmentMixin, OfflineMarketsMixin,
                     SpotCandlesInFuturesMixin, RoutedExchangeMixin, Binance):
    """Binance kept as freqtrade's exchange (markets, data, precision) plus the suite's layers.

    Selected instead of freqtrade's ``Binance`` only when the config opts in through
    ``centaur.exchange``; see ``centaur_plugins.hooks``. With ``centaur.exchange.router`` on
    and extra venues configured, orders are routed across venues (``sor_exchange.routed``).
    Failures on the order path are recorded for the risk layer's error-rate breaker
    (``risk_protections.exchange_health``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        exchange_settings = settings_from(self._config).exchange
        router = exchange_settings.router
        logger.info(
            "Centaur exchange class %s active (offline markets: %s, order router: %s)",
            type(self).__name__,
            "on" if exchange_settings.offline_markets.enabled else "off",
            f"on, venues: {', '.join(sorted(router.active_venues())) or 'primary only'}"
            if router.enabled else "off",
        )
