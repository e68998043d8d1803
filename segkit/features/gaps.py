"""Purchase gaps: the days between a member's purchase occasions, and the gap still open at the as-of date.

Every gap between two consecutive purchase occasions is a completed duration
(an *event*); the gap from the last purchase to the as-of date is still open,
a right-censored duration. The rhythm model (``segkit.churn.IntervalModel``)
is fitted on this table.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals
from pyarrow import feather

from ..engine import arrow_batches, as_table, connection, day_number, in_range, member_ranges, text_ids
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
    ``members`` has it. (``gap_table`` gives the same rows a range of members at a time.)
    """
    return _concat(list(_gap_frames(transactions, as_of, members, backend, con)))


def gap_table(
    transactions: Any,
    as_of: Any,
    members: pd.DataFrame | None = None,
    backend: str = "duckdb",
    con: ibis.BaseBackend | None = None,
) -> "GapTable":
    """The rows of ``purchase_gaps``, kept a range of members at a time (``GapTable``): what the rhythm model
    needs without holding every gap at once (107M gaps on 10M households)."""
    return GapTable(_gap_frames(transactions, as_of, members, backend, con))


class GapTable:
    """``purchase_gaps``' table, a range of members at a time: in memory when it is one range, else each range in
    an Arrow file of a temporary folder (removed with the table). What grows with the purchases stays on disk;
    what is held is one row per member, ``open``.

    Attributes
    ----------
    open : pandas.DataFrame
        Every member's open gap (``event`` False), one row per member in member order: what scoring needs.
    columns : pandas.Index
        The gap table's columns.
    n_rows, n_completed : int
        Gaps, and completed gaps (``event`` True), over every range.
    """

    def __init__(self, frames: Iterator[pd.DataFrame]):
        self._parts: list[pd.DataFrame | Path] = []
        self._folder: Path | None = None
        opens = []
        self.n_rows = self.n_completed = 0
        for frame in frames:
            if self._parts and self._folder is None:  # a second range: every range goes to disk
                self._folder = Path(tempfile.mkdtemp(prefix="segkit-gaps-"))
                weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
                self._parts = [self._spill(self._parts[0], 0)]
            self._parts.append(frame if self._folder is None else self._spill(frame, len(self._parts)))
            opens.append(frame.loc[~frame["event"].to_numpy()])
            self.n_rows += len(frame)
            self.n_completed += int(frame["event"].sum())
            self.columns = frame.columns
        self.open = _concat(opens).reset_index(drop=True)

    def _spill(self, frame: pd.DataFrame, number: int) -> Path:
        path = self._folder / f"{number:05d}.arrow"
        try:
            feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), path)
        except OSError as error:
            raise OSError(
                f"cannot write the gap table's ranges to {self._folder} ({error}); they take about 10 bytes a "
                "purchase (133 MB on 1M households): free space there, or point TMPDIR at a folder with room"
            ) from None
        pa.default_memory_pool().release_unused()  # the range's Arrow copy, and its occasions as fetched
        return path

    def __getstate__(self) -> dict[str, Any]:
        """A copy (or a pickle) holds its ranges in memory: the folder goes with the table that made it."""
        return {**self.__dict__, "_parts": list(self.batches()), "_folder": None}

    def batches(self) -> Iterator[pd.DataFrame]:
        """The table a range of members at a time, in member order; each member's gaps are all in one batch
        (``member_id`` a categorical of the batch's members)."""
        for part in self._parts:
            yield feather.read_table(part).to_pandas() if isinstance(part, Path) else part
            # Arrow's allocator keeps the range's freed blocks for reuse, where numpy cannot use them (after the
            # rhythm's three passes on 1M households it held 880 MB): give them back.
            pa.default_memory_pool().release_unused()

    def to_pandas(self) -> pd.DataFrame:
        """The whole table, ``purchase_gaps``' DataFrame (a copy)."""
        parts = list(self.batches())
        return parts[0].copy() if len(parts) == 1 else _concat(parts)

    def __len__(self) -> int:
        return self.n_rows

    def __repr__(self) -> str:
        where = f"{len(self._parts)} ranges on disk" if self._folder else "in memory"
        return f"<GapTable: {self.n_rows:,} gaps of {len(self.open):,} members, {where}>"


