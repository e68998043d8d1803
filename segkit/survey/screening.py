"""Stages 1 and 2: the screening survey (do members like it?) and the financial check (can we afford it?)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def screen_liking(
    screening: pd.DataFrame,
    benefits: list[str],
    like_below: float,
    dislike_share_above: float,
    small_sample: int,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per benefit: respondents, mean liking with a t interval, share who dislike it (1-2), and whether it
    is dropped (mean below ``like_below`` or dislike share above ``dislike_share_above``). A ``caution``
    names samples smaller than ``small_sample``: with 20-30 people an interval spans most of a point."""
    grouped = screening.groupby("benefit")["liking"]
    table = pd.DataFrame(
        {
            "screened_by": grouped.size(),
            "liking_mean": grouped.mean(),
            "liking_sd": grouped.std(),
            "dislike_share": grouped.apply(lambda v: (v <= 2).mean()),
        }
    ).reindex(benefits)
    table["screened_by"] = table["screened_by"].fillna(0).astype(int)
    n = table["screened_by"].clip(lower=1)
    half = stats.t.ppf(0.5 + confidence / 2, (n - 1).clip(lower=1)) * table["liking_sd"].fillna(0) / np.sqrt(n)
    table["liking_low"] = (table["liking_mean"] - half).where(table["screened_by"] > 1)
    table["liking_high"] = (table["liking_mean"] + half).where(table["screened_by"] > 1)
    table["dropped_liking"] = (
        ((table["liking_mean"] < like_below) | (table["dislike_share"] > dislike_share_above))
        .fillna(False)
        .astype(bool)
    )
    table["caution"] = np.where(
        table["screened_by"] == 0,
        "not screened",
        np.where(
            table["screened_by"] < small_sample,
            "small sample: " + table["screened_by"].astype(str) + " respondents",
            "",
        ),
    )
    return table.drop(columns="liking_sd")


def check_costs(costs: pd.DataFrame, benefits: list[str], budget: float, max_budget_share: float) -> pd.DataFrame:
    """Per benefit: cost per member per year (direct + delivery), its share of the budget, and whether it
    exceeds ``max_budget_share`` of the budget per member."""
    table = costs.set_index("benefit").reindex(benefits)
    cost = table["direct_cost"] + table["delivery_cost"]
    return pd.DataFrame(
        {
            "direct_cost": table["direct_cost"],
            "delivery_cost": table["delivery_cost"],
            "cost_per_member": cost,
            "budget_share": (cost / budget).round(4),
            "over_budget": cost > max_budget_share * budget,
        },
        index=benefits,
    )
