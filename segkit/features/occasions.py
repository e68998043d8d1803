"""Purchase occasions: the one definition of "a purchase" that every query over transactions shares.

A **purchase occasion** is a member-day whose net amount is positive, or zero
with no refund on it (a free item, as CDNOW has): a member's purchases on one
day are merged, and an order cancelled the same day (net zero with a refund)
is not a purchase. Days with only refunds are not purchases.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from ..engine import as_table, connection, days_to_dates, exact_sum, fetch_arrow, rows_up_to


def daily_expr(transactions: ibis.Table, as_of: Any, items: bool = False) -> ibis.Table:
    """One row per member and day up to ``as_of``: ``net`` amount, ``refunded``, ``refund_rows``; with
    ``items``, also ``quantity`` bought and the day's main ``product`` (largest amount), where the
    transactions have those columns.

    ``day`` is the day number since 1970-01-01. ``is_purchase(daily)`` says
    which days are purchase occasions.
    """
    tx = rows_up_to(transactions, as_of)
    aggregates = {
        "net": exact_sum(tx.amount),
        "refunded": exact_sum(ibis.ifelse(tx.amount < 0, -tx.amount, 0.0)),
        "refund_rows": ibis.ifelse(tx.amount < 0, 1, 0).sum(),
    }
    if items and "quantity" in tx.columns:
        aggregates["quantity"] = exact_sum(ibis.ifelse(tx.amount > 0, tx.quantity.cast("float64"), 0.0))
    if items and "product" in tx.columns:
        aggregates["product"] = tx["product"].argmax(tx.amount)
    return tx.group_by(["member_id", "day"]).aggregate(**aggregates)


def is_purchase(daily: ibis.Table) -> ibis.BooleanValue:
    """A purchase occasion: net positive, or zero with no refund (a free item, not a cancelled order)."""
    return (daily.net > 0) | ((daily.net == 0) & (daily.refund_rows == 0))


def occasions_expr(transactions: ibis.Table, as_of: Any) -> ibis.Table:
    """The purchase occasions up to ``as_of`` as an Ibis expression: ``member_id``, ``day``, ``net``."""
    daily = daily_expr(transactions, as_of)
    return daily.filter(is_purchase(daily)).select("member_id", "day", "net")


def purchase_occasions(
    transactions: Any, as_of: Any, backend: str = "duckdb", con: ibis.BaseBackend | None = None
) -> pd.DataFrame:
    """Every purchase occasion up to ``as_of``: ``member_id``, ``date``, ``net`` (one row per member-day)."""
    con = connection(backend, con)
    occasions = occasions_expr(as_table(transactions, con, "transactions"), as_of)
    frame = fetch_arrow(con, occasions.order_by(["member_id", "day"])).to_pandas()
    frame["date"] = days_to_dates(frame.pop("day"))
    return frame[["member_id", "date", "net"]]
