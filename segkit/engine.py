"""The engine: where every query over transactions runs (Ibis on DuckDB or Spark), and the day codec.

Every function that reads transactions takes ``backend=`` ("duckdb", the
default, embedded; or "spark", a local session) and ``con=`` (an Ibis
connection you made, e.g. to a Spark cluster), and turns them into a
connection with ``connection``: ``con`` wins when given.

Days travel through the engine as **day numbers** (days since 1970-01-01, 32
bits): every engine compares, sorts and subtracts them alike, and they move
half the bytes of a timestamp. ``day_number`` makes one from a date,
``epoch_day`` from a date column, ``days_to_dates`` turns them back into
dates in pandas.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .data.parse import parse_day

BACKENDS = ("duckdb", "spark")
DUCKDB_MEMORY_LIMIT = "1GB"
_FETCH_ROWS = 1 << 20
_ALIKE_SHOWN = 1000  # pairs of ids written two ways fetched to name them in the refusal
_RANGE_ROWS = 1 << 23  # transaction rows per query grouped by member: within DuckDB's default 1 GB
EPOCH = pd.Timestamp("1970-01-01")


def connect(backend: str = "duckdb", **options) -> ibis.BaseBackend:
    """An Ibis connection: embedded DuckDB by default, or a local Spark session.

    DuckDB works within ``memory_limit`` (``DUCKDB_MEMORY_LIMIT``, or the environment's
    ``SEGKIT_DUCKDB_MEMORY_LIMIT``; a larger query spills to a temporary folder): by default it would take up
    to 80 % of the machine, on top of what Python holds. Its allocator gives freed memory back to the system
    in the background (``allocator_background_threads``): otherwise it keeps it for the next query, where the
    pandas work between queries cannot use it (on 10M households, 450 MB after the purchase value alone).

    For a Spark cluster, build your own ``SparkSession`` (master ``yarn``,
    ``k8s://...``) and pass ``ibis.pyspark.connect(session)`` as ``con``.
    """
    _check_backend(backend)
    if backend == "duckdb":
        options.setdefault("memory_limit", os.environ.get("SEGKIT_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT))
        options.setdefault("allocator_background_threads", True)
        options.setdefault("temp_directory", str(Path(tempfile.gettempdir()) / f"segkit-duckdb-{os.getpid()}"))
        return ibis.duckdb.connect(**options)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ImportError("the Spark backend needs the spark extra: pip install 'segkit[spark]' (and Java)") from None
    session = (
        SparkSession.builder.master(options.pop("master", "local[2]"))
        .appName("segkit")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", options.pop("shuffle_partitions", 8))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use {' or '.join(map(repr, BACKENDS))}")


def connection(backend: str = "duckdb", con: ibis.BaseBackend | None = None) -> ibis.BaseBackend:
    """The connection a workflow's ``backend=``/``con=`` ask for: ``con`` if given, else a new one to ``backend``."""
    _check_backend(backend)
    return con if con is not None else connect(backend)


def as_table(
    data: Any, con: ibis.BaseBackend, name: str = "transactions", optional: tuple[str, ...] = ()
) -> ibis.Table:
    """An Ibis table from a canonical table (a DataFrame, an Arrow table or a ``LoadResult``: its needed columns,
    plus the ``optional`` ones it has), a Parquet path or an Ibis table. A ``LoadResult`` goes in as Arrow,
    its text never turned into Python strings."""
    from .data.load import LoadResult
    from .data.sources import plain_text

    if isinstance(data, ibis.Table):
        return _with_text_ids(data, name)
    if isinstance(data, LoadResult):
        data = data.to_arrow()
    if isinstance(data, (pd.DataFrame, pa.Table)):
        present = list(data.column_names if isinstance(data, pa.Table) else data.columns)
        columns = ["member_id", "date", "amount"] if name == "transactions" else ["member_id"]
        missing = [c for c in columns if c not in present]
        if missing:
            raise ValueError(f"{name} table lacks column(s) {', '.join(missing)}; columns: {', '.join(present)}")
        columns += [c for c in optional if c in present]
        if isinstance(data, pd.DataFrame):
            _refuse_missing_ids(int(data["member_id"].isna().sum()), name)
            if name == "transactions":
                _refuse_missing_dates(int(data["date"].isna().sum()))
            return _checked_types(_with_text_ids(ibis.memtable(data[columns]), name), name)
        _refuse_missing_ids(data.column("member_id").null_count, name)
        if name == "transactions":
            _refuse_missing_dates(data.column("date").null_count)
        data = data.select(columns)
        if con.name != "duckdb":  # DuckDB reads dictionary-encoded text as it is; Spark wants plain strings
            data = pa.table({c: plain_text(data.column(c)) for c in columns})
        return _checked_types(_with_text_ids(ibis.memtable(data), name), name)
    path = Path(data)
    if path.suffix.lower() in {".parquet", ".pq"}:
        if con.name == "duckdb" and name == "transactions":
            _warn_unless_in_member_order(path)
        if con.name == "pyspark" and _in_nanoseconds(path):
            warnings.warn(
                f"{path.name} stores times in nanoseconds (pandas' default), which Spark cannot read; it is read "
                "here and handed to Spark from memory. Write it with microseconds to let Spark read it itself: "
                "frame.to_parquet(path, coerce_timestamps='us')",
                stacklevel=2,
            )
            return as_table(_in_microseconds(pq.read_table(path)), con, name, optional)
        return _with_text_ids(con.read_parquet(str(path)), name)
    raise ValueError(f"{name}: pass a DataFrame, an Ibis table or a Parquet path (load CSV with segkit.data first)")


def _refuse_missing_dates(missing: int) -> None:
    """A canonical transactions table has a date on every row (the loader rejects the rows without, with a reason);
    a table made by hand without would be dated nowhere without a word. A row without an amount is no purchase
    (the features leave it out)."""
    if missing:
        raise ValueError(
            f"transactions: {missing:,} row(s) with no date: load the file with segkit.load_transactions, "
            "which rejects such rows with a reason"
        )


def _checked_types(table: ibis.Table, name: str) -> ibis.Table:
    """``table`` once its transactions' ``date`` is dates and ``amount`` numbers: text there failed deep in the
    engine (``amount:string and Literal(0):int8 are not comparable``)."""
    if name == "transactions":
        schema = table.schema()
        for column, fits, what in (("date", "is_temporal", "dates"), ("amount", "is_numeric", "numbers")):
            if not getattr(schema[column], fits)() or schema[column].is_boolean():
                raise ValueError(
                    f"transactions: column {column} holds {schema[column]}, not {what}: load the file with "
                    "segkit.load_transactions, which reads and checks them"
                )
    return table


def _refuse_missing_ids(missing: int, name: str) -> None:
    if missing:
        raise ValueError(
            f"{name}: {missing:,} row(s) without a member_id; load the table with segkit.data, which rejects such "
            "rows with a reason"
        )


def _with_text_ids(table: ibis.Table, name: str) -> ibis.Table:
    """``table``, whose ``member_id`` is text, as segkit's loaders make it. Numbers as ids lose their leading zeros
    and match no id written as text: a members table with numeric ids made every member one who never bought."""
    kind = table.schema()["member_id"] if "member_id" in table.columns else None
    if kind is not None and not (kind.is_string() or kind.is_null()):  # null: no id at all (an empty table)
        raise ValueError(
            f"{name}: member_id must be text, as segkit.data's loaders give it, not {kind} (ids such as 0042 keep "
            "their leading zeros only as text); load the file with segkit.data, or pass member_id as strings"
        )
    return table


def _in_nanoseconds(path: Path) -> bool:
    """Whether a local Parquet file holds a timestamp column in nanoseconds (False if it cannot be read here)."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException):
        return False  # not a local file (s3a://...): Spark reads it, or says why not
    return any(pa.types.is_timestamp(f.type) and f.type.unit == "ns" for f in schema)


def _in_microseconds(table: pa.Table) -> pa.Table:
    """``table`` with its nanosecond timestamps in microseconds (a purchase's time of day to the microsecond is
    more than any feature uses, so a finer part is dropped rather than refused)."""
    schema = pa.schema(
        [
            f.with_type(pa.timestamp("us", f.type.tz)) if pa.types.is_timestamp(f.type) and f.type.unit == "ns" else f
            for f in table.schema
        ]
    )
    return table.cast(schema, safe=False)


def arrow_batches(con: ibis.BaseBackend, expr: ibis.Table, rows: int) -> pa.RecordBatchReader:
    """The result of ``expr`` as Arrow record batches of about ``rows`` rows, in order, so that the caller never
    holds a whole column of text. (On DuckDB, straight from its result: Ibis 12's ``to_pyarrow_batches`` calls a
    method DuckDB 2 no longer has.)"""
    if con.name == "duckdb":
        con._run_pre_execute_hooks(expr)  # registers the in-memory tables the query reads
        return con.con.sql(str(con.compile(expr))).to_arrow_reader(rows)
    table = _spark_arrow(con, expr) if con.name == "pyspark" else con.to_pyarrow(expr)
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(rows))


def _spark_arrow(con: ibis.BaseBackend, expr: ibis.Expr) -> pa.Table:
    """The result of ``expr`` from Spark, collected as Arrow. (Ibis collects through ``toPandas``, a row at a time
    in the driver's JVM: the occasions of 1M households, 10M rows, ran the driver out of its 1 GB heap.)"""
    table = expr.as_table()
    con._run_pre_execute_hooks(table)  # registers the in-memory tables the query reads
    result = con._session.sql(str(con.compile(table)))
    arrow = result.toArrow() if hasattr(result, "toArrow") else pa.Table.from_batches(result._collect_as_arrow())
    return arrow.cast(table.schema().to_pyarrow())  # Ibis's types (Spark gives its times with a time zone)


def fetch_arrow(con: ibis.BaseBackend, expr: ibis.Table) -> pa.Table:
    """The result of ``expr`` as one Arrow table, fetched in batches: DuckDB then never holds the whole result
    within its memory limit (10M members' features are larger than the default limit)."""
    if con.name == "pyspark":
        return _spark_arrow(con, expr)
    if con.name != "duckdb":
        return con.to_pyarrow(expr)
    return arrow_batches(con, expr, _FETCH_ROWS).read_all().cast(expr.as_table().schema().to_pyarrow())


def refuse_member_ids_written_otherwise(
    con: ibis.BaseBackend, ids: ibis.Table, known: ibis.Table, theirs: str, ours: str
) -> None:
    """Refuse the member ids of ``ids`` (the table ``theirs``) that ``known`` (the table ``ours``) lacks but holds
    written another way (``1`` and ``0000001``, ``a007`` and ``A007``: an id column saved as a number somewhere
    on its way): the join would make the same people two, each half without the other's history. Matched in the
    engine on the ids without case and leading zeros, then checked as ``ids_written_otherwise`` checks them."""
    from .data.parse import refuse_ids_written_otherwise

    if not (ids.member_id.type().is_string() and known.member_id.type().is_string()):
        return  # a table without rows (its ids of no type) has no id written otherwise
    strangers = ids.select("member_id").distinct().anti_join(known.select("member_id"), "member_id")
    strangers = strangers.mutate(plain=_plain_id(strangers.member_id))
    known = known.select("member_id").distinct()
    candidates = known.select(ours=known.member_id, plain=_plain_id(known.member_id))
    pairs = strangers.join(candidates, "plain").select(theirs=strangers.member_id, ours=candidates.ours)
    found = fetch_arrow(con, pairs.order_by("theirs", "ours").limit(_ALIKE_SHOWN)).to_pandas()
    refuse_ids_written_otherwise(found["theirs"], found["ours"], theirs, ours, more=len(found) == _ALIKE_SHOWN)


def _plain_id(ids: ibis.StringColumn) -> ibis.StringColumn:
    return ids.lower().re_replace("^0+", "")


def member_ranges(con: ibis.BaseBackend, transactions: ibis.Table) -> list[tuple[Any, Any]]:
    """Ranges of member ids (``lo <= member_id < hi``; None: open), in member order, each holding about
    ``_RANGE_ROWS`` of the transactions' rows, for queries that group by member.

    Grouping 107M rows (10M households) by member in one DuckDB query needs more memory than 8 GB; a range
    at a time needs what a million households need. On Spark the ranges bound what the driver collects at
    once (the purchase occasions of 1M households in one result ran its 1 GB heap out). A single open range
    when the rows fit in one.
    """
    ranges = math.ceil(int(con.execute(transactions.count())) / _RANGE_ROWS)
    if ranges <= 1:
        return [(None, None)]
    ids = fetch_arrow(con, transactions.select("member_id").distinct().order_by("member_id")).column("member_id")
    bounds = [ids[len(ids) * k // ranges].as_py() for k in range(1, ranges)]
    return list(zip([None, *bounds], [*bounds, None]))


def write_by_member(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to Parquet with its rows in member order (each member's rows in the order they came).

    A query run a range of members at a time (``member_ranges``) then reads only the row groups of its range,
    which DuckDB finds from their statistics, instead of the whole file: on 10M households the file would
    otherwise be read once per range, 13 times per query."""
    import pyarrow.compute as pc

    from .data.sources import plain_text

    table = table.unify_dictionaries()
    member = table.column("member_id")
    encoded = pa.types.is_dictionary(member.type)
    if encoded:
        dictionary = member.chunk(0).dictionary if member.num_chunks else pa.array([], member.type.value_type)
        # equal entries share a rank (a dictionary may repeat a value); a missing id sorts last
        rank = np.append(pc.rank(dictionary, tiebreaker="dense").to_numpy(), len(dictionary) + 1)
        rank = rank.astype(np.int32 if len(rank) < np.iinfo(np.int32).max else np.int64)  # 4 bytes a row, not 8
        codes = [chunk.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False) for chunk in member.chunks]
        order = np.argsort(rank[np.concatenate(codes)] if codes else rank[:0], kind="stable")
    else:
        order = pc.sort_indices(member).to_numpy()  # stable
    # Member ids are written decoded: Parquet stores a column's dictionary in every row group, and the ids'
    # dictionary (one entry per member, 10M of them) would be written a hundred times.
    where = table.schema.get_field_index("member_id")
    decoded = member.type.value_type if encoded else member.type
    # Dates in microseconds, not pandas' nanoseconds: Spark 4 refuses to read nanoseconds (the contract's dates
    # are days, so nothing is lost, and the writer refuses rather than truncates).
    schema = table.schema.set(where, pa.field("member_id", decoded))
    with pq.ParquetWriter(path, schema, coerce_timestamps="us") as writer:
        for start in range(0, len(order), _FETCH_ROWS):
            at = order[start : start + _FETCH_ROWS]
            columns = [_take_by_chunk(column, at) for column in table.columns]
            columns[where] = plain_text(columns[where])
            writer.write_table(pa.table(columns, schema=schema))
    return Path(path)


def _take_by_chunk(column: pa.ChunkedArray, at: np.ndarray) -> pa.Array:
    """``column.take(at)``, a chunk at a time: Arrow's take first joins the chunks into one, for every block of
    rows taken (1.8 GB of order ids on 10M households, a hundred times)."""
    if column.num_chunks == 1:
        return column.chunk(0).take(at)
    at = at.astype(np.int64, copy=False)  # Arrow's sort gives uint64, which less an offset would be floats
    order = np.argsort(at, kind="stable")
    ordered = at[order]
    ends = np.cumsum([len(chunk) for chunk in column.chunks])
    cuts = np.searchsorted(ordered, ends)  # where each chunk's rows end among those taken
    pieces = [
        chunk.take(ordered[first:last] - (end - len(chunk)))
        for chunk, end, first, last in zip(column.chunks, ends, np.r_[0, cuts[:-1]], cuts)
        if last > first
    ]
    return pa.concat_arrays(pieces).take(np.argsort(order))  # back in the order asked for


def _warn_unless_in_member_order(path: Path) -> None:
    """Warn when a Parquet file of more transactions than one range of members holds is not in row groups by
    member (one row group, or row groups whose member_id spans overlap or have no statistics): each range then
    reads the whole file (on 10M households the gaps took 119 s instead of 75 s)."""

    try:
        metadata = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException):
        return  # the engine's own error about the file follows
    if metadata.num_rows <= _RANGE_ROWS or "member_id" not in metadata.schema.names:
        return
    where = metadata.schema.names.index("member_id")
    spans = [metadata.row_group(k).column(where).statistics for k in range(metadata.num_row_groups)]
    if (
        len(spans) > 1
        and all(span is not None and span.has_min_max for span in spans)
        and all(before.max <= after.min for before, after in itertools.pairwise(sorted(spans, key=lambda s: s.min)))
    ):
        return
    warnings.warn(
        f"{path.name} ({metadata.num_rows:,} rows) is not in row groups by member, so each range of members reads "
        f"the whole file; sort it by member_id once, e.g. in DuckDB: COPY (FROM '{path}' ORDER BY member_id) TO "
        "'sorted.parquet'",
        stacklevel=2,  # one place: shown once per file
    )


def in_range(table: ibis.Table | None, lo: Any, hi: Any) -> ibis.Table | None:
    """The rows of ``table`` whose member id is in a range of ``member_ranges`` (``lo <= member_id < hi``)."""
    if table is not None and lo is not None:
        table = table.filter(table.member_id >= lo)
    if table is not None and hi is not None:
        table = table.filter(table.member_id < hi)
    return table


def batches_by_member(
    con: ibis.BaseBackend,
    query: Callable[..., ibis.Table],
    transactions: ibis.Table,
    *others: ibis.Table | None,
    rows: int = _FETCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """The result of ``query(transactions, *others)``, a query grouped (and ordered) by member, run a range of
    members at a time (``member_ranges``; every table filtered to the range) and read as Arrow batches: the
    ranges follow each other in member order, so an ordered query's batches come in its order."""
    for lo, hi in member_ranges(con, transactions):
        part = [in_range(table, lo, hi) for table in (transactions, *others)]
        yield from arrow_batches(con, query(*part), rows)


def fetch_arrow_by_member(
    con: ibis.BaseBackend, query: Callable[..., ibis.Table], transactions: ibis.Table, *others: ibis.Table | None
) -> pa.Table:
    """``fetch_arrow`` of ``query(transactions, *others)``, run a range of members at a time
    (``batches_by_member``)."""
    schema = query(transactions, *others).as_table().schema().to_pyarrow()
    batches = list(batches_by_member(con, query, transactions, *others))
    return (pa.Table.from_batches(batches) if batches else schema.empty_table()).cast(schema)


def text_ids(ids: Any) -> pa.Array:
    """Member ids (a Series, Index or array of strings) as Arrow text; ids that are not all text are refused, bytes
    too (Arrow would read them as text, where pandas matches them with no text id). Ids held as Arrow text are
    used as they are, without a Python string each."""
    text = _held_as_arrow_text(ids)
    if text is None:
        values = np.asarray(ids, dtype=object)
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind not in ("string", "empty"):
            raise ValueError(f"member ids must be text, as segkit.data's loaders give them, not {kind}")
        try:
            text = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid, UnicodeEncodeError) as error:  # a lone surrogate is not text
            raise ValueError(f"member ids must be text, as segkit.data's loaders give them: {error}") from error
    if text.null_count:
        raise ValueError(f"member ids must be text, as segkit.data's loaders give them: {text.null_count:,} missing")
    return text


def _held_as_arrow_text(ids: Any) -> pa.Array | None:
    """``ids`` (a Series or Index) as the Arrow text they are held in, or None where they are held otherwise."""
    from .data.sources import is_text_type

    if not isinstance(getattr(ids, "dtype", None), (pd.ArrowDtype, pd.StringDtype)):
        return None
    held = pa.array(ids.array)
    if not is_text_type(held.type):
        return None
    held = held.combine_chunks() if isinstance(held, pa.ChunkedArray) else held
    return held.cast(pa.string())


def positions_in(ids: Any, among: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The position of each of ``ids`` (``text_ids``) in the Arrow text ``among``, -1 where it is not there.
    Looked up in Arrow: a pandas lookup hashed 10M Python strings (0.8 GB more at once, 12 s against 4.5 s)."""
    among = among.cast(pa.string())  # an empty id column comes from the engine typed null
    return pc.index_in(text_ids(ids), value_set=among).fill_null(-1).to_numpy()


def taken(values: np.ndarray, at: np.ndarray, missing: Any) -> np.ndarray:
    """``values[at]``, and ``missing`` where ``at`` is -1 (``positions_in``: not there)."""
    out = np.full(len(at), missing, dtype=values.dtype)
    found = at >= 0
    out[found] = values[at[found]]
    return out


def day_number(day: Any) -> int:
    """The day number of a date (days since 1970-01-01)."""
    return int((parse_day(day) - EPOCH).days)


def epoch_day(dates: ibis.Column) -> ibis.IntegerColumn:
    """The day numbers of a date or timestamp column, in 32 bits."""
    return dates.cast("date").epoch_days().cast("int32")


def days_to_dates(days: pd.Series) -> pd.Series:
    """Day numbers (nullable) to datetime64[ns] dates, missing as NaT."""
    days = pd.to_numeric(days)
    present = days.notna().to_numpy()
    dates = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    dates[present] = days[present].to_numpy(dtype="int64").astype("datetime64[D]")
    return pd.Series(dates, index=days.index)


def exact_sum(values: ibis.NumericColumn, digits: int = 12) -> ibis.FloatingScalar:
    """The sum of ``values`` (finite numbers), each rounded to ``digits`` decimals and added exactly as decimals.

    A sum of floats depends on the order in which the engine's threads add them up, so the same day run twice
    wrote other last digits (on 20,000 households and two threads, 2 to 5 members' features differed). Added as
    decimals, a sum is the same on every run and every engine, and money comes out to the cent (3194.0, not
    3194.000000000001)."""
    import ibis.expr.datatypes as dt

    return values.cast(dt.Decimal(38, digits)).sum().cast("float64")


def rows_up_to(transactions: ibis.Table, as_of: Any) -> ibis.Table:
    """The rows dated up to ``as_of``, with ``day``, their day number."""
    day = epoch_day(transactions.date)
    return transactions.filter(day <= day_number(as_of)).mutate(day=day)
