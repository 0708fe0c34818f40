"""CentaurBinance: Binance as the primary venue, with the suite's offline markets and router."""

from __future__ import annotations

import logging

from freqtrade.exchange import Binance

from centaur.funding import FundingAlignmentMixin
from centaur.offline.markets import OfflineMarketsMixin
from centaur.settings import settings_from


logger = logging.getLogger(__name__)


class CentaurBinance(FundingAlignmentMixin, OfflineMarketsMixin, Binance):
    """Binance kept as freqtrade's exchange (markets, data, precision) plus the suite's layers.

    Selected instead of freqtrade's ``Binance`` only when the config opts in through
    ``centaur.exchange``; see ``centaur.plugins.hooks``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        exchange_settings = settings_from(self._config).exchange
        logger.info(
            "Centaur exchange class %s active (offline markets: %s, order router: %s)",
            type(self).__name__,
            "on" if exchange_settings.offline_markets.enabled else "off",
            "on" if exchange_settings.router.enabled else "off",
        )
