"""Per-member features as of a date, written once in Ibis, run on DuckDB or Spark.

Definitions (all as of ``as_of``; transactions after it are ignored):

* A **purchase occasion** is a member-day whose net is positive, or zero
  with no refund (``segkit.features.occasions``): same-day purchases are
  merged; a same-day cancellation or a refund-only day is not a purchase.
* ``frequency``: number of purchase occasions. The buy-till-you-die "repeat
  frequency" is ``frequency - 1``.
* ``monetary``: net spend, refunds and returns included (they are negative
  amounts). ``refunds``: the amount refunded, as a positive number;
  ``refund_count``: rows with a negative amount.
* ``avg_order_value``: mean net value of a purchase occasion.
* ``first_purchase``, ``last_purchase``; ``recency_days`` = as-of minus last
  purchase; ``tenure_days`` = as-of minus first purchase.
* Gaps between consecutive purchase occasions, in days: ``gap_count``
  (= frequency - 1), ``gap_mean``, ``gap_median``, ``gap_std`` (sample, needs
  two gaps), ``last_gap`` (the gap that ended at the last purchase) and
  ``sum_log_gaps`` (for regularity estimates such as Wheat-Morrison).

Members given in ``members`` but without purchases appear with
``frequency`` 0, once they have joined (``join_date`` on or before the as-of
date, or none given); members who only appear in transactions are kept too.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from ..engine import (
    as_table,
    connection,
    day_number,
    exact_sum,
    fetch_arrow_by_member,
    refuse_member_ids_written_otherwise,
    rows_up_to,
)
from .occasions import daily_expr, is_purchase

FEATURE_COLUMNS = [
    "member_id",
    "first_purchase",
    "last_purchase",
    "frequency",
    "monetary",
    "avg_order_value",
    "refunds",
    "refund_count",
    "recency_days",
    "tenure_days",
    "gap_count",
    "gap_mean",
    "gap_median",
    "gap_std",
    "last_gap",
    "sum_log_gaps",
]


def _simple_member_features(transactions: ibis.Table, as_of: Any) -> ibis.Table:
    """Features computed as if every row were a purchase occasion of its own day, with ``simple``:
    whether that holds for the member (no negative amount, no two rows on one day)."""
    tx = rows_up_to(transactions.select("member_id", "date", "amount"), as_of)
    by_day = ibis.window(group_by="member_id", order_by="day")
    # The last gap is read off the last row, which one more function over the same sorted window
    # finds; an argmax is an ordered aggregate and costs a tenth of the query.
    tx = tx.mutate(gap=tx.day - tx.day.lag().over(by_day), last=tx.day.lead().over(by_day).isnull())
    return tx.group_by("member_id").aggregate(
        simple=~((tx.amount < 0) | (tx.gap == 0).fill_null(False)).any(),
        monetary=exact_sum(tx.amount),
        **_purchase_aggregates(tx.amount, tx.day, tx.gap, last_gap=tx.gap.max(where=tx.last)),
        refunds=ibis.literal(0.0),
        refund_count=ibis.literal(0, "int64"),
    )


def _daily_member_features(transactions: ibis.Table, as_of: Any) -> ibis.Table:
    """Features of any history: same-day rows merged, refunds netted, refund-only days skipped."""
    daily = daily_expr(transactions, as_of)
    # One window, one aggregation: the gap of a purchase day is the distance to the
    # latest earlier purchase day (a running max), so refund-only days need no
    # separate pass and no join.
    purchase = is_purchase(daily)
    purchase_day = ibis.ifelse(purchase, daily.day, ibis.null(daily.day.type()))
    earlier = ibis.window(group_by="member_id", order_by="day", rows=(None, -1))
    daily = daily.mutate(purchase_day=purchase_day, purchase_net=ibis.ifelse(purchase, daily.net, ibis.null("float64")))
    daily = daily.mutate(gap=daily.purchase_day - daily.purchase_day.max().over(earlier))
    return daily.group_by("member_id").aggregate(
        monetary=exact_sum(daily.net),
        **_purchase_aggregates(
            daily.purchase_net, daily.purchase_day, daily.gap, last_gap=daily.gap.argmax(daily.purchase_day)
        ),
        refunds=exact_sum(daily.refunded),
        refund_count=daily.refund_rows.sum().cast("int64"),
    )


def _purchase_aggregates(
    net: ibis.Column, day: ibis.Column, gap: ibis.Column, last_gap: ibis.Scalar
) -> dict[str, ibis.Scalar]:
    """The aggregates over purchase occasions (``day`` null on other rows) and their gaps. Sums are exact
    (``exact_sum``; the gaps' standard deviation from integer sums), so a re-run gives the same digits."""
    n, whole = gap.count(), gap.cast("int64")
    spread = (n * (whole * whole).sum() - whole.sum() * whole.sum()).cast("float64")  # n^2 times the variance, exactly
    return dict(
        first_day=day.min(),
        last_day=day.max(),
        frequency=day.count(),
        avg_order_value=exact_sum(net) / net.count(),
        gap_count=n,
        gap_mean=gap.mean(),
        gap_median=gap.median(),
        gap_std=ibis.ifelse(n > 1, (spread / (n * (n - 1)).cast("float64")).sqrt(), ibis.null("float64")),
        last_gap=last_gap,
        sum_log_gaps=exact_sum(gap.nullif(0).cast("float64").ln(), digits=15),  # 0: a same-day row (not used)
    )


def member_features_expr(transactions: ibis.Table, as_of: Any, members: ibis.Table | None = None) -> ibis.Table:
    """The feature query as an Ibis expression (any backend), one row per member.

    Dates come out as day numbers since 1970-01-01 (``first_day``,
    ``last_day``), which every engine handles alike; ``member_features``
    turns them into dates.

    Most members have simple histories: one row per purchase day and no
    refunds, so every row is a purchase occasion. Their features come from one
    sort of the rows (``_simple_member_features``); only the other members go
    through the day-by-day aggregation (``_daily_member_features``), which on a
    million members costs twice as much. Both give the same values.
    """
    as_of_day = day_number(as_of)
    simple = _simple_member_features(transactions, as_of)
    others = transactions.semi_join(simple.filter(~simple.simple), "member_id")
    features = simple.filter(simple.simple).drop("simple").union(_daily_member_features(others, as_of))
    if members is not None:
        ids = joined_members(members, as_of).select("member_id").distinct()
        features = ids.join(features, "member_id", how="outer")
        features = features.mutate(member_id=features.member_id.coalesce(features.member_id_right)).drop(
            "member_id_right"
        )
    return features.mutate(
        frequency=features.frequency.coalesce(0),
        monetary=features.monetary.coalesce(0.0),
        refunds=features.refunds.coalesce(0.0),
        refund_count=features.refund_count.coalesce(0),
        gap_count=features.gap_count.coalesce(0),
        recency_days=as_of_day - features.last_day,
        tenure_days=as_of_day - features.first_day,
    ).order_by("member_id")


def joined_members(members: ibis.Table, date: Any) -> ibis.Table:
    """The members who had joined by ``date`` (or whose join date is unknown, as for every member of a table
    without join dates)."""
    if "join_date" not in members.columns:
        return members
    kind = members.join_date.type()
    if not (kind.is_timestamp() or kind.is_date() or kind.is_null()):
        raise ValueError(f"members: join_date must be dates (segkit.load_members reads them), not {kind}")
    return members.filter(members.join_date.isnull() | (members.join_date <= pd.Timestamp(date)))


def member_features(
    transactions: Any, as_of: Any, members: Any = None, backend: str = "duckdb", con: ibis.BaseBackend | None = None
) -> pd.DataFrame:
    """One row per member as of ``as_of`` (see the module docstring for definitions).

    ``transactions`` is a canonical transactions DataFrame (``segkit.data.load_transactions``),
    a Parquet path or an Ibis table; ``members`` likewise, optional.
    """
    con = connection(backend, con)
    tx = as_table(transactions, con, "transactions")
    mem = None if members is None else as_table(members, con, "members", optional=("join_date",))
    if mem is not None:
        refuse_member_ids_written_otherwise(con, tx, mem, "the transactions'", "the members'")

    # Typed in Arrow, then converted once: Ibis's to_pandas and casts in pandas cost a
    # second more on a million members.
    def features(tx: ibis.Table, mem: ibis.Table | None) -> ibis.Table:
        return member_features_expr(tx, as_of, mem)

    return _to_frame(fetch_arrow_by_member(con, features, tx, mem))


_ARROW_TYPES = {
    "member_id": pa.string(),
    "first_purchase": pa.timestamp("ns"),
    "last_purchase": pa.timestamp("ns"),
    **{c: pa.int64() for c in ("frequency", "refund_count", "gap_count", "recency_days", "tenure_days", "last_gap")},
    **{
        c: pa.float64()
        for c in ("monetary", "avg_order_value", "refunds", "gap_mean", "gap_median", "gap_std", "sum_log_gaps")
    },
}


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """Engine-neutral types: day numbers to dates (datetime64), counts to int64, nullable
    integers (``Int64``) where a member may have no value."""
    days = {"first_purchase": "first_day", "last_purchase": "last_day"}
    table = pa.table(
        {
            name: table[days[name]].cast(pa.int32()).cast(pa.date32()).cast(_ARROW_TYPES[name])
            if name in days
            else table[name].cast(_ARROW_TYPES[name])
            for name in FEATURE_COLUMNS
        }
    )
    frame = table.to_pandas(deduplicate_objects=False, types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for column in ("frequency", "refund_count", "gap_count"):
        frame[column] = frame[column].astype("int64")
    return frame
