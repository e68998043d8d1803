"""Value concentration and VIPs: "two VIP members are worth eight ordinary ones".

Member value is net spend (``monetary``). A member whose refunds exceed their
purchases holds no value: negative values count as zero here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ..settings import YamlSettings

VIP_RULES = ("top_share", "tier", "either")


def _value(values) -> np.ndarray:
    return np.clip(np.asarray(values, dtype=float), 0, None)


def gini(values) -> float:
    """Gini coefficient of member value in O(n log n): 0 = everyone equal, near 1 = one member holds all.

    With values sorted ascending, ``G = 2 sum(i x_i) / (n sum x) - (n + 1) / n``, i = 1..n.
    """
    x = np.sort(_value(values))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return float("nan")
    return float(2 * np.dot(np.arange(1, n + 1), x) / (n * total) - (n + 1) / n)


def lorenz_curve(values) -> pd.DataFrame:
    """Cumulative share of members (poorest first) against cumulative share of value, from (0, 0)."""
    x = np.sort(_value(values))
    total = x.sum()
    members = np.arange(len(x) + 1) / max(len(x), 1)
    value = np.concatenate([[0.0], np.cumsum(x) / total]) if total else np.full(len(x) + 1, np.nan)
    return pd.DataFrame({"member_share": members, "value_share": value})


def pareto_table(values, top_shares=(0.01, 0.05, 0.10, 0.20, 0.50)) -> pd.DataFrame:
    """Share of value held by the top x % of members (the top ``ceil(x n)`` by value)."""
    x = np.sort(_value(values))[::-1]
    cumulative, total = np.cumsum(x), x.sum()
    rows = []
    for share in top_shares:
        if not 0 < share <= 1:
            raise ValueError(f"top shares must be in (0, 1], got {share}")
        k = int(np.ceil(share * len(x)))
        rows.append(
            {
                "top_member_share": share,
                "members": k,
                "value": float(cumulative[k - 1]) if k else 0.0,
                "value_share": float(cumulative[k - 1] / total) if k and total else np.nan,
            }
        )
    return pd.DataFrame(rows)


def vip_flag(
    features: pd.DataFrame,
    rule: str = "top_share",
    top_share: float = 0.2,
    tiers: tuple[str, ...] = ("diamond", "platinum"),
    members: pd.DataFrame | None = None,
) -> pd.Series:
    """Which members are VIPs, for priority routing in the call center.

    ``top_share``: the ``ceil(top_share x buyers)`` buyers with the highest net
    spend; of buyers who spent the same at the cut, the higher member ids, which the RFM rank scores
    higher too (a VIP never has a lower M score than a buyer of the same spend who is not); ``tier``:
    members whose ``tier`` (from
    ``members``) is one of ``tiers``; ``either``: both rules, a member passing one is a VIP
    (without a members table with tiers, only the spend rule can pass).
    Returns a boolean Series aligned with ``features``.
    """
    checked = VipRule(rule, top_share, tiers)  # the checks a settings file gets
    by_value = pd.Series(False, index=features.index)
    buyers = features[features["frequency"] > 0]
    n_top = int(np.ceil(top_share * len(buyers)))
    if n_top:
        # to the cent: sums of the same amounts in another order differ in the last bits, and must not break ties
        spend = np.nan_to_num(np.round(buyers["monetary"].to_numpy(dtype=float), 2), nan=-np.inf)
        cut = np.partition(spend, len(spend) - n_top)[len(spend) - n_top]  # the n_top-th highest spend
        above = np.flatnonzero(spend > cut)
        # only the members at the cut are ordered by id (sorting 10M ids as text took half a minute), highest first
        tied = np.flatnonzero(spend == cut)
        tied = tied[np.argsort(buyers["member_id"].to_numpy()[tied], kind="stable")[::-1][: n_top - len(above)]]
        by_value[buyers.index[np.concatenate([above, tied])]] = True
    if rule == "top_share":
        return by_value
    if members is None or "tier" not in members:
        if rule == "tier":
            raise ValueError(f"VIP rule {rule!r} needs the members table with a tier column")
        return by_value
    # the members whose tier qualifies, then who of the buyers they are (mapping every tier onto 10M buyers took
    # half a minute and 1.5 GB)
    # as plain strings: the buyers' ids may be Arrow text, which matches no categories or missing values
    qualifying = members.loc[checked.by_tier(members["tier"]).to_numpy(), "member_id"].dropna().astype(object)
    by_tier = features["member_id"].isin(qualifying)
    return by_tier if rule == "tier" else by_value | by_tier


@dataclass(frozen=True)
class VipRule(YamlSettings):
    """The one VIP rule that segmentation, the alerts and the call lists read (settings section ``vip``)::

        vip: {rule: either, top_share: 0.2, tiers: [diamond, platinum]}

    ``rule``: ``top_share`` (the top share of buyers by net spend), ``tier`` (a member of one of
    ``tiers``) or ``either``. Where a step has no spend (the call lists), the spend part comes in as
    the ``vip`` flags of the step that had it (alerts, segmentation) and the tier part is ``by_tier``.
    """

    what: ClassVar[str] = "vip"

    rule: str = "either"
    top_share: float = 0.2
    tiers: tuple[str, ...] = ("diamond", "platinum")

    def __post_init__(self):
        if self.rule not in VIP_RULES:
            raise ValueError(f"VIP rule must be one of {', '.join(VIP_RULES)}, not {self.rule!r}")
        if (
            isinstance(self.top_share, bool)
            or not isinstance(self.top_share, (int, float))
            or not 0 < self.top_share <= 1
        ):
            raise ValueError(f"top_share must be in (0, 1], got {self.top_share!r}")
        if isinstance(self.tiers, str):
            raise ValueError(f"tiers must be a list of tier names, got {self.tiers!r}")
        object.__setattr__(self, "tiers", tuple(str(tier).lower() for tier in self.tiers))
        if any(not tier.strip() for tier in self.tiers):
            raise ValueError("tiers must name tiers: a blank one would make every member without a tier a VIP")

    def flag(self, features: pd.DataFrame, members: pd.DataFrame | None = None) -> pd.Series:
        """``vip_flag`` with this rule."""
        return vip_flag(features, self.rule, self.top_share, self.tiers, members)

    def by_tier(self, tier: pd.Series) -> pd.Series:
        """Whose ``tier`` makes them a VIP under this rule (never, under ``top_share``); case is ignored."""
        if self.rule == "top_share":
            return pd.Series(False, index=tier.index)
        return tier.astype("string").str.lower().isin(self.tiers).astype(bool)  # text, categories or missing
