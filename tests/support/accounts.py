"""A hand-written stand-in for the risk layer's ``Account``: a flat 10,000 USD, nothing open."""

from __future__ import annotations


class FlatAccount:
    exchange_name = "binance"

    def equity_usd(self, now):
        return 10_000.0

    def available_usd(self, default):
        return 10_000.0

    def open_exposures(self):
        return []

    def closed_profits(self, limit):
        return []
