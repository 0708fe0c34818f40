"""Hyperopt on a shared Optuna study: ``centaur hyperopt`` (see ``cli``).

freqtrade's own hyperopt keeps its Optuna study in memory and fans epochs out to local joblib
workers. Here the study lives in an Optuna RDB storage named by URL (PostgreSQL for many
machines, a SQLite file for one), and any number of worker processes started anywhere with the
same study name share one search. The objective, spaces, loss functions, sampler and result
files are freqtrade's own (``freqtrade.optimize.hyperopt.HyperOptimizer``).

- ``storage``: the storage URL, heartbeats and the retry of trials whose worker died.
- ``fingerprint``: what a study was created for; a worker with another config is refused.
- ``worker``: the ask/evaluate/tell loop of one worker process.
- ``export``: the best epoch as ``<Strategy>.json`` beside the strategy and the epochs as a
  ``.fthypt`` results file (``freqtrade hyperopt-show`` / ``hyperopt-list`` read it).
- ``cli``: the command line (freqtrade's hyperopt options plus ``--storage``/``--study-name``).
"""
