"""What a study searches: a worker joins a study only with the same search.

Two workers share one search only if they evaluate the same objective: the same strategy,
parameter spaces (names and distributions), loss, minimum trades, pairs, timeframe, timerange,
protections and money settings. The first worker stores the fingerprint on the study; any
other worker with a different one is refused, naming the keys that differ, instead of mixing
two searches' losses in one sampler.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import optuna

ATTR = "centaur_fingerprint"

# Configuration keys that change the objective (besides the strategy and the spaces).
CONFIG_KEYS = ("timeframe", "timeframe_detail", "timerange", "hyperopt_loss",
               "hyperopt_min_trades", "stake_amount", "stake_currency", "max_open_trades",
               "dry_run_wallet", "fee", "enable_protections", "position_stacking",
               "analyze_per_epoch", "trading_mode", "margin_mode")


def fingerprint(config: dict[str, Any], strategy: str, pairs: list[str],
                distributions: dict[str, Any]) -> dict[str, Any]:
    """The search as plain JSON values."""
    values = {key: _plain(config.get(key)) for key in CONFIG_KEYS}
    values.update(strategy=strategy, pairs=sorted(pairs),
                  spaces={name: repr(dist) for name, dist in sorted(distributions.items())})
    return values


def digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


def check_or_store(study: optuna.Study, values: dict[str, Any]) -> None:
    """Store the fingerprint on a new study; refuse a worker whose search differs."""
    stored = study.user_attrs.get(ATTR)
    if stored is None:
        study.set_user_attr(ATTR, values)
        return
    differing = sorted(k for k in set(stored) | set(values) if stored.get(k) != values.get(k))
    if differing:
        shown = "; ".join(f"{k}: study {stored.get(k)!r}, this worker {values.get(k)!r}"
                          for k in differing)
        raise ValueError(f"study {study.study_name!r} searches something else ({shown}). "
                         "Fix: start this worker with the study's config and options, or give "
                         "it another --study-name")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.loads(json.dumps(value, default=str))
