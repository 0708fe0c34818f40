"""Local exchanges on 127.0.0.1 for offline dry-runs and tests (a development tool only).

They speak Binance's, Bybit's (v5) and OKX's (v5) REST protocols to ccxt's real classes and
replay the real candles, funding and mark prices of ``../shared/data`` as if live, with order
books shaped like real recorded L2 books. Start the Binance venue with ``centaur venue`` (or
``python -m dev_tools.venue``), all three with ``python -m dev_tools.venue.multi``.
"""
