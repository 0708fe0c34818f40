"""Centaur's FreqAI layer: the pooled cross-sectional ranker, per-pair LightGBM leaves, the
documented feature catalogue, GARCH volatility, regimes and the fail-closed drift gate.

FreqAI model classes live one per file (file stem = class name) with two-line resolver files
in ``user_data/freqaimodels/``; every other module holds one rule, named after it.
"""
