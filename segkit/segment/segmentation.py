"""One call from canonical tables to the per-member segmentation table (``rfm.csv``).

Settings come from a YAML file (all optional; defaults in code)::

    rfm: {levels: 5, ties: rank, breakpoints: null, segments: null}   # segments: a segment table YAML
    vip: {rule: top_share, top_share: 0.2, tiers: [diamond, platinum]}
    lifecycle: {onboarding_days: 60, active: 1.25, at_risk: 2.5, dormant: 5.0, lost_days: 365}
    tiers: {thresholds: {gold: 2000, platinum: 5000, diamond: 10000}, base: standard, grace_months: 3}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .lifecycle import LifecycleRules, lifecycle_stages
from .rfm import RFMResult, rfm_scores, segment_summary
from .tiers import TierRules, assign_tiers
from .value import vip_flag

RFM_COLUMNS = ["member_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
               "rfm_score", "segment", "vip", "stage", "tier"]


@dataclass
class SegmentationSettings:
    """Every threshold of segmentation, validated; see the module docstring for the YAML form."""

    rfm: dict[str, Any] = field(default_factory=dict)
    vip: dict[str, Any] = field(default_factory=dict)
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)
    tiers: TierRules = field(default_factory=TierRules)

    @classmethod
    def from_yaml(cls, path: str | Path | None) -> "SegmentationSettings":
        if path in (None, ""):
            return cls()
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        unknown = sorted(set(data) - {"rfm", "vip", "lifecycle", "tiers"})
        if unknown:
            raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}; known: rfm, vip, lifecycle, tiers")
        settings = cls(rfm=data.get("rfm") or {}, vip=data.get("vip") or {},
                       lifecycle=LifecycleRules.from_dict(data.get("lifecycle")),
                       tiers=TierRules.from_dict(data.get("tiers")))
        if settings.rfm.get("segments"):
            segments = Path(settings.rfm["segments"])
            settings.rfm["segments"] = str(segments if segments.is_absolute() else Path(path).parent / segments)
        for section, allowed in (("rfm", {"levels", "ties", "breakpoints", "segments"}),
                                 ("vip", {"rule", "top_share", "tiers"})):
            extra = sorted(set(getattr(settings, section)) - allowed)
            if extra:
                raise ValueError(f"{path}: unknown {section} setting(s) {', '.join(extra)}")
        return settings


@dataclass
class Segmentation:
    """The segmentation of every member as of a date."""

    table: pd.DataFrame          # rfm.csv: scores, segment, vip, stage, tier (+ action)
    summary: pd.DataFrame        # segment_summary.csv
    rfm: RFMResult
    tiers: pd.DataFrame          # tiers with previous tier and change

    def __repr__(self) -> str:
        counts = self.table["stage"].value_counts().to_dict()
        return (f"{self.rfm.summary()}\n  VIPs: {int(self.table['vip'].sum()):,}; stages: "
                + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))


def segment_members(features: pd.DataFrame, transactions: pd.DataFrame, as_of: Any,
                    members: pd.DataFrame | None = None,
                    settings: SegmentationSettings | None = None) -> Segmentation:
    """RFM scores and segments, VIP flags, lifecycle stages and tiers of every member in ``features``."""
    settings = settings or SegmentationSettings()
    rfm = rfm_scores(features, **settings.rfm)
    table = rfm.table
    vip_settings = {"rule": "either" if members is not None else "top_share", **settings.vip}
    if "tiers" in vip_settings:
        vip_settings["tiers"] = tuple(vip_settings["tiers"])
    table["vip"] = vip_flag(features, members=members, **vip_settings)
    table["stage"] = lifecycle_stages(features, settings.lifecycle)["stage"].astype(str).to_numpy()
    tiers = assign_tiers(transactions, as_of, member_ids=features["member_id"], rules=settings.tiers)
    table["tier"] = table["member_id"].map(tiers.set_index("member_id")["tier"]).fillna(settings.tiers.base)
    return Segmentation(table[RFM_COLUMNS + ["action"]], segment_summary(rfm), rfm, tiers)
