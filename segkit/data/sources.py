"""Read raw rows from where CRM data lives: CSV, Parquet, DuckDB, SQL databases.

CSV is read as text (every cell a string) so that nothing is reinterpreted
before the contract checks it: ``007`` stays ``007``, a bad date stays visible.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .contract import ContractError
from .records import WHITESPACE, Damage, Records, split_records

_SAMPLE_BYTES = 1 << 20
_SEPARATORS = [",", "\t", ";", "|"]
_EXCEL_SEPARATOR = re.compile(rb"sep=([,;\t|])[ \t]*\n")


@dataclass
class RawTable:
    """Rows as read, plus where they came from; for text files also the line each row starts on and the lines
    that hold no usable record (``records.Damage``)."""

    frame: pd.DataFrame
    origin: str
    encoding: str | None = None
    damaged: list[Damage] = field(default_factory=list)
    lines: np.ndarray | None = None
    sep: str | None = None          # of a text file: its separator (None: runs of whitespace)

    def damaged_fields(self, damage: Damage) -> list[str]:
        """The fields of a damaged line, read leniently (quotes as a spreadsheet would take them): enough to
        tell whose line it was, never to use its values."""
        if self.sep is None:
            return damage.text.split()
        return next(csv.reader([damage.text], delimiter=self.sep), [])


def clean_column_names(columns) -> list[str]:
    """Header names as the loader compares them: no byte-order mark, no surrounding spaces."""
    return [str(column).replace("\ufeff", "").strip() for column in columns]


def read_csv_text(path: str | Path, encoding: str = "auto", sep: str = "auto",
                  header: bool = True, names: list[str] | None = None) -> RawTable:
    """Read a delimited text file with every cell as a string, and every line accounted for.

    The records are found from the lines themselves (``records.split_records``) before pandas parses them;
    lines that hold no usable record come back in ``damaged``, each with a reason.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if not path.is_file():
        raise ContractError(f"{path} is not a file")
    data, encoding = _as_utf8(path.read_bytes(), encoding, path)
    if b"\r" in data:     # lines end in CRLF (a CR alone inside a line is then damage), or in CR alone (old Macs)
        data = data.replace(b"\r\n", b"\n") if b"\n" in data else data.replace(b"\r", b"\n")
    declared = _EXCEL_SEPARATOR.match(data)
    if declared:          # Excel's "sep=;" first line: the separator, not a record (blanked, so lines keep their numbers)
        sep = declared.group(1).decode() if sep == "auto" else sep
        data = b"\n" + data[declared.end():]
    if sep == "auto":
        sep = _detect_separator(data)
    separator = WHITESPACE if sep == "whitespace" else sep
    if separator is not WHITESPACE and (not isinstance(sep, str) or len(sep) != 1 or sep in '"\n'):
        raise ContractError(f"{path}: source.sep must be one character (or auto, whitespace), got {sep!r}")
    records = split_records(data, separator, str(path), header=header and not names, names=names)
    if records.header is not None:
        # Excel leaves unnamed columns after the last one ("a,b,,"): they are column_N, not a name used twice
        records.header = [name or f"column_{i + 1}" for i, name in enumerate(clean_column_names(records.header))]
        doubled = sorted({name for name in records.header if records.header.count(name) > 1})
        if doubled:
            raise ContractError(f"{path}: the header names {', '.join(map(repr, doubled))} more than once")
    frame = _parse_records(records, separator, names, str(path))
    if len(frame) != len(records.lines) or frame.shape[1] != records.columns:
        raise ContractError(f"{path}: the CSV parser read {len(frame):,} records of {frame.shape[1]} fields where the "
                            f"file has {len(records.lines):,} of {records.columns}; the file is refused")
    if records.header is not None:
        frame.columns = records.header
    elif not names:
        frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
    return RawTable(frame, str(path), encoding, records.damaged, records.lines, separator)


