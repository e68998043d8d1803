"""Lifecycle stages relative to each member's own purchase rhythm.

A member's **rhythm** is their typical number of days between purchases: the
median of their own gaps, shrunk toward the population's median gap when they
have few gaps (``rhythm = (n * own + k * population) / (n + k)``, ``n`` =
their gaps, ``k`` = ``prior_gaps``). A member's **overdue ratio** is their
days since the last purchase divided by their rhythm: 45 quiet days is 1.5
rhythms for a monthly buyer and half a rhythm for a quarterly one.

Stages, first rule that applies:

==============  ==========================================================
prospect        no purchase yet
new             first purchase within ``onboarding_days``
lost            ratio above ``dormant``, or no purchase for ``lost_days``
dormant         ratio above ``at_risk``
at risk         ratio above ``active`` (cooling down)
reactivated     back within ``active`` after a last gap over ``reactivation`` rhythms
active          ratio within ``active``
==============  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..engine import connection
from ..features import member_features
from ..settings import YamlSettings

STAGES = ["prospect", "new", "active", "reactivated", "at risk", "dormant", "lost"]


@dataclass(frozen=True)
class LifecycleRules(YamlSettings):
    """Stage thresholds; ratios are in units of the member's own rhythm."""

    what: ClassVar[str] = "lifecycle"

    onboarding_days: int = 60
    active: float = 1.25
    at_risk: float = 2.5
    dormant: float = 5.0
    lost_days: int = 365
    reactivation: float = 2.5
    prior_gaps: float = 2.0

    def __post_init__(self):
        if not 0 < self.active < self.at_risk < self.dormant:
            raise ValueError(
                f"lifecycle thresholds must rise: 0 < active ({self.active}) < at_risk "
                f"({self.at_risk}) < dormant ({self.dormant})"
            )
        if min(self.onboarding_days, self.lost_days) <= 0 or self.prior_gaps < 0 or self.reactivation <= 0:
            raise ValueError("onboarding_days, lost_days and reactivation must be positive, prior_gaps >= 0")


def member_rhythm(features: pd.DataFrame, prior_gaps: float = 2.0) -> pd.Series:
    """Typical days between purchases per member, shrunk toward the population median gap."""
    has_gaps = features["gap_count"] > 0
    population = float(features.loc[has_gaps, "gap_median"].median()) if has_gaps.any() else np.nan
    n = features["gap_count"].astype(float)
    own = features["gap_median"].fillna(0.0)
    return (n * own + prior_gaps * population) / (n + prior_gaps)


def lifecycle_stages(features: pd.DataFrame, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Stage of every member of ``features`` (``segkit.member_features`` output), with the numbers behind it."""
    rules = rules or LifecycleRules()
    rhythm = member_rhythm(features, rules.prior_gaps)
    recency = features["recency_days"].astype(float)
    ratio = recency / rhythm
    last_gap_ratio = features["last_gap"].astype(float) / rhythm
    conditions = [
        features["frequency"] == 0,
        features["tenure_days"].astype(float) <= rules.onboarding_days,
        (ratio > rules.dormant) | (recency > rules.lost_days),
        ratio > rules.at_risk,
        ratio > rules.active,
        last_gap_ratio > rules.reactivation,
    ]
    stage = np.select(
        [c.fillna(False).to_numpy(dtype=bool) for c in conditions],
        ["prospect", "new", "lost", "dormant", "at risk", "reactivated"],
        default="active",
    )
    return pd.DataFrame(
        {
            "member_id": features["member_id"],
            "rhythm_days": rhythm.round(1),
            "overdue_ratio": ratio.round(2),
            "stage": pd.Categorical(stage, categories=STAGES),
        }
    )


def month_ends(as_of: Any, months: int) -> list[pd.Timestamp]:
    """The as-of date and the ends of the ``months - 1`` months before it, oldest first."""
    as_of = parse_day(as_of)
    return [as_of - pd.offsets.MonthEnd(k) for k in range(months - 1, 0, -1)] + [as_of]


def stage_snapshots(
    transactions: Any,
    dates: list[pd.Timestamp],
    members: pd.DataFrame | None = None,
    rules: LifecycleRules | None = None,
    backend: str = "duckdb",
    con=None,
) -> pd.DataFrame:
    """Stages of every member at each date (``member_id``, ``date``, ``stage``), long format.

    Members from ``members`` count from their ``join_date`` (as prospects until they buy).
    """
    con = connection(backend, con)
    frames = []
    for date in dates:
        known = None
        if members is not None:
            joined = members["join_date"].isna() | (members["join_date"] <= date)
            known = members.loc[joined, ["member_id"]]
        features = member_features(transactions, date, members=known, con=con)
        stages = lifecycle_stages(features, rules)[["member_id", "stage"]]
        frames.append(stages.assign(date=date))
    return pd.concat(frames, ignore_index=True)


def transition_matrix(snapshots: pd.DataFrame, normalize: bool = True) -> pd.DataFrame:
    """Members moving from each stage (rows) to each stage (columns) between consecutive snapshots, pooled.

    With ``normalize``, each row is the share of that stage's members going to each stage.
    """
    dates = sorted(snapshots["date"].unique())
    pairs = []
    for before, after in zip(dates, dates[1:]):
        merged = snapshots[snapshots["date"] == before].merge(
            snapshots[snapshots["date"] == after], on="member_id", suffixes=("_from", "_to")
        )
        pairs.append(merged[["stage_from", "stage_to"]])
    if not pairs:
        raise ValueError("transitions need snapshots at two dates or more")
    moves = pd.concat(pairs, ignore_index=True)
    matrix = pd.crosstab(moves["stage_from"], moves["stage_to"]).reindex(index=STAGES, columns=STAGES, fill_value=0)
    if normalize:
        matrix = matrix.div(matrix.sum(axis=1).replace(0, np.nan), axis=0)
    return matrix
