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


_SEVERITY = r"^(info|warning|critical)$"


class TelegramAlertSettings(Section):
    """``centaur.alerts.telegram``: alerts to freqtrade's Telegram chat (token and chat id from
    freqtrade's ``telegram`` block, i.e. FREQTRADE__TELEGRAM__TOKEN / __CHAT_ID)."""

    enabled: bool = True
    min_severity: str = Field(default="info", pattern=_SEVERITY)
    max_per_minute: int = Field(default=20, ge=1)


class SlackAlertSettings(Section):
    """``centaur.alerts.slack``: alerts to a Slack-compatible incoming webhook whose URL (a
    secret) is read from the environment variable named ``webhook_url_env``."""

    enabled: bool = False
    min_severity: str = Field(default="warning", pattern=_SEVERITY)
    max_per_minute: int = Field(default=20, ge=1)
    webhook_url_env: str = Field(default="CENTAUR_SLACK_WEBHOOK_URL",
                                 pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class AlertsSettings(Section):
    """``centaur.alerts``: tiered alerts to Telegram and a Slack-compatible webhook
    (``control_tower.alerts``)."""

    enabled: bool = False
    telegram: TelegramAlertSettings = Field(default_factory=TelegramAlertSettings)
    slack: SlackAlertSettings = Field(default_factory=SlackAlertSettings)
    dedup_secs: float = Field(default=300.0, ge=0)  # the same alert again: dropped
    retry_base_secs: float = Field(default=5.0, gt=0)  # backoff: base x 2^(attempts - 1)
    retry_max_secs: float = Field(default=300.0, gt=0)
    request_timeout_secs: float = Field(default=3.0, gt=0, le=30)
    slippage_alert_bps: float = Field(default=25.0, gt=0)  # HIGH_SLIPPAGE above this
    veto_alert_min_confidence: float = Field(default=0.7, ge=0, le=1)  # VETO_HIGH_CONVICTION


class HumanConfirmSettings(Section):
    """``centaur.human_confirm``: entries above ``above_usd`` notional wait for an operator's
    GO (``control_tower.human_go``)."""

    enabled: bool = False
    above_usd: float = Field(default=5000.0, gt=0)
    timeout_secs: int = Field(default=300, gt=0)


class ReconciliationSettings(Section):
    """``centaur.reconciliation``: trades against venue positions and balances
    (``control_tower.reconciliation``, live mode only). A holding agrees when its venue
    quantity is within ``max(tolerance_ratio x quantity, dust_lots x the market's lot)``;
    ``failures_before_halt`` runs in a row without an answer from every venue halt entries."""

    enabled: bool = False
    interval_secs: int = Field(default=60, gt=0)
    tolerance_ratio: float = Field(default=0.002, ge=0, lt=1)
    dust_lots: float = Field(default=1.0, ge=0)
    failures_before_halt: int = Field(default=3, ge=1)


class PaperGateSettings(Section):
    """``centaur.paper_gate``: live start needs a good dry-run record
    (``control_tower.paper_gate``)."""

    enabled: bool = True
    min_closed_trades: int = Field(default=60, ge=0)
    # the strategy's dry-run database; None: freqtrade's dry-run default when the live bot
    # uses freqtrade's live default, else required (``control_tower.paper_gate``)
    dry_run_db_url: str | None = None
    # non-empty: start live past a failed record; logged and kept for the weekly report
    override_reason: str = ""


class SizeRampSettings(Section):
    """``centaur.size_ramp``: live size starts at ``start_ratio`` of target and steps to 100 %
    over ``weeks`` whole weeks since the first live start (``control_tower.size_ramp``)."""

    enabled: bool = True
    start_ratio: float = Field(default=0.25, gt=0, le=1)
    weeks: int = Field(default=4, ge=1)


class WeeklyReportSettings(Section):
    """``centaur.weekly_report``: the weekly report, and its scheduled Telegram document
    (``control_tower.weekly_report``, ``control_tower.weekly_report_part``).

    ``send_telegram``: build the last week's report each Monday 00:00 UTC once it has passed and
    send its PDF to freqtrade's Telegram chat (``telegram.token`` / ``telegram.chat_id``);
    ``reports_dir``: where those files go (default ``<user_data_dir>/reports``);
    ``retry_secs``: how long a failed send waits before it is tried again."""

    send_telegram: bool = False
    reports_dir: str | None = None
    retry_secs: int = Field(default=60, ge=0)
