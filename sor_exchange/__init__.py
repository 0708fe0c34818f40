"""The suite's exchange classes: freqtrade ``Exchange`` subclasses kept under a real ccxt id.

``EXCHANGE_CLASSES`` maps freqtrade's exchange class name (the title-cased ccxt id, after
freqtrade's own alias map) to the suite class used when a config opts in through
``centaur.exchange``. With the opt-in off, freqtrade's stock class is used, untouched.
"""

EXCHANGE_CLASSES: dict[str, str] = {
    "Binance": "sor_exchange.binance:CentaurBinance",
}
