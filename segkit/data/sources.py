"""Read raw rows from where CRM data lives: CSV, Parquet, DuckDB, SQL databases.

CSV is read as text (every cell a string) so that nothing is reinterpreted
before the contract checks it: ``007`` stays ``007``, a bad date stays visible.
"""
from __future__ import annotations

import codecs
import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .contract import ContractError

_SAMPLE_BYTES = 1 << 20
_SEPARATORS = [",", "\t", ";", "|"]


@dataclass
class RawTable:
    """Rows as read, plus a description of where they came from."""

    frame: pd.DataFrame
    origin: str
    encoding: str | None = None
    bad_lines: list[list[str]] = field(default_factory=list)


def detect_encoding(path: str | Path) -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK), from the bytes.

    UTF-16 exports (Excel's "Unicode text") are recognised by their BOM.
    """
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _detect_separator(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def read_csv_text(path: str | Path, encoding: str = "auto", sep: str = "auto",
                  header: bool = True, names: list[str] | None = None) -> RawTable:
    """Read a delimited text file with every cell as a string."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if encoding == "auto":
        encoding = detect_encoding(path)
    kwargs: dict[str, Any] = dict(dtype=str, keep_default_na=False, na_filter=False)
    if names:
        kwargs.update(names=names, header=None)
    elif not header:
        kwargs.update(header=None)
    if sep == "whitespace":
        kwargs.update(sep=r"\s+")
    else:
        kwargs.update(sep=_detect_separator(path, encoding) if sep == "auto" else sep)
    bad_lines: list[list[str]] = []
    try:
        frame = _read_csv_keeping_bad_lines(path, encoding, kwargs, bad_lines)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise ContractError(f"{path}: cannot decode as {encoding}; set source.encoding in the mapping") from None
        encoding = "gb18030"
        frame = _read_csv_keeping_bad_lines(path, encoding, kwargs, bad_lines)
    if not header and not names:
        frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
    return RawTable(frame, str(path), encoding, bad_lines)


def _read_csv_keeping_bad_lines(path: Path, encoding: str, kwargs: dict, bad_lines: list) -> pd.DataFrame:
    """Fast C parser first; if some lines have too many fields, re-read with the
    Python parser and keep those lines (as lists of fields) for the rejects."""
    try:
        return pd.read_csv(path, encoding=encoding, **kwargs)
    except pd.errors.ParserError:
        pass
    bad_lines.clear()

    def keep(fields: list[str]) -> None:
        bad_lines.append(fields)

    try:
        return pd.read_csv(path, encoding=encoding, engine="python", on_bad_lines=keep, **kwargs)
    except (csv.Error, pd.errors.ParserError) as error:
        raise ContractError(f"{path}: malformed CSV ({error})") from None


def read_source(source: Any, settings: dict[str, Any] | None = None) -> RawTable:
    """Read raw rows from a path, a DataFrame, or a ``settings`` source block.

    ``source`` may be a CSV/TSV/TXT or Parquet path, or a DataFrame. With
    ``source=None`` the ``settings`` (the mapping's ``source:`` block) say
    where to read: ``path``; ``duckdb`` + ``table``; or ``url``/``url_env`` + ``query``.
    """
    settings = dict(settings or {})
    if isinstance(source, pd.DataFrame):
        return RawTable(source.copy(), "<DataFrame>")
    if source is None:
        if "path" in settings:
            source = settings["path"]
        elif "duckdb" in settings:
            return read_duckdb(settings["duckdb"], settings.get("table"), settings.get("query"))
        elif "url" in settings or "url_env" in settings:
            return read_sql(_resolve_url(settings), settings.get("query"), settings.get("table"))
        else:
            raise ContractError("no input given: pass a file path or a mapping with a 'source' block")
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        if not path.exists():
            raise FileNotFoundError(f"input file not found: {path}")
        return RawTable(pd.read_parquet(path), str(path))
    if suffix in {".duckdb", ".db"} and settings.get("table"):
        return read_duckdb(path, settings["table"], settings.get("query"))
    return read_csv_text(
        path,
        encoding=settings.get("encoding", "auto"),
        sep=settings.get("sep", "auto"),
        header=settings.get("header", True),
        names=settings.get("names"),
    )


def read_duckdb(database: str | Path, table: str | None = None, query: str | None = None) -> RawTable:
    """Rows of a DuckDB table (or query) from a database file, opened read-only."""
    import duckdb

    if not Path(database).exists():
        raise FileNotFoundError(f"DuckDB database not found: {database}")
    if not (table or query):
        raise ContractError("a DuckDB source needs 'table' or 'query'")
    with duckdb.connect(str(database), read_only=True) as con:
        relation = con.sql(query) if query else con.table(table)
        frame = relation.df()
    return RawTable(frame, f"duckdb:{database}:{table or 'query'}")


def _resolve_url(settings: dict[str, Any]) -> str:
    if "url_env" in settings:
        name = settings["url_env"]
        url = os.environ.get(name)
        if not url:
            raise ContractError(f"environment variable {name} (source.url_env) is not set")
        return url
    return settings["url"]


def read_sql(url: str, query: str | None = None, table: str | None = None) -> RawTable:
    """Rows from any SQLAlchemy database URL, by query or table name."""
    import sqlalchemy as sa

    if not (table or query):
        raise ContractError("a database source needs 'query' or 'table'")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            if query:
                statement = sa.text(query)
            else:
                statement = sa.select(sa.Table(table, sa.MetaData(), autoload_with=con))
            frame = pd.read_sql(statement, con)
    finally:
        engine.dispose()
    safe_url = sa.engine.make_url(url).render_as_string(hide_password=True)
    return RawTable(frame, f"sql:{safe_url}:{table or 'query'}")
