"""Reading and writing whole tables by file extension, atomically.

Every file segkit writes goes through ``write_table`` or ``atomic_path``: the
data is written to a temporary file beside the target and renamed into place,
so a crash never leaves a half-written file. CSV is UTF-8 with a byte-order
mark so that Excel shows Chinese text correctly.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

TABLE_SUFFIXES = {".csv", ".parquet", ".pq"}


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())   # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as CSV (UTF-8 with BOM) or Parquet, chosen by extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: unsupported output type {suffix!r}; use .csv or .parquet")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
        else:
            frame.to_parquet(tmp, index=False)
    return path


def write_xlsx(frame: pd.DataFrame, path: str | Path, sheet: str, text_columns: tuple[str, ...] = (),
               timestamp: pd.Timestamp | None = None) -> Path:
    """Write ``frame`` as an Excel workbook that opens ready to work in, and is byte-identical when rewritten.

    ``text_columns`` (ids, phones) are stored as text cells, so ``007`` keeps its
    zeros; the header is bold, frozen and filterable. openpyxl (in its fast
    write-only mode) stamps the save time in the workbook properties and the zip
    entries; both are set to ``timestamp`` (default 2000-01-01) so that the same
    table always gives the same bytes.
    """
    import io
    import re
    import zipfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    stamp = pd.Timestamp(timestamp or "2000-01-01").to_pydatetime().replace(tzinfo=None)
    workbook = Workbook(write_only=True)
    sheet_ = workbook.create_sheet(sheet)
    for index, column in enumerate(frame.columns, start=1):
        longest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(500)])
        sheet_.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    sheet_.freeze_panes = "A2"
    sheet_.auto_filter.ref = f"A1:{get_column_letter(max(len(frame.columns), 1))}{len(frame) + 1}"
    header = []
    for column in frame.columns:
        cell = WriteOnlyCell(sheet_, value=str(column))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet_.append(header)
    text = [c in text_columns for c in frame.columns]
    for row in frame.itertuples(index=False):
        sheet_.append([_excel_value(value, as_text) for value, as_text in zip(row, text)])
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)

    path = Path(path)
    stamp_text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with atomic_path(path) as tmp, zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp_text, data)
            entry = zipfile.ZipInfo(item.filename, date_time=(max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return path


def _excel_value(value, as_text: bool):
    """A cell value: text columns as strings, missing values as empty cells, dates as dates."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if as_text:
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item"):      # numpy scalars
        return value.item()
    return value
