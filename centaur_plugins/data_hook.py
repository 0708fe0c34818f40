"""The candle checks at load, hooked into freqtrade's data handler (``centaur.data``).

``IDataHandler.ohlcv_load`` reads a pair's file, trims it to the requested timerange (startup
candles included) and hands the raw frame to the module-level name ``clean_ohlcv_dataframe``,
which merges duplicated timestamps and fills gaps without a warning. The hook wraps that one
name in ``freqtrade.data.history.datahandlers.idatahandler``: the suite's checks
(``centaur.data_checks``) see the frame first, only over the range the run uses. Live exchange
candles (``freqtrade.data.converter``'s own binding) and download-data's merge
(``history_utils``' binding) do not go through it: only data read from disk is checked.

Bad data stops the run (``CentaurConfigError``, freqtrade exits with status 2), or, with
``centaur.data.on_bad_pair: "drop"``, drops the pair with one warning: the frame comes back
empty and freqtrade runs without the pair. Funding and mark rows are never dropped alone: the
pair would trade with no funding charged.

The data handler has no config: ``activate(config)``, called while freqtrade loads the
configuration, keeps the parsed ``centaur.data`` settings for the process. Without a
``centaur`` block the hook falls through: stock freqtrade.
"""

from __future__ import annotations

import functools
import logging
from types import ModuleType
from typing import Any

from pandas import DataFrame

from centaur.data_checks import PAIR_ATTR, check_candles, drop_warning, droppable, failure_message
from centaur.settings import CONFIG_KEY, CentaurConfigError, settings_from
from centaur.settings.data import DataSettings

logger = logging.getLogger(__name__)

_active: DataSettings | None = None


def activate(config: dict[str, Any]) -> DataSettings | None:
    """Keep the config's ``centaur.data`` settings for this process (None: no suite config)."""
    global _active
    _active = settings_from(config).data if CONFIG_KEY in config else None
    if _active is not None:
        logger.info("Centaur %s", _active.short_desc())
    return _active


def active_settings() -> DataSettings | None:
    return _active


def screen(frame: DataFrame, pair: str, timeframe: str, candle_type: str) -> DataFrame | None:
    """None when the frame may be used; an empty frame when the pair is dropped. Raises on
    bad data unless ``on_bad_pair`` is ``drop`` and the candle type can be dropped."""
    settings = _active
    if settings is None or not settings.enabled:
        return None
    problems = check_candles(frame, pair, timeframe, str(candle_type), settings)
    if not problems:
        return None
    if settings.on_bad_pair == "fail" or not droppable(candle_type):
        raise CentaurConfigError(failure_message(problems, settings))
    logger.warning(drop_warning(problems))
    return frame.iloc[0:0]


def patch_data_handler(module: ModuleType) -> None:
    """Wrap ``module.clean_ohlcv_dataframe`` (idatahandler's binding) with ``screen``."""
    from centaur_plugins import registry
    from centaur_plugins.hooks import _mark, is_hooked

    original = module.clean_ohlcv_dataframe
    if is_hooked(original):
        return

    @functools.wraps(original)
    def clean_ohlcv_dataframe(dataframe, timeframe, pair, *, fill_missing, drop_incomplete,
                              candle_type=module.CandleType.SPOT):
        dropped = screen(dataframe, pair, timeframe, candle_type)
        if dropped is not None:
            return dropped
        cleaned = original(dataframe, timeframe, pair, fill_missing=fill_missing,
                           drop_incomplete=drop_incomplete, candle_type=candle_type)
        if _active is not None and not droppable(candle_type):
            cleaned.attrs[PAIR_ATTR] = pair  # funding and mark: centaur.funding names the pair
        return cleaned

    module.clean_ohlcv_dataframe = _mark(clean_ohlcv_dataframe)
    registry.record("data", ["candle checks at load (centaur.data)"])
