"""Churn: each member's purchase rhythm (a survival model of their gaps), its predictive distribution,
the overdue alert and the churn propensity. The gap table is a query over transactions: it lives in
``segkit.features.gaps`` and is re-exported here."""

from ..features.gaps import GapTable, gap_table, purchase_gaps
from .alerts import ALERT_COLUMNS, STATUSES, AlertRun, AlertSettings, churn_alerts, member_statuses, overdue_alerts
from .predictive import Calibration, GapPredictive
from .rhythm import IntervalModel

__all__ = [
    "ALERT_COLUMNS",
    "STATUSES",
    "AlertRun",
    "AlertSettings",
    "Calibration",
    "GapPredictive",
    "GapTable",
    "IntervalModel",
    "churn_alerts",
    "gap_table",
    "member_statuses",
    "overdue_alerts",
    "purchase_gaps",
]
