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

from ..data.parse import parse_day
from ..features.spend import rolling_spends
from .lifecycle import month_ends


@dataclass(frozen=True)
class TierRules:
    """Tier names with their spend thresholds (ascending), the base tier, window and grace."""

    thresholds: dict[str, float] = field(
        default_factory=lambda: {"gold": 2000.0, "platinum": 5000.0, "diamond": 10000.0}
    )
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


def _qualifying_rank(spend: pd.Series, rules: TierRules) -> np.ndarray:
    """The position in ``rules.order`` of the tier each spend qualifies for, in two bytes a member."""
    thresholds = np.array(list(rules.thresholds.values()))
    return np.searchsorted(thresholds, spend.to_numpy(dtype=float), side="right").astype(np.int16)


def assign_tiers(
    transactions: Any, as_of: Any, member_ids=None, rules: TierRules | None = None, backend: str = "duckdb", con=None
) -> pd.DataFrame:
    """Tier of each member as of ``as_of`` and at the previous month end, with the change between them.
    The rolling spends are one query in the engine (``segkit.features.rolling_spends``).

    Columns: ``member_id``, ``spend_12m``, ``qualifies_for``, ``tier``,
    ``previous_tier``, ``change`` (``upgrade``, ``downgrade`` or empty).
    """
    rules = rules or TierRules()
    as_of = parse_day(as_of)
    now = month_ends(as_of, rules.grace_months + 1)  # the grace window's month ends
    before = month_ends(as_of - pd.offsets.MonthEnd(1), rules.grace_months + 1)
    spends = rolling_spends(transactions, sorted(set(now) | set(before)), rules.window_days, backend=backend, con=con)
    # the given ids first: where they hold a member, the union keeps their strings (not a second copy)
    ids = pd.Index(member_ids if member_ids is not None else [], dtype=object).union(spends.index).rename("member_id")
    spends = spends.reindex(ids, fill_value=0.0)
    # a column of ranks at a time (a frame of them in int64 was half a gigabyte on 10M members)
    ranks = {date: _qualifying_rank(spends[date], rules) for date in spends.columns}
    spend = spends[as_of]
    rank_now, rank_before = (np.max([ranks[date] for date in dates], axis=0) for dates in (now, before))
    names = np.array(rules.order, dtype=object)
    # the three names themselves, not a string per member (np.select on strings makes one)
    changes = np.array(["", "upgrade", "downgrade"], dtype=object)
    change = changes[np.select([rank_now > rank_before, rank_now < rank_before], [1, 2], default=0)]
    return pd.DataFrame(
        {
            "member_id": ids,
            "spend_12m": spend.to_numpy(),
            "qualifies_for": names[_qualifying_rank(spend, rules)],
            "tier": names[rank_now],
            "previous_tier": names[rank_before],
            "change": change,
        }
    ).reset_index(drop=True)


def tier_changes(tiers: pd.DataFrame) -> pd.DataFrame:
    """The members whose tier changes this month."""
    return tiers[tiers["change"] != ""].reset_index(drop=True)
