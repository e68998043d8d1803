"""Each member's value grade and service team, from segmentation (``../shared/DOMAIN.md`` sections 2-3).

**Grade** (1 = lowest ... ``len(grade_shares)`` = highest) matches the
advisor ``level`` scale: members are ranked by net spend and cut by
``grade_shares`` (default: bottom 50 % grade 1, next 30 % grade 2, top 20 %
grade 3); VIPs always get the top grade, and a tier in ``tier_grades`` lifts
the grade to at least its value.

**Team** follows the lifecycle stage (``stage_teams``): new members and
prospects to new-member service, active, reactivated and at-risk members to
regular service, dormant and lost members to win-back (they are *recycled*:
taken back from their advisor's book). VIPs of regular service go to
``vip_team`` when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from ..data.load import do_not_call_by_member
from ..settings import YamlSettings

DEFAULT_TEAM = "general"  # the one team of advisors files without teams
STAGE_TEAMS = {
    "prospect": "new-member service",
    "new": "new-member service",
    "active": "regular service",
    "reactivated": "regular service",
    "at risk": "regular service",
    "dormant": "win-back",
    "lost": "win-back",
}


@dataclass(frozen=True)
class AssignmentSettings(YamlSettings):
    """Grading, teams and the costs of the assignment; YAML keys are the field names."""

    what: ClassVar[str] = "assignment"

    stage_teams: dict[str, str] = field(default_factory=lambda: dict(STAGE_TEAMS))
    vip_team: str | None = "VIP service"
    grade_shares: tuple[float, ...] = (0.5, 0.3, 0.2)
    tier_grades: dict[str, int] = field(default_factory=lambda: {"diamond": 3, "platinum": 3, "gold": 2})
    grade_weight: int = 10  # cost per level between a member's grade and their advisor's level
    continuity_weight: int = 15  # cost of moving a member who could keep their advisor
    balance_weight: int = 1  # marginal cost per member rises by this much per fifth of a book's range
    max_grade_gap: int | None = None  # None: any level; 1: advisors at most one level from the grade
    capacity_min: int | None = None  # overrides every advisor's capacity_min
    capacity_max: int | None = None  # overrides every advisor's capacity_max

    def __post_init__(self):
        for name in ("grade_weight", "continuity_weight", "balance_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0 (costs are integers), got {value!r}")
        shares = tuple(float(s) for s in self.grade_shares)
        if len(shares) < 1 or min(shares) <= 0 or abs(sum(shares) - 1) > 1e-9:
            raise ValueError(f"grade_shares must be positive shares adding up to 1, got {self.grade_shares!r}")
        object.__setattr__(self, "grade_shares", shares)
        if any(grade < 1 for grade in self.tier_grades.values()):
            raise ValueError(f"tier_grades must give each tier a grade of at least 1, got {self.tier_grades!r}")
        # members' tiers are matched without case ("Diamond" in a CRM export is diamond)
        object.__setattr__(self, "tier_grades", {str(tier).lower(): grade for tier, grade in self.tier_grades.items()})
        missing = sorted(set(STAGE_TEAMS) - set(self.stage_teams))
        if missing:
            raise ValueError(f"stage_teams has no team for stage(s) {', '.join(missing)}")
        for name in ("max_grade_gap", "capacity_min", "capacity_max"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a whole number >= 0 or null, got {value!r}")
        if self.capacity_min is not None and self.capacity_max is not None and self.capacity_min > self.capacity_max:
            raise ValueError(f"capacity_min {self.capacity_min} is above capacity_max {self.capacity_max}")

    @property
    def grades(self) -> int:
        return len(self.grade_shares)


def member_grades(
    segmentation: pd.DataFrame,
    members: pd.DataFrame,
    settings: AssignmentSettings | None = None,
    teams: set[str] | None = None,
) -> pd.DataFrame:
    """One row per member: ``member_id``, ``grade``, ``team``, ``stage``, ``vip``, ``value`` (net spend),
    ``advisor_id`` (the current one), ``wants_new_advisor`` and ``do_not_call`` (the CRM's flag, an unreadable one
    counted as do-not-call: the books say whom not to phone).

    ``segmentation``: the ``rfm.csv`` table (``segment_members``); ``members``: the members table.
    ``teams``: the teams that have advisors; without a ``vip_team`` among them VIPs stay in regular service.
    Advisors without teams (``teams`` only ``DEFAULT_TEAM``) serve every member: all members form that one team.
    """
    settings = settings or AssignmentSettings()
    missing = [c for c in ("member_id", "monetary", "vip", "stage") if c not in segmentation]
    if missing:
        raise ValueError(f"the segmentation lacks column(s) {', '.join(missing)} (use segment_members / segkit rfm)")
    table = (
        members[["member_id"]]
        .astype({"member_id": str})
        .merge(segmentation.astype({"member_id": str}), on="member_id", how="left")
    )
    value = table["monetary"].fillna(0.0).to_numpy(dtype=float)
    order = np.lexsort((table["member_id"].to_numpy(str), value))  # lowest value first
    cut = np.floor(np.cumsum(settings.grade_shares)[:-1] * len(table)).astype(int)
    grade = np.empty(len(table), dtype=int)
    grade[order] = np.searchsorted(cut, np.arange(len(table)), side="right") + 1
    vip = table["vip"].eq(True).to_numpy()
    grade[vip] = settings.grades
    details = members.drop_duplicates("member_id").set_index(members["member_id"].astype(str).rename("member_id"))
    if "tier" in table:  # the segmentation's tier (from spend) ...
        tier = table["tier"]
    else:  # ... or the CRM's
        tier = table["member_id"].map(details["tier"]) if "tier" in details else pd.Series("", index=table.index)
    by_tier = tier.fillna("").astype(str).str.lower().map(settings.tier_grades).fillna(0).to_numpy(dtype=int)
    grade = np.maximum(grade, np.minimum(by_tier, settings.grades))

    stage = table["stage"].fillna("prospect").astype(str)
    team = stage.map(settings.stage_teams)
    vip_team = settings.vip_team if settings.vip_team and (teams is None or settings.vip_team in teams) else None
    if teams is not None and set(teams) <= {DEFAULT_TEAM}:
        team = pd.Series(DEFAULT_TEAM, index=table.index)
    elif vip_team:
        team = team.where(~(vip & (team == settings.stage_teams["active"]).to_numpy()), vip_team)
    return pd.DataFrame(
        {
            "member_id": table["member_id"],
            "grade": grade,
            "team": team.to_numpy(),
            "stage": stage.to_numpy(),
            "vip": vip,
            "value": value.round(2),
            "advisor_id": table["member_id"].map(details["advisor_id"]) if "advisor_id" in details else None,
            "wants_new_advisor": (
                table["member_id"].map(details["wants_new_advisor"]).eq(True)
                if "wants_new_advisor" in details
                else False
            ),
            "do_not_call": table["member_id"].map(do_not_call_by_member(members)).eq(True).to_numpy(),
        }
    )
