"""The LLM layer: an entry veto and a degradation-triggered circuit breaker.

The model never opens a trade. It answers two bounded questions through any OpenAI-compatible
endpoint (``client``): may this proposed entry proceed, at reduced size, or not (``schema``,
``prompt``, ``verdict``); and, when the bot degrades, which calls from a fixed palette to make
(``palette``). Every answer is recorded under a hash of model and request (``store``): the
record is the audit log, the cache and the replay source that makes backtests deterministic
(``consultant``). Budgets (``budget``), headlines (``news``), market state (``market_state``),
live prefetch (``prefetch``), the local model server (``server``) and the counterfactual
report (``report``) complete it.
"""
