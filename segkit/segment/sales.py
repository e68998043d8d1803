"""Sales arithmetic: first-purchase against repeat sales, and gross-to-net.

Healthy member businesses sell about nine times as much to returning members
as to first-time buyers (9:1); 8:1 is acceptable; 5:5 (1:1) means member
service is failing (``DOMAIN.md`` section 5).
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..engine import as_table, connection, days_to_dates, fetch_arrow
from .cohorts import activity_of

# Reversal steps from gross orders to net sales, in the domain's order, with the statuses of each.
FUNNEL_STEPS = {
    "cancelled": ("cancelled", "canceled", "已取消"),
    "not shipped": ("not shipped", "unshipped", "未发货"),
    "returned": ("returned", "return", "已退货"),
    "refunded": ("refunded", "已退款"),
}


def health_band(ratio: float) -> str:
    """Band of a repeat:first ratio: >= 9 healthy, >= 8 acceptable, > 1 below target, <= 1 failing."""
    if pd.isna(ratio):
        return ""
    if ratio >= 9:
        return "healthy"
    if ratio >= 8:
        return "acceptable"
    return "below target" if ratio > 1 else "failing"


def sales_split(occasions: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """First-purchase and repeat sales per period, the repeat:first ratio and its health band.

    ``occasions``: the purchase occasions of ``segkit.features.purchase_occasions``, or their
    ``segkit.segment.cohorts.cohort_activity`` (what ``Segmentation.sales`` passes: the occasions stay in
    the engine). A member's first occasion is first-purchase sales, every later one repeat sales.
    Refunds on days without a purchase are not in these sales (see ``gross_to_net``).
    """
    activity = activity_of(occasions)
    period = days_to_dates(activity["day"]).dt.to_period(freq)
    split = activity[["first_purchase_sales", "repeat_sales", "first_time_buyers"]].groupby(period).sum()
    split["repeat_to_first"] = split["repeat_sales"] / split["first_purchase_sales"].replace(0, np.nan)
    split["band"] = split["repeat_to_first"].map(health_band)
    split.index = split.index.astype(str)
    split.index.name = "period"
    return split.reset_index()


def gross_to_net(transactions: pd.DataFrame, steps: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Gross orders down to net sales, step by step, with the share kept at each step.

    Positive amounts are gross orders; negative rows are taken off by their
    ``status`` (``FUNNEL_STEPS``: cancelled, not shipped, returned, refunded);
    negative rows with any other status are a last step, ``other reversals``.
    """
    if "status" not in transactions or transactions["status"].isna().all():
        raise ValueError("gross_to_net needs transactions with a status column (cancelled, returned, refunded)")
    steps = steps or FUNNEL_STEPS
    status = transactions["status"].fillna("").str.lower()
    amount = transactions["amount"]
    negative = amount < 0
    kept = amount[~negative].sum()
    rows = [("gross orders", kept)]
    for label, names in steps.items():
        kept += amount[negative & status.isin(names)].sum()
        rows.append((f"after {label}", kept))
    other = amount[negative & ~status.isin([name for names in steps.values() for name in names])].sum()
    if other:
        rows.append(("after other reversals", kept + other))
    funnel = pd.DataFrame(rows, columns=["step", "amount"])
    funnel["share_of_gross"] = funnel["amount"] / funnel["amount"].iloc[0]
    funnel["share_of_previous"] = funnel["amount"] / funnel["amount"].shift().fillna(funnel["amount"].iloc[0])
    return funnel


def status_totals(
    transactions: Any, backend: str = "duckdb", con: ibis.BaseBackend | None = None
) -> pd.DataFrame | None:
    """The transactions' ``amount`` summed per ``status`` and sign in the engine: what ``gross_to_net`` needs,
    a few rows whatever the number of transactions (``gross_to_net(status_totals(tx))`` is
    ``gross_to_net(tx)``). None when the transactions have no status."""
    con = connection(backend, con)
    table = as_table(transactions, con, "transactions", optional=("status",))
    if "status" not in table.columns:
        return None
    totals = table.group_by("status", negative=table.amount < 0).aggregate(amount=table.amount.sum())
    return fetch_arrow(con, totals.order_by(["status", "negative"]).select("status", "amount")).to_pandas()