def _as_utf8(raw: bytes, encoding: str, path: Path) -> tuple[bytes, str]:
    """The file as UTF-8 bytes without a byte-order mark, and the encoding it was read in.

    ``auto``: a byte-order mark names UTF-8 or UTF-16 (Excel's "Unicode text"); otherwise UTF-8 if the whole
    file is UTF-8, else GB18030 (a superset of GBK) when what came before the first non-UTF-8 byte was plain
    ASCII (a file that is UTF-8 first and something else later mixes encodings and is refused). An encoding
    named in the mapping is used as given. Bytes that do not fit refuse the file, naming the line.
    """
    if encoding == "auto":
        if raw.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            try:
                raw.decode("utf-8")
                return raw, "utf-8"
            except UnicodeDecodeError as error:
                if not raw[:error.start].isascii():
                    line = raw[:error.start].count(b"\n") + 1
                    raise ContractError(f"{path}: line {line}: the file mixes "
                                        "encodings (UTF-8 before this line, something else here); export it "
                                        "again in one encoding") from None
            encoding = "gb18030"
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ContractError(f"{path}: unknown encoding {encoding!r} (source.encoding)") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ContractError(f"{path}: line {line}: bytes {raw[error.start:error.start + 4]!r} are not {encoding}; "
                            "set source.encoding in the mapping") from None
    if codec == "utf-8" and not raw.startswith(codecs.BOM_UTF8):
        return raw, encoding
    return text.lstrip("\ufeff").encode("utf-8"), encoding


def _detect_separator(data: bytes) -> str:
    """The candidate separator that occurs most often in the first non-blank line (``,`` if none does)."""
    first = next((line for line in data[:_SAMPLE_BYTES].split(b"\n") if line.strip()), b"").decode("utf-8", "replace")
    counts = {sep: first.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _parse_records(records: Records, separator: str | None, names: list[str] | None, origin: str) -> pd.DataFrame:
    kwargs: dict[str, Any] = dict(dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    if separator is WHITESPACE:
        kwargs.update(sep=r"\s+", quoting=csv.QUOTE_NONE)
    else:
        kwargs.update(sep=separator)
    if names:
        kwargs.update(names=names, header=None)
    elif records.header is None:
        kwargs.update(header=None)
    try:
        return pd.read_csv(io.BytesIO(records.body), **kwargs)
    except pd.errors.EmptyDataError:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in (names or records.header or [])})
    except (csv.Error, pd.errors.ParserError) as error:
        raise ContractError(f"{origin}: malformed CSV ({' '.join(str(error).split())})") from None


def read_source(source: Any, settings: dict[str, Any] | None = None, keep_damaged: bool = False) -> RawTable:
    """Read raw rows from a path, a DataFrame, or a ``settings`` source block.

    ``source`` may be a CSV/TSV/TXT or Parquet path, or a DataFrame. With
    ``source=None`` the ``settings`` (the mapping's ``source:`` block) say
    where to read: ``path``; ``duckdb`` + ``table``; or ``url``/``url_env`` + ``query``.

    A text file with lines that hold no usable record is refused, naming them, unless ``keep_damaged``
    (the loader, which turns them into rejects): a file of alerts or outcomes read without its damaged
    lines would silently drop the calls or outcomes on them.
    """
    raw = _read_source(source, settings)
    if raw.damaged and not keep_damaged:
        shown = "; ".join(f"line {d.line}: {d.reason}" for d in raw.damaged[:5])
        more = f"; and {len(raw.damaged) - 5:,} more" if len(raw.damaged) > 5 else ""
        raise ContractError(f"{raw.origin}: {len(raw.damaged):,} line(s) hold no usable record ({shown}{more}); "
                            "nothing was read: fix the file")
    return raw


def _read_source(source: Any, settings: dict[str, Any] | None) -> RawTable:
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
        try:
            return RawTable(pd.read_parquet(path), str(path))
        except (pa.ArrowException, OSError) as error:
            raise ContractError(f"{path}: not a readable Parquet file ({' '.join(str(error).split())})") from None
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
