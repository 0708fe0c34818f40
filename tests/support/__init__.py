"""Helpers the tests share: paths, running freqtrade for real, reading its exports."""
