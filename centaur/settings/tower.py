"""Settings of the control tower: metrics, alerts, human GO, reconciliation, the paper gate and
size ramp, the weekly report. One section per part, each off unless a config turns it on.

Each part owns its section here; a part's module docstring says what its keys do.
"""

from __future__ import annotations

from pydantic import Field

from centaur.settings.base import Section


class MetricsSettings(Section):
    """``centaur.metrics``: the Prometheus endpoint (``control_tower.metrics``)."""

    enabled: bool = False
    listen_ip_address: str = "127.0.0.1"
    listen_port: int = Field(default=9108, ge=1, le=65535)


class AlertsSettings(Section):
    """``centaur.alerts``: tiered alerts to Telegram and a Slack-compatible webhook
    (``control_tower.alerts``)."""

    enabled: bool = False


class HumanConfirmSettings(Section):
    """``centaur.human_confirm``: entries above ``above_usd`` notional wait for an operator's
    GO (``control_tower.human_go``)."""

    enabled: bool = False
    above_usd: float = Field(default=5000.0, gt=0)
    timeout_secs: int = Field(default=300, gt=0)


class ReconciliationSettings(Section):
    """``centaur.reconciliation``: trades against venue positions and balances
    (``control_tower.reconciliation``)."""

    enabled: bool = False
    interval_secs: int = Field(default=60, gt=0)


class PaperGateSettings(Section):
    """``centaur.paper_gate``: live start needs a good dry-run record
    (``control_tower.paper_gate``)."""

    enabled: bool = True
    min_closed_trades: int = Field(default=60, ge=0)


class SizeRampSettings(Section):
    """``centaur.size_ramp``: live size starts at ``start_ratio`` of target and steps to 100 %
    (``control_tower.size_ramp``)."""

    enabled: bool = True
    start_ratio: float = Field(default=0.25, gt=0, le=1)
    weeks: int = Field(default=4, ge=1)


class WeeklyReportSettings(Section):
    """``centaur.weekly_report``: the weekly report, and its scheduled Telegram document
    (``control_tower.weekly_report``)."""

    send_telegram: bool = False
