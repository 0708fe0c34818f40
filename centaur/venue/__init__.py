"""A local exchange on 127.0.0.1 for offline dry-runs and tests (a development tool only).

It speaks Binance's REST protocol to ccxt's real ``binance`` class and replays the real candles,
funding and mark prices of ``../shared/data`` as if live, with order books shaped like real
recorded L2 books. Start it with ``centaur venue`` (or ``python -m centaur.venue``).
"""
