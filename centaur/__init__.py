"""Centaur: a freqtrade plugin suite for AI-assisted crypto trading.

This package is the suite's small shared core: typed settings, the plugin registration that
lets unmodified freqtrade load the suite, the decision type every layer reports with, the
offline markets source and the local venue used for offline dry-runs.

Importing it must stay cheap and must not import freqtrade: it is imported from a ``.pth``
start-up file in every Python process of the environment.
"""

__version__ = "0.1.0"
