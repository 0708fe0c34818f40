"""Risk rules that are freqtrade protections, registered into freqtrade by the suite's hooks.

``PROTECTIONS`` maps the protection name used in a strategy's ``protections`` list (the
``method`` key) to where the class lives; classes are imported only when a config uses them.
"""

PROTECTIONS: dict[str, str] = {
    "LossStreakGuard": "risk_protections.loss_streak_guard:LossStreakGuard",
}
