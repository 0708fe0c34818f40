"""What the suite registers into freqtrade, as plain data (cheap to import and to log)."""

from __future__ import annotations

# Telegram commands the suite adds: name -> help text. Handlers: centaur_plugins.telegram.
TELEGRAM_COMMANDS: dict[str, str] = {
    "centaur": "suite status: plugins, exchange class, protections, trading state",
    "killswitch": "flatten everything, cancel open orders, halt until /resume",
    "resume": "clear the kill switch and max-drawdown halts (/resume all: timed halts too)",
    "state_reset": "after STATE_LOST / STATE_CORRUPT: start a fresh risk state (locks kept)",
    "interventions": "list the active interventions (LLM breaker or operator)",
    "revoke": "revoke an intervention: /revoke <id>",
}

REST_PREFIX = "/api/v1/centaur"


def catalogue() -> dict[str, list[str]]:
    from risk_protections import PROTECTIONS
    from sor_exchange import EXCHANGE_CLASSES

    return {
        "protections": sorted(PROTECTIONS),
        "exchange": [f"{name}->{loc.rsplit(':', 1)[1]} (opt-in: centaur.exchange)"
                     for name, loc in sorted(EXCHANGE_CLASSES.items())],
        "telegram": [f"/{name}" for name in TELEGRAM_COMMANDS] + ["centaur.telegram.base_url"],
        "rest": [f"{REST_PREFIX}/*"],
        "config": ["datadir key honoured"],
    }
