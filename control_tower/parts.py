"""The control tower's parts, in the order they run. One line per part: its factory."""

from __future__ import annotations

from control_tower import paper_gate, size_ramp
from control_tower.alerts import alerts_part
from control_tower.human_go_part import human_go_part
from control_tower.metrics import metrics_part
from control_tower.part import PartFactory
from control_tower.reconciliation_part import reconciliation_part
from control_tower.weekly_report_part import weekly_report_part

PARTS: tuple[PartFactory, ...] = (
    paper_gate.part,  # first: a refused live start starts nothing (its override event is
    # replayed by the alerts, which send what the process stored before they subscribed)
    alerts_part,  # subscribed before the other parts emit (centaur.alerts)
    size_ramp.part,  # live size: a share of target, stepping up by whole weeks
    reconciliation_part,  # trades against venue holdings: drift halts entries
    human_go_part,  # above a notional: an operator's GO (last: a GO is used up once)
    metrics_part,  # the Prometheus endpoint (centaur.metrics)
    weekly_report_part,  # Mondays: last week's report PDF to Telegram (centaur.weekly_report)
)
