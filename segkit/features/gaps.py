"""Purchase gaps: the days between a member's purchase occasions, and the gap still open at the as-of date.

Every gap between two consecutive purchase occasions is a completed duration
(an *event*); the gap from the last purchase to the as-of date is still open,
a right-censored duration. The rhythm model (``segkit.churn.IntervalModel``)
is fitted on this table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from ..engine import as_table, batches_by_member, connection, day_number
from .occasions import daily_expr, is_purchase

_BATCH_ROWS = 1 << 20  # occasions fetched from the engine at a time


def purchase_gaps(
    transactions: Any,
    as_of: Any,
    members: pd.DataFrame | None = None,
    backend: str = "duckdb",
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """One row per gap between purchase occasions, plus each member's open gap, as of ``as_of``.

    Columns: ``member_id`` (categorical), ``start`` (the purchase that opened
    the gap), ``days``, ``event`` (True: the gap ended with a purchase; False:
    still open at ``as_of``), ``net`` spend of the opening purchase, ``quantity`` and ``product`` of the opening
    purchase when the transactions have them, ``household_size`` when
    ``members`` has it.
    """
    con = connection(backend, con)
    as_of_day = day_number(as_of)
    table = as_table(transactions, con, "transactions", optional=("quantity", "product"))
    occasions = _occasions(
        batches_by_member(con, lambda part: _occasion_expr(part, as_of), table, rows=_BATCH_ROWS),
        _occasion_expr(table, as_of).columns,
    )
    ids = occasions.pop("member_id")
    code = np.concatenate(
        [chunk.indices.to_numpy(zero_copy_only=False) for chunk in ids.chunks] or [np.zeros(0, np.int32)]
    ).astype(np.int32, copy=False)
    member_ids = pd.Index(ids.chunk(0).dictionary.to_pylist() if ids.num_chunks else [], dtype=object)
    days = occasions.pop("day").astype(np.int64, copy=False)
    n = len(code)
    # The occasion that closes each member's history opens their censored gap.
    last = np.ones(n, dtype=bool)
    last[:-1] = code[1:] != code[:-1]
    length = np.empty(n, dtype=np.int64)
    length[:-1] = days[1:] - days[:-1]
    length[last] = as_of_day - days[last]
    days *= 86_400_000_000_000  # in place, to nanoseconds: 107M occasions on 10M households
    gaps = pd.DataFrame(
        {
            "member_id": pd.Categorical.from_codes(code, categories=member_ids),
            "start": days.view("datetime64[ns]"),
            "days": length,
            "event": ~last,
            "net": occasions.pop("net").astype(np.float32),
        },
        copy=False,
    )
    del ids, code, days, length
    if "quantity" in occasions:
        gaps["quantity"] = occasions.pop("quantity")
    if "product" in occasions:
        product = occasions.pop("product")
        codes = np.concatenate(
            [chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False) for chunk in product.chunks]
            or [np.zeros(0, np.int32)]
        )
        levels = product.chunk(0).dictionary.to_pylist() if product.num_chunks else []
        gaps["product"] = pd.Categorical.from_codes(codes, categories=levels)
    if members is not None and "household_size" in members.columns:
        size = pd.to_numeric(
            members.drop_duplicates("member_id").set_index("member_id")["household_size"], errors="coerce"
        )
        per_member = size.reindex(gaps["member_id"].cat.categories).to_numpy(dtype=float)
        gaps["household_size"] = per_member[gaps["member_id"].cat.codes.to_numpy()]
    return gaps


def _occasion_expr(table: ibis.Table, as_of: Any) -> ibis.Table:
    daily = daily_expr(table, as_of, items=True)
    return daily.filter(is_purchase(daily)).drop("refunded", "refund_rows").order_by(["member_id", "day"])


def _occasions(batches: Iterator[pa.RecordBatch], names: list[str]) -> dict[str, Any]:
    """The occasions' columns ``names``, read batch by batch so that no column of text is held whole:
    ``member_id`` and ``product`` as dictionary-encoded chunked arrays sharing one dictionary (in order of
    first appearance), the numbers as numpy arrays."""
    text = [name for name in ("member_id", "product") if name in names]
    parts: dict[str, list] = {name: [] for name in names}
    for batch in batches:
        for name in names:
            column = batch.column(name)
            if name in text:
                parts[name].append(column.cast(pa.string()).dictionary_encode())
            else:  # a copy: a view would keep the whole batch (its text too) alive
                parts[name].append(np.array(column.to_numpy(zero_copy_only=False)))
    columns: dict[str, Any] = {}
    for name in names:
        chunks = parts.pop(name)
        if name in text:
            columns[name] = pa.chunked_array(chunks, type=pa.dictionary(pa.int32(), pa.string())).unify_dictionaries()
        else:
            columns[name] = np.concatenate(chunks) if chunks else np.zeros(0)
    return columns
