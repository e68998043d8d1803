"""Membership tiers (gold, platinum, diamond) from rolling 12-month spend, with a grace period.

A member **qualifies** for the highest tier whose threshold their net spend
over the last ``window_days`` reaches. **Upgrades** are immediate; a
**downgrade** waits out the grace period: the member keeps the best tier they
qualified for at any month end in the last ``grace_months`` (and today).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..data.parse import parse_day
from ..engine import positions_in, taken, text_ids
from ..features.spend import rolling_spends
from ..settings import YamlSettings
from .lifecycle import month_ends


@dataclass(frozen=True)
class TierRules(YamlSettings):
    """Tier names with their spend thresholds (ascending), the base tier, window and grace (settings section
    ``tiers``)."""

    what: ClassVar[str] = "tier"

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
        if not self.base.strip() or self.base in self.thresholds:
            raise ValueError(f"base must name the tier below {next(iter(self.thresholds))}, got {self.base!r}")

    @property
    def order(self) -> list[str]:
        """Tier names, lowest first (base included)."""
        return [self.base, *self.thresholds]


def _qualifying_rank(spend: np.ndarray, rules: TierRules) -> np.ndarray:
    """The position in ``rules.order`` of the tier each spend qualifies for, in two bytes a member."""
    thresholds = np.array(list(rules.thresholds.values()))
    return np.searchsorted(thresholds, spend, side="right").astype(np.int16)


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
    dates = sorted(set(now) | set(before))
    spends = rolling_spends(transactions, dates, rules.window_days, backend=backend, con=con, arrow_ids=True)
    ids = _members(member_ids, pa.array(spends.index.array))
    # each date's spends in the order of ids, looked up in Arrow (0 for a member without transactions)
    at = positions_in(ids, pa.array(spends.index.array))
    spend_at = {date: taken(spends[date].to_numpy(dtype=float), at, 0.0) for date in dates}
    del spends, at
    # a column of ranks at a time (a frame of them in int64 was half a gigabyte on 10M members)
    ranks = {date: _qualifying_rank(spend_at[date], rules) for date in dates}
    spend = spend_at[as_of]
    rank_now, rank_before = (np.max([ranks[date] for date in window], axis=0) for window in (now, before))
    names = np.array(rules.order, dtype=object)
    # the three names themselves, not a string per member (np.select on strings makes one)
    changes = np.array(["", "upgrade", "downgrade"], dtype=object)
    change = changes[np.select([rank_now > rank_before, rank_now < rank_before], [1, 2], default=0)]
    return pd.DataFrame(
        {
            "member_id": ids,
            "spend_12m": spend,
            "qualifies_for": names[_qualifying_rank(spend, rules)],
            "tier": names[rank_now],
            "previous_tier": names[rank_before],
            "change": change,
        }
    ).reset_index(drop=True)


def _members(member_ids, spenders: pa.ChunkedArray) -> pd.Index:
    """Every member to give a tier, sorted: ``member_ids`` and those with transactions. The given ids keep their
    own strings, and only a member with transactions who is not among them gets a new one: the engine's ids stay
    Arrow (as 10M Python strings, with pandas' union and reindex hashing them, the tiers of 10M members took 80 s
    and peaked at 7.3 GB; now 43 s and 6.9 GB)."""
    given = pd.Index(member_ids if member_ids is not None else [], dtype=object)
    spenders = spenders.cast(pa.string())  # an empty id column comes from the engine typed null
    if spenders.null_count:
        raise ValueError("transactions without a member_id: load them with segkit.data, which rejects such rows")
    others = spenders.filter(pc.invert(pc.is_in(spenders, value_set=text_ids(given))))
    ids = given.append(pd.Index(others.to_pylist(), dtype=object)) if len(others) else given
    values = ids.to_numpy()
    if not (values[1:] > values[:-1]).all():  # not already sorted without repeats (as features' ids are)
        ids = ids.unique().sort_values()
    return ids.rename("member_id")


def tier_changes(tiers: pd.DataFrame) -> pd.DataFrame:
    """The members whose tier changes this month."""
    return tiers[tiers["change"] != ""].reset_index(drop=True)
