"""Segmentation: RFM, value and VIPs, lifecycle stages, cohorts, tiers, sales arithmetic."""

from .cohorts import cohort_retention
from .lifecycle import (
    STAGES,
    LifecycleRules,
    lifecycle_stages,
    member_rhythm,
    month_ends,
    stage_snapshots,
    transition_matrix,
)
from .rfm import RFMResult, RFMSettings, SegmentTable, rfm_scores, segment_summary
from .sales import gross_to_net, health_band, sales_split
from .segmentation import Segmentation, SegmentationSettings, segment_members
from .tiers import TierRules, assign_tiers, tier_changes
from .value import VipRule, gini, lorenz_curve, pareto_table, vip_flag

__all__ = [
    "STAGES",
    "LifecycleRules",
    "RFMResult",
    "RFMSettings",
    "SegmentTable",
    "Segmentation",
    "SegmentationSettings",
    "TierRules",
    "assign_tiers",
    "cohort_retention",
    "gini",
    "gross_to_net",
    "health_band",
    "lifecycle_stages",
    "lorenz_curve",
    "member_rhythm",
    "month_ends",
    "pareto_table",
    "rfm_scores",
    "sales_split",
    "segment_members",
    "segment_summary",
    "stage_snapshots",
    "tier_changes",
    "transition_matrix",
    "VipRule",
    "vip_flag",
]
