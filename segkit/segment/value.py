"""Value concentration and VIPs: "two VIP members are worth eight ordinary ones".

Member value is net spend (``monetary``). A member whose refunds exceed their
purchases holds no value: negative values count as zero here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

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
        rows.append({"top_member_share": share, "members": k,
                     "value": float(cumulative[k - 1]) if k else 0.0,
                     "value_share": float(cumulative[k - 1] / total) if k and total else np.nan})
    return pd.DataFrame(rows)


def vip_flag(features: pd.DataFrame, rule: str = "top_share", top_share: float = 0.2,
             tiers: tuple[str, ...] = ("diamond", "platinum"), members: pd.DataFrame | None = None) -> pd.Series:
    """Which members are VIPs, for priority routing in the call center.

    ``top_share``: the ``ceil(top_share x buyers)`` buyers with the highest net
    spend (ties broken by member_id); ``tier``: members whose ``tier`` (from
    ``members``) is one of ``tiers``; ``either``: both rules, a member passing one is a VIP.
    Returns a boolean Series aligned with ``features``.
    """
    if rule not in VIP_RULES:
        raise ValueError(f"VIP rule must be one of {', '.join(VIP_RULES)}, not {rule!r}")
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], got {top_share}")
    by_value = pd.Series(False, index=features.index)
    buyers = features[features["frequency"] > 0]
    if len(buyers):
        order = np.lexsort((buyers["member_id"].to_numpy(), -buyers["monetary"].to_numpy(dtype=float)))
        top = buyers.index[order[: int(np.ceil(top_share * len(buyers)))]]
        by_value[top] = True
    if rule == "top_share":
        return by_value
    if members is None or "tier" not in members:
        raise ValueError(f"VIP rule {rule!r} needs the members table with a tier column")
    tier = features["member_id"].map(members.set_index("member_id")["tier"])
    by_tier = tier.str.lower().isin([t.lower() for t in tiers]).fillna(False).astype(bool)
    return by_tier if rule == "tier" else by_value | by_tier
