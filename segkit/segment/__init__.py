"""Segmentation: RFM scores and segments, value concentration and VIPs."""
from .rfm import RFMResult, SegmentTable, rfm_scores, segment_summary
from .value import gini, lorenz_curve, pareto_table, vip_flag

__all__ = ["RFMResult", "SegmentTable", "gini", "lorenz_curve", "pareto_table", "rfm_scores",
           "segment_summary", "vip_flag"]
