"""Membership tiers (gold, platinum, diamond) from rolling 12-month spend, with a grace period.

A member **qualifies** for the highest tier whose threshold their net spend
over the last ``window_days`` reaches. **Upgrades** are immediate; a
**downgrade** waits out the grace period: the member keeps the best tier they
qualified for at any month end in the last ``grace_months`` (and today).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .lifecycle import month_ends


@dataclass(frozen=True)
class TierRules:
    """Tier names with their spend thresholds (ascending), the base tier, window and grace."""

    thresholds: dict[str, float] = field(default_factory=lambda: {"gold": 2000.0, "platinum": 5000.0,
                                                                  "diamond": 10000.0})
    base: str = "standard"
    window_days: int = 365
    grace_months: int = 3

    def __post_init__(self):
        values = list(self.thresholds.values())
        if not values or any(b <= a for a, b in zip(values, values[1:])) or values[0] <= 0:
            raise ValueError(f"tier thresholds must be positive and rising, lowest tier first: {self.thresholds}")
        if self.window_days <= 0 or self.grace_months < 0:
            raise ValueError("window_days must be positive and grace_months not negative")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "TierRules":
        data = dict(data or {})
        unknown = sorted(set(data) - {"thresholds", "base", "window_days", "grace_months"})
        if unknown:
            raise ValueError(f"unknown tier setting(s) {', '.join(unknown)}")
        return cls(**data)

    @property
    def order(self) -> list[str]:
        """Tier names, lowest first (base included)."""
        return [self.base, *self.thresholds]


def rolling_spend(transactions: pd.DataFrame, date: pd.Timestamp, window_days: int) -> pd.Series:
    """Net spend per member in the ``window_days`` ending on ``date``."""
    start = date - pd.Timedelta(days=window_days)
    recent = transactions[(transactions["date"] > start) & (transactions["date"] <= date)]
    return recent.groupby("member_id")["amount"].sum()


def _qualifying_rank(spend: pd.Series, rules: TierRules) -> pd.Series:
    thresholds = np.array(list(rules.thresholds.values()))
    return pd.Series(np.searchsorted(thresholds, spend.to_numpy(dtype=float), side="right"), index=spend.index)


def _tier_rank(transactions: pd.DataFrame, as_of: pd.Timestamp, ids: pd.Index, rules: TierRules) -> pd.Series:
    """Best qualifying rank over the grace window's month ends (and as_of)."""
    dates = month_ends(as_of, rules.grace_months + 1)
    ranks = [_qualifying_rank(rolling_spend(transactions, d, rules.window_days).reindex(ids, fill_value=0.0), rules)
             for d in dates]
    return pd.concat(ranks, axis=1).max(axis=1)


def assign_tiers(transactions: pd.DataFrame, as_of: Any, member_ids=None, rules: TierRules | None = None) -> pd.DataFrame:
    """Tier of each member as of ``as_of`` and at the previous month end, with the change between them.

    Columns: ``member_id``, ``spend_12m``, ``qualifies_for``, ``tier``,
    ``previous_tier``, ``change`` (``upgrade``, ``downgrade`` or empty).
    """
    rules = rules or TierRules()
    as_of = pd.Timestamp(as_of).normalize()
    ids = pd.Index(sorted(set(transactions["member_id"]) | set(member_ids if member_ids is not None else [])),
                   name="member_id")
    spend = rolling_spend(transactions, as_of, rules.window_days).reindex(ids, fill_value=0.0)
    rank_now = _tier_rank(transactions, as_of, ids, rules)
    rank_before = _tier_rank(transactions, as_of - pd.offsets.MonthEnd(1), ids, rules)
    names = np.array(rules.order, dtype=object)
    change = np.select([rank_now > rank_before, rank_now < rank_before], ["upgrade", "downgrade"], default="")
    return pd.DataFrame({
        "member_id": ids, "spend_12m": spend.to_numpy(), "qualifies_for": names[_qualifying_rank(spend, rules)],
        "tier": names[rank_now], "previous_tier": names[rank_before], "change": change,
    }).reset_index(drop=True)


def tier_changes(tiers: pd.DataFrame) -> pd.DataFrame:
    """The members whose tier changes this month."""
    return tiers[tiers["change"] != ""].reset_index(drop=True)
