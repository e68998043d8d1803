"""Purchase gaps: the days between a member's purchase occasions, and the gap still open at the as-of date.

Every gap between two consecutive purchase occasions is a completed duration
(an *event*); the gap from the last purchase to the as-of date is still open,
a right-censored duration. The rhythm model (``segkit.churn.IntervalModel``)
is fitted on this table.
"""
from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from ..engine import as_table, connection, day_number
from .occasions import daily_expr, is_purchase


def purchase_gaps(transactions: Any, as_of: Any, members: pd.DataFrame | None = None, backend: str = "duckdb",
                  con: ibis.BaseBackend | None = None) -> pd.DataFrame:
    """One row per gap between purchase occasions, plus each member's open gap, as of ``as_of``.

    Columns: ``member_id`` (categorical), ``start`` (the purchase that opened
    the gap), ``days``, ``event`` (True: the gap ended with a purchase; False:
    still open at ``as_of``), ``net`` spend of the opening purchase, ``quantity`` and ``product`` of the opening
    purchase when the transactions have them, ``household_size`` when
    ``members`` has it.
    """
    con = connection(backend, con)
    as_of_day = day_number(as_of)
    daily = daily_expr(as_table(transactions, con, "transactions", optional=("quantity", "product")), as_of,
                       items=True)
    occasions = con.to_pyarrow(daily.filter(is_purchase(daily)).drop("refunded", "refund_rows")
                               .order_by(["member_id", "day"]))

    ids = _dictionary(occasions.column("member_id"))
    code = ids.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    days = occasions.column("day").to_numpy().astype(np.int64)
    n = len(code)
    # The occasion that closes each member's history opens their censored gap.
    last = np.ones(n, dtype=bool)
    last[:-1] = code[1:] != code[:-1]
    length = np.empty(n, dtype=np.int64)
    length[:-1] = days[1:] - days[:-1]
    length[last] = as_of_day - days[last]
    gaps = pd.DataFrame({
        "member_id": pd.Categorical.from_codes(code, categories=pd.Index(ids.dictionary.to_pylist(), dtype=object)),
        "start": days.astype("datetime64[D]").astype("datetime64[ns]"),
        "days": length,
        "event": ~last,
        "net": occasions.column("net").to_numpy(zero_copy_only=False).astype(np.float32),
    })
    del ids, code, days, length
    if "quantity" in occasions.column_names:
        gaps["quantity"] = occasions.column("quantity").to_numpy(zero_copy_only=False)
    if "product" in occasions.column_names:
        product = _dictionary(occasions.column("product"))
        gaps["product"] = pd.Categorical.from_codes(product.indices.fill_null(-1).to_numpy(zero_copy_only=False),
                                                    categories=product.dictionary.to_pylist())
    del occasions
    if members is not None and "household_size" in members.columns:
        size = pd.to_numeric(members.drop_duplicates("member_id").set_index("member_id")["household_size"],
                             errors="coerce")
        per_member = size.reindex(gaps["member_id"].cat.categories).to_numpy(dtype=float)
        gaps["household_size"] = per_member[gaps["member_id"].cat.codes.to_numpy()]
    return gaps


def _dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """Strings as integer codes plus their distinct values (in order of first appearance)."""
    return column.combine_chunks().cast(pa.string()).dictionary_encode()
