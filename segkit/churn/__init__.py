"""Churn: each member's purchase rhythm (a survival model of their gaps) and the overdue alert."""
from .alerts import ALERT_COLUMNS, STATUSES, AlertRun, AlertSettings, churn_alerts, member_statuses, overdue_alerts
from .intervals import Calibration, GapPredictive, IntervalModel, purchase_gaps

__all__ = [
    "ALERT_COLUMNS", "STATUSES", "AlertRun", "AlertSettings", "Calibration", "GapPredictive", "IntervalModel",
    "churn_alerts", "member_statuses", "overdue_alerts", "purchase_gaps",
]
