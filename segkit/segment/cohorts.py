"""Cohorts: members grouped by the month of their first purchase, counted in the engine.

The purchase occasions (``segkit.features.occasions``) never leave the engine: one query
(``cohort_activity_expr``, run a range of members at a time) reduces them to one row per cohort and day,
and the cohort retention here and the first-against-repeat sales split (``segkit.segment.sales``) are
read off that small table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..engine import EPOCH, as_table, connect, connection, exact_sum, fetch_arrow_by_member

ACTIVITY_COLUMNS = ["cohort", "month", "day", "members", "first_purchase_sales", "repeat_sales", "first_time_buyers"]


def _month_number(day: ibis.IntegerValue) -> ibis.IntegerValue:
    """The month of a day number, counted as ``year * 12 + month - 1``."""
    date = ibis.date(1970, 1, 1) + day.as_interval("D")
    return date.year() * 12 + date.month() - 1


def cohort_activity_expr(occasions: ibis.Table) -> ibis.Table:
    """Purchase occasions (``member_id``, ``day``, ``net``: ``segkit.features.occasions_expr``) reduced to one
    row per first-purchase month (``cohort``) and ``day`` (with its ``month``), in one pass:

    * ``members``: the members of the cohort whose first purchase of that month falls on that day, so that
      summed over a month they count each member buying in it once;
    * ``first_purchase_sales``, ``repeat_sales``: the net of the members' first and of their later occasions;
    * ``first_time_buyers``: members whose first occasion is that day.

    Months are numbered ``year * 12 + month - 1``, days since 1970-01-01.
    """
    by_member = ibis.window(group_by="member_id", order_by="day")
    occasions = occasions.mutate(
        previous=occasions.day.lag().over(by_member), first=occasions.day.min().over(by_member)
    )
    month = _month_number(occasions.day)
    occasions = occasions.mutate(
        cohort=_month_number(occasions.first),
        month=month,
        is_first=occasions.previous.isnull(),
        new_month=(_month_number(occasions.previous) != month).fill_null(True),
    )
    return (
        occasions.group_by(["cohort", "month", "day"])
        .aggregate(
            members=ibis.ifelse(occasions.new_month, 1, 0).sum().cast("int64"),
            first_purchase_sales=exact_sum(ibis.ifelse(occasions.is_first, occasions.net, 0.0)),
            repeat_sales=exact_sum(ibis.ifelse(occasions.is_first, 0.0, occasions.net)),
            first_time_buyers=ibis.ifelse(occasions.is_first, 1, 0).sum().cast("int64"),
        )
        .order_by(["cohort", "day"])
    )


def cohort_activity(
    transactions: Any, as_of: Any, backend: str = "duckdb", con: ibis.BaseBackend | None = None
) -> pd.DataFrame:
    """The purchase occasions up to ``as_of`` per first-purchase month and day (``cohort_activity_expr``),
    computed in the engine: a row per cohort and day, whatever the number of members.

    ``cohort_retention`` and ``sales_split`` take this table as well as purchase occasions.
    """
    from ..features import occasions_expr

    con = connection(backend, con)
    return _activity(con, as_table(transactions, con, "transactions"), lambda tx: occasions_expr(tx, as_of))


def activity_of(occasions: pd.DataFrame) -> pd.DataFrame:
    """``cohort_activity`` of purchase occasions in pandas (``member_id``, ``date``, ``net``: the frame of
    ``segkit.features.purchase_occasions``), computed by the same query on an embedded DuckDB; a table
    from ``cohort_activity`` is returned as it is."""
    if set(ACTIVITY_COLUMNS) <= set(occasions.columns):
        return occasions
    days = occasions["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]") - np.datetime64(EPOCH, "D")
    table = pd.DataFrame(
        {"member_id": occasions["member_id"].to_numpy(), "day": days.astype("int32"), "net": occasions["net"]}
    )
    return _activity(connect(), ibis.memtable(table), lambda occasions: occasions)


def _activity(
    con: ibis.BaseBackend, table: ibis.Table, occasions_of: Callable[[ibis.Table], ibis.Table]
) -> pd.DataFrame:
    """``cohort_activity_expr`` of the occasions of ``table``, run a range of members at a time (a query by
    member: ``segkit.engine.fetch_arrow_by_member``) and the ranges' counts and sums added up."""
    frame = fetch_arrow_by_member(con, lambda part: cohort_activity_expr(occasions_of(part)), table).to_pandas()
    keys = ["cohort", "month", "day"]
    frame = frame.groupby(keys, as_index=False, sort=True)[ACTIVITY_COLUMNS[len(keys) :]].sum()
    return frame[ACTIVITY_COLUMNS].astype(
        {"cohort": "int32", "month": "int32", "day": "int32", "members": "int64", "first_time_buyers": "int64"}
    )


def cohort_retention(occasions: pd.DataFrame, as_of) -> pd.DataFrame:
    """Share of each first-purchase cohort that buys in month k after it (k = 0 is the first month).

    ``occasions``: the purchase occasions of ``segkit.features.purchase_occasions``, or their
    ``cohort_activity`` (what ``Segmentation.cohorts`` passes: the occasions stay in the engine). Rows are
    cohorts (``YYYY-MM``), columns k = 0, 1, ...; months after ``as_of`` are empty (not yet observed), never
    zero. The cohort sizes are in ``.attrs["sizes"]``.
    """
    activity = activity_of(occasions)
    k = (activity["month"] - activity["cohort"]).rename("k")
    counts = activity.groupby([activity["cohort"], k])["members"].sum().unstack(fill_value=0)
    if counts.empty:  # nobody bought: no cohort, and no first month
        counts[0] = np.zeros(0, dtype=np.int64)
    as_of = parse_day(as_of)
    last_month = as_of.year * 12 + as_of.month - 1
    if len(counts):  # every month from the first to the last observed, also those in which nobody bought
        months = max(last_month - int(counts.index.min()), int(counts.columns.max())) + 1
        counts = counts.reindex(columns=pd.Index(range(months), dtype=counts.columns.dtype, name="k"), fill_value=0)
    sizes = counts[0]
    retention = counts.div(sizes, axis=0)
    observed = retention.columns.to_numpy()[None, :] <= (last_month - retention.index.to_numpy())[:, None]
    retention = retention.where(observed)
    retention.index = [f"{m // 12}-{m % 12 + 1:02d}" for m in retention.index]
    retention.index.name, retention.columns.name = "cohort", "months_after_first_purchase"
    retention.attrs["sizes"] = sizes.set_axis(retention.index)
    return retention
