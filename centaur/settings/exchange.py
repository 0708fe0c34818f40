"""Settings of the suite's exchange class: offline markets and the order router."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from centaur.settings.base import Section


class OfflineMarketsSettings(Section):
    """Load markets from recorded exchange responses instead of the network."""

    enabled: bool = False
    recordings_dir: Path = Path("../shared/data/orderbooks/cryptofeed")


class RouterSettings(Section):
    """Smart order routing across venues (filled in by the SOR layer)."""

    enabled: bool = False


class ExchangeSettings(Section):
    offline_markets: OfflineMarketsSettings = Field(default_factory=OfflineMarketsSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)

    @property
    def suite_class_requested(self) -> bool:
        """True when the config opts in to the suite's exchange class."""
        return self.offline_markets.enabled or self.router.enabled