def gap_batches(gaps: pd.DataFrame | GapTable) -> Iterator[pd.DataFrame]:
    """A gap table a range of whole members at a time, each member's rows together and in the order of the
    ``member_id`` categories: a ``GapTable``'s ranges, or a DataFrame (``purchase_gaps``) as one range, sorted
    by member if its rows are not (the rhythm's passes number the completed gaps member after member)."""
    if isinstance(gaps, GapTable):
        yield from gaps.batches()
        return
    codes = gaps["member_id"].cat.codes.to_numpy()
    yield gaps if (codes[1:] >= codes[:-1]).all() else gaps.iloc[np.argsort(codes, kind="stable")]


def _gap_frames(
    transactions: Any, as_of: Any, members: pd.DataFrame | None, backend: str, con: ibis.BaseBackend | None
) -> Iterator[pd.DataFrame]:
    """The gap table, one range of members (``member_ranges``) at a time."""
    con = connection(backend, con)
    as_of_day = day_number(as_of)
    table = as_table(transactions, con, "transactions", optional=("quantity", "product"))
    names = _occasion_expr(table, as_of).columns
    sizes = None
    if members is not None and "household_size" in members.columns:
        sizes = _household_sizes(members)
    for lo, hi in member_ranges(con, table):
        occasions = _occasions(arrow_batches(con, _occasion_expr(in_range(table, lo, hi), as_of), _BATCH_ROWS), names)
        yield _gap_frame(occasions, as_of_day, sizes)


def _household_sizes(members: pd.DataFrame) -> tuple[pa.Array, np.ndarray]:
    """Each member's id (Arrow text) and household size as a number (NaN where it is not one); a member's first
    row counts, and rows without an id are left out."""
    sizes = members.loc[members["member_id"].notna(), ["member_id", "household_size"]].drop_duplicates("member_id")
    size = pd.to_numeric(sizes["household_size"], errors="coerce")
    return text_ids(sizes["member_id"]), size.to_numpy(float, na_value=np.nan)


def _gap_frame(
    occasions: dict[str, Any], as_of_day: int, household_sizes: tuple[pa.Array, np.ndarray] | None
) -> pd.DataFrame:
    """The gaps of a range of members' occasions (in member and day order)."""
    ids = occasions.pop("member_id")
    code = np.concatenate(
        [chunk.indices.to_numpy(zero_copy_only=False) for chunk in ids.chunks] or [np.zeros(0, np.int32)]
    ).astype(np.int32, copy=False)
    dictionary = ids.chunk(0).dictionary if ids.num_chunks else pa.array([], pa.string())
    member_ids = pd.Index(dictionary.to_pylist(), dtype=object)
    days = occasions.pop("day").astype(np.int64, copy=False)
    n = len(code)
    # The occasion that closes each member's history opens their censored gap.
    last = np.ones(n, dtype=bool)
    last[:-1] = code[1:] != code[:-1]
    length = np.empty(n, dtype=np.int64)
    length[:-1] = days[1:] - days[:-1]
    length[last] = as_of_day - days[last]
    days *= 86_400_000_000_000  # in place, to nanoseconds
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
    if household_sizes is not None:
        gaps["household_size"] = _sizes_of(dictionary, *household_sizes)[gaps["member_id"].cat.codes.to_numpy()]
    return gaps


def _sizes_of(range_ids: pa.Array, ids: pa.Array, sizes: np.ndarray) -> np.ndarray:
    """The household size of each of a range's members ``range_ids`` (NaN where they have none). The members'
    ``ids`` are looked up among the range's, whose hash table is small (the range's looked up among 10M members,
    in pandas, took 7 s per range: 90 s of the gaps of 10M households)."""
    at = pc.index_in(ids, value_set=range_ids)
    found = at.is_valid()
    per_member = np.full(len(range_ids), np.nan)
    per_member[at.filter(found).to_numpy()] = sizes[found.to_numpy(zero_copy_only=False)]
    return per_member


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Gap tables of consecutive ranges as one: categories in order of first appearance, as one range's."""
    if len(frames) == 1:
        return frames[0]
    columns = {}
    for name in frames[0].columns:
        parts = [frame[name] for frame in frames]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            columns[name] = union_categoricals(parts)
        else:
            columns[name] = np.concatenate([part.to_numpy() for part in parts])
    return pd.DataFrame(columns, copy=False)


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
