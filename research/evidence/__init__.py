"""The research harness: null-relative scores, honest statistics, purged folds, the look ledger.

Every report and every default of the suite is decided with these (``make report-evidence``).
Research only: runtime code never imports this package (the null of a single call lives in the
kernel, ``centaur.null_baseline``, because the tracker scores calls with it live).
"""
