"""Reading and writing whole tables by file extension, atomically.

Every file segkit writes goes through ``write_table`` or ``atomic_path``: the
data is written to a temporary file beside the target and renamed into place,
so a crash never leaves a half-written file. CSV is UTF-8 with a byte-order
mark so that Excel shows Chinese text correctly.

What segkit writes is opened in spreadsheets, and much of it (names, notes)
was typed by strangers: no text is ever written so that a spreadsheet runs it
as a formula (``safe_csv_text`` for CSV, string cells in XLSX), and no text
breaks a CSV row in two.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .progress import BIG, progress

TABLE_SUFFIXES = {".csv", ".parquet", ".pq"}
# OWASP CSV injection: a cell starting with one of these is a formula (or becomes one) in Excel and LibreOffice.
FORMULA_START = r"^[=+\-@\t\r]"
# ... unless it is plainly a number (-12.5, +3e4) or an international phone number (+8613812345678, +86 138 1234 5678,
# +86 (139) 1234-5613: digits, spaces, dots, dashes and brackets make no formula that can reach anything)
PLAIN_DATA = r"^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\+[\d ().\-]*[\d)])$"
LONE_CR = r"\r(?!\n)"  # a carriage return that does not start a CRLF
LONE_CR_RE2 = r"\r(?:[^\n]|$)"  # the same for Arrow's RE2, which has no look-ahead
_CHECK_ROWS = 1 << 20  # values checked at once by safe_csv_text
_CSV_ROWS = 1 << 16  # rows formatted and written at once by _write_csv
# What Python's csv module (pandas' writer) quotes: the separator, the quote and the line terminator's characters.
_CSV_NEEDS_QUOTES = "[" + re.escape(',"' + os.linesep) + "]"
# Files that desktops and Excel leave in a folder someone looked at: replaced along with the folder.
DESKTOP_LITTER = r"\.DS_Store|Thumbs\.db|desktop\.ini|~\$.*|\._.*"
# held while the files of one result are put in place (Ctrl-C, kill, a closed terminal); Windows has neither
# SIGHUP nor a signal mask
STOPPING_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success."""
    with atomic_paths([path]) as (tmp_path,):
        yield tmp_path


@contextmanager
def atomic_paths(paths: list[str | Path]) -> Iterator[list[Path]]:
    """Yield a temporary path beside each of ``paths``; once all are written, rename them over ``paths`` one
    after the other with the stopping signals held, so that a failure, Ctrl-C or ``kill`` while writing
    leaves every file as it was: never today's alerts beside yesterday's member rhythms."""
    paths = [Path(path) for path in paths]
    tmp_paths: list[Path] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(handle)
            tmp_paths.append(Path(tmp))
        yield tmp_paths
        for tmp_path in tmp_paths:
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with _signals_held():
            for tmp_path, path in zip(tmp_paths, paths):
                os.replace(tmp_path, path)
    finally:
        for tmp_path in tmp_paths:
            tmp_path.unlink(missing_ok=True)


class FolderReplacement:
    """A folder replaced whole, in steps that a caller interleaves with its own commit.

    The new content is written into ``new`` (a fresh folder beside ``path``); ``swap()`` renames the
    current folder aside and ``new`` into its place; then either ``finish()`` (delete the previous
    folder) or ``undo()`` (put the previous folder back, as if nothing happened). The folder belongs to
    its writer: one that holds anything but ``owned`` names (and ``DESKTOP_LITTER``, such as the lock file
    Excel leaves while a list is open) is refused, so that a replacement never takes away files it did not write.
    Left-overs of a replacement that crashed (``.NAME.new-*``,
    ``.NAME.old-*``) are removed by the next one, after putting back a folder that a crash left missing.
    Two replacements of one folder must not run at once (the export holds the ledger's lock).
    """

    def __init__(self, path: str | Path, owned: tuple[str, ...]):
        self.path = Path(path)
        self.old: Path | None = None
        self.swapped = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clean_up_after_crashes()
        if self.path.exists():
            if not self.path.is_dir():
                raise ValueError(f"{self.path} is a file; the output must be a folder")
            foreign = sorted(
                p.name for p in self.path.iterdir() if p.name not in owned and not re.fullmatch(DESKTOP_LITTER, p.name)
            )
            if foreign:
                raise ValueError(
                    f"{self.path} holds files this output does not own ({', '.join(foreign[:5])}"
                    f"{', ...' if len(foreign) > 5 else ''}): give it a folder of its own"
                )
        self.new = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.new-", dir=self.path.parent))
        os.chmod(self.new, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual permissions

    def swap(self) -> None:
        """The previous folder aside, the new one in its place: two renames, the folder missing in between."""
        if self.path.exists():
            self.old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
            os.rename(self.path, self.old)
        os.rename(self.new, self.path)
        self.swapped = True

    def undo(self) -> None:
        """Back to the folder as it was before this replacement."""
        if self.swapped:
            shutil.rmtree(self.path)
        else:
            shutil.rmtree(self.new, ignore_errors=True)
        if self.old is not None:
            os.rename(self.old, self.path)
            self.old = None

    def finish(self) -> None:
        if self.old is not None:
            shutil.rmtree(self.old)

    def _clean_up_after_crashes(self) -> None:
        prefix = f".{glob.escape(self.path.name)}"
        stale_old = sorted(self.path.parent.glob(f"{prefix}.old-*"), key=lambda p: p.stat().st_mtime)
        if stale_old and not self.path.exists():
            os.rename(stale_old.pop(), self.path)
        for stale in [*self.path.parent.glob(f"{prefix}.new-*"), *stale_old]:
            shutil.rmtree(stale)


@contextmanager
def _signals_held() -> Iterator[None]:
    """``STOPPING_SIGNALS`` wait until the block ends: caught while it runs, then sent again to the handlers they
    had. (Blocking them, ``pthread_sigmask``, holds them for one thread only: a process with another thread, such
    as a progress bar's monitor, took them in that thread and stopped mid-rename.) Outside the main thread, where
    Python cannot set handlers, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    handlers = {
        number: signal.signal(number, lambda number, frame: caught.append(number)) for number in STOPPING_SIGNALS
    }
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
        for number in dict.fromkeys(caught):
            signal.raise_signal(number)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


OUTPUTS_LIST = "outputs.txt"  # the files of the last run into a folder, one path (relative to it) a line


def record_outputs(folder: str | Path, paths: list[str | Path]) -> list[Path]:
    """List in ``folder/outputs.txt`` the files a run (a notebook) wrote into ``folder``, and remove those the
    list of the run before named that this run did not write, so that a folder run into twice holds one run's
    files: a run without members leaves no ``members_rejects.csv`` of one with them, a run with fewer charts
    none of the others. Files that no run listed are never touched.

    Parameters
    ----------
    folder : str or Path
        The run's output folder.
    paths : list of str or Path
        The files the run wrote; those outside ``folder`` are returned but not listed.

    Returns
    -------
    list of Path
        ``paths``, then ``outputs.txt``.

    Raises
    ------
    OSError
        The folder cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from segkit import record_outputs
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("alerts.csv", "members_rejects.csv"):
    ...     _ = (folder / name).write_text("member_id")
    >>> _ = record_outputs(folder, [folder / "alerts.csv", folder / "members_rejects.csv"])
    >>> [path.name for path in record_outputs(folder, [folder / "alerts.csv"])]  # a run without members
    ['alerts.csv', 'outputs.txt']
    >>> sorted(path.name for path in folder.iterdir())
    ['alerts.csv', 'outputs.txt']
    """
    folder, paths = Path(folder), [Path(path) for path in paths]
    root = folder.resolve()
    resolved = [path.resolve() for path in paths]
    names = sorted({path.relative_to(root).as_posix() for path in resolved if path.is_relative_to(root)})
    listed = folder / OUTPUTS_LIST
    before = listed.read_text(encoding="utf-8").splitlines() if listed.is_file() else []
    for name in sorted(set(before) - set(names)):
        earlier = root / name  # removed as named (a link, not what it points to), never outside the folder
        if name and earlier.parent.resolve().is_relative_to(root) and (earlier.is_file() or earlier.is_symlink()):
            earlier.unlink()
    with atomic_path(listed) as temporary:
        temporary.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return [*paths, listed]


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as CSV (UTF-8 with BOM) or Parquet, chosen by extension.

    CSV text values that a spreadsheet would run as a formula, or that would break a row, are made safe
    (``safe_csv_text``); Parquet keeps every value as it is (no spreadsheet opens it).
    """
    return write_tables({Path(path): frame})[0]


def write_tables(
    tables: dict[Path, pd.DataFrame], on_written: Callable[[pd.DataFrame], None] | None = None
) -> list[Path]:
    """Write each frame to its path as ``write_table`` does, all or none (``atomic_paths``): the files of one
    result are read together. ``on_written``: called with each frame once written (a progress bar)."""
    paths = list(tables)
    for path in paths:
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise ValueError(f"{path}: unsupported output type {path.suffix.lower()!r}; use .csv or .parquet")
    with atomic_paths(paths) as tmp_paths:
        for path, tmp in zip(paths, tmp_paths):
            frame = tables[path]
            if path.suffix.lower() == ".csv":
                safe = frame.copy(deep=False)
                for column in range(safe.shape[1]):
                    safe.isetitem(column, safe_csv_text(safe.iloc[:, column]))
                _write_csv(safe, tmp, path.name)
            else:
                pq.write_table(_typed_text(pa.Table.from_pandas(frame, preserve_index=False)), tmp)
            if on_written is not None:
                on_written(frame)
    return paths


def _typed_text(table: pa.Table) -> pa.Table:
    """Columns of no value typed as text: pandas gives a text column without a value (a header-only export, no
    alert today) Arrow's null type, which readers cannot compare with the text the same column holds on other
    days."""
    for position, column in enumerate(table.schema):
        if pa.types.is_null(column.type):
            table = table.set_column(position, column.name, table.column(position).cast(pa.string()))
    return table


def _write_csv(frame: pd.DataFrame, path: Path, name: str) -> None:
    """``frame`` as pandas' ``to_csv`` writes it (UTF-8 with BOM, dates as YYYY-MM-DD, missing values empty,
    quotes only where Python's csv module puts them), byte for byte, with each column formatted, quoted and
    joined in Arrow a slice of rows at a time. pandas hands every cell to the csv module: 94 s for
    the 160M cells of features.csv on 10M households. A frame with a column that Arrow does not format the way
    pandas does (numbers among text, times with a time zone, durations ...) or labels that are not text is
    written by pandas, and so is one with text that is not UTF-8 (pandas says what is wrong with it). A bar
    named ``name`` shows the rows written on a terminal, from a million rows."""
    columns = _csv_columns(frame)
    if columns is not None:
        try:
            return _write_csv_in_arrow(frame, columns, path, name)
        except (pa.ArrowException, UnicodeError):
            pass
    frame.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")


def _write_csv_in_arrow(frame: pd.DataFrame, columns: list[Callable], path: Path, name: str) -> None:
    """The header by the csv module, then the rows a slice at a time, each column made text by ``columns``."""
    header = io.StringIO()
    csv.writer(header, lineterminator=os.linesep).writerow(frame.columns)
    alone = frame.shape[1] == 1
    with open(path, "wb") as handle, progress(f"writing {name}", len(frame), "rows", len(frame) >= BIG) as bar:
        handle.write(codecs.BOM_UTF8 + header.getvalue().encode("utf-8"))
        for start in range(0, len(frame), _CSV_ROWS):
            part = frame.iloc[start : start + _CSV_ROWS]
            texts = [_csv_quoted(_one_array(text(part.iloc[:, i])), alone) for i, text in enumerate(columns)]
            rows = pc.binary_join_element_wise(pc.binary_join_element_wise(*texts, ","), "", os.linesep)
            handle.write(_joined_bytes(rows))
            bar.update(len(part))


def _csv_columns(frame: pd.DataFrame) -> list[Callable[[pd.Series], pa.Array]] | None:
    """For each column, what makes a slice of it the text pandas writes (missing: empty), or None when some
    column or label is not one Arrow formats as pandas does. Categoricals are not among them: ``safe_csv_text``
    has made them text."""
    labels = frame.columns  # all text: a missing one is written empty by pandas, "nan" by the csv module
    if isinstance(labels, pd.MultiIndex) or pd.api.types.infer_dtype(labels) != "string" or labels.isna().any():
        return None
    columns = [_csv_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return None if any(column is None for column in columns) else columns


def _csv_text(values: pd.Series) -> Callable[[pd.Series], pa.Array] | None:
    """What makes a slice of ``values`` the text pandas' ``to_csv`` writes for it, or None."""
    dtype = values.dtype
    text_in_arrow = isinstance(dtype, pd.ArrowDtype) and dtype.pyarrow_dtype in (pa.string(), pa.large_string())
    if isinstance(dtype, pd.StringDtype) or text_in_arrow:
        return lambda part: _as_text(part.array)
    if isinstance(values.array, pd.arrays.IntegerArray):
        return lambda part: pa.array(part.array).cast(pa.string()).fill_null("")
    if isinstance(values.array, pd.arrays.BooleanArray):
        return lambda part: pc.if_else(pa.array(part.array), "True", "False").fill_null("")
    if isinstance(values.array, pd.arrays.FloatingArray):  # NaN that is not NA is written "nan", as by pandas
        return lambda part: _float_text(part.array.to_numpy(dtype.numpy_dtype, na_value=np.nan), part.isna())
    if not isinstance(dtype, np.dtype):
        return None
    if dtype.kind == "f":
        return lambda part: _float_text(part.to_numpy(), part.isna())
    if dtype.kind in "iu":
        return lambda part: pa.array(part.to_numpy()).cast(pa.string())
    if dtype.kind == "b":
        return lambda part: pc.if_else(pa.array(part.to_numpy()), "True", "False")
    if dtype.kind == "M":
        return _date_text
    if dtype.kind == "O" and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return lambda part: _as_text(part.to_numpy())
    return None


def _float_text(values: np.ndarray, missing: pd.Series) -> pa.Array:
    """Floats as pandas writes them, missing ones empty: numpy's text of each, with ``repr``'s digits and layout
    (``1.0``, ``0.25``, ``1e-05``, ``1e+16``). Arrow writes the same shortest digits, 4-6 times faster than
    numpy's text made Arrow text, but in its own layout (``1``, ``1e+15``, ``0.00001``). Its text is kept where
    the two agree, positional between 1e-4 and 1e16, with ``.0`` after whole numbers, and numpy writes the
    others (float32 and float16 all of them)."""
    missing = missing.to_numpy()
    if values.dtype != np.float64:
        return pc.if_else(missing, "", _numpy_text(values))
    text = pa.array(values).cast(pa.string())
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        positional = (values == 0) | (magnitude >= 1e-4) & (magnitude < 1e16)
    positional &= ~pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    whole = positional & ~pc.match_substring(text, ".").to_numpy(zero_copy_only=False)
    text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    others = ~positional & ~missing
    if others.any():
        text = pc.replace_with_mask(text, others, _numpy_text(values[others]))
    return pc.if_else(missing, "", text)


def _numpy_text(values: np.ndarray) -> pa.Array:
    """numpy's text of each value (Arrow gives numpy's text of many values in chunks: they are joined)."""
    return _one_array(pa.array(values.astype(str), type=pa.string()))


def _one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` in one array (text read a block at a time comes in chunks)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _date_text(dates: pd.Series) -> pa.Array:
    """Dates as pandas writes them with ``date_format="%Y-%m-%d"``, missing ones empty: by Arrow for years of four
    digits (pandas writes the year 5 as ``5``), else by pandas."""
    stamps = pa.array(dates)
    years = pc.min_max(pc.year(stamps))
    if years["min"].is_valid and (years["min"].as_py() < 1000 or years["max"].as_py() > 9999):
        return _as_text(dates.dt.strftime("%Y-%m-%d").to_numpy())
    return stamps.cast(pa.date32(), safe=False).cast(pa.string()).fill_null("")  # strftime: 4 times slower


def _as_text(values) -> pa.Array:
    """Text values as Arrow text, missing ones (None, NaN, NA) empty."""
    return pa.array(values, type=pa.string(), from_pandas=True).fill_null("")


def _csv_quoted(text: pa.Array, alone: bool) -> pa.Array:
    """``text`` quoted where Python's csv module quotes it (``alone``: an empty value that is a row's only one)."""
    needs = pc.match_substring_regex(text, _CSV_NEEDS_QUOTES)
    if alone:
        needs = pc.or_(needs, pc.equal(text, ""))
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _joined_bytes(text: pa.Array) -> pa.Buffer:
    """All of ``text``'s values one after another, as they lie in its data buffer."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    return text.buffers()[2][offsets[0] : offsets[-1]] if len(text) else pa.py_buffer(b"")


def safe_csv_text(values: pd.Series) -> pd.Series:
    """Text values made safe to open in a spreadsheet: formulas neutralised (OWASP CSV injection), rows kept whole.

    A text value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe: ``=HYPERLINK(...)`` is written as ``'=HYPERLINK(...)``, ``@SUM(A1)`` as ``'@SUM(A1)``.
    A plain number or phone number is data, not a formula, and is left as it is: ``-12.5``, ``+3e4``,
    ``+8613812345678``, ``+86 138 1234 5678`` and ``+86 (139) 1234-5613`` are written unchanged (a dialer reads
    them). A carriage return not followed
    by a line feed becomes a line feed: the CSV writer quotes a value with a line feed, but not one with
    a lone carriage return, which spreadsheets read as the end of the row (``张三\r13900000000`` would
    add a row). Other values (numbers, dates, missing values) are never touched. Returns ``values``
    itself when nothing needs changing.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return values
    # only text is checked (bytes are written as b'...'), the same way in every slice of the column
    only_text = pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    # checked a slice at a time: the whole column as Arrow text was half a gigabyte of rfm.csv's actions on 10M
    formula, lone_cr = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    for start in range(0, len(values), _CHECK_ROWS):
        part = values.iloc[start : start + _CHECK_ROWS]
        if only_text:
            text = pa.array(part, type=pa.string(), from_pandas=True)
        else:  # text mixed with other values: check the text only
            text = pa.array([v if isinstance(v, str) else None for v in part], type=pa.string())
        plain = pc.match_substring_regex(text, PLAIN_DATA)
        starts = pc.and_(pc.match_substring_regex(text, FORMULA_START), pc.invert(plain))
        formula[start : start + len(part)] = starts.fill_null(False).to_numpy(zero_copy_only=False)
        cr = pc.match_substring_regex(text, LONE_CR_RE2)
        lone_cr[start : start + len(part)] = cr.fill_null(False).to_numpy(zero_copy_only=False)
    if not (formula.any() or lone_cr.any()):
        return values
    values = values.copy()
    values[formula] = ("'" + values[formula].astype(str)).to_numpy()
    values[lone_cr] = values[lone_cr].astype(str).str.replace(LONE_CR, "\n", regex=True).to_numpy()
    return values


@dataclass
class XlsxSheet:
    """One worksheet: ``frame`` under a bold, frozen, filterable header (repeated on every printed page,
    which is landscape and one page wide), after ``preface`` lines (a title, instructions). ``text_columns``
    (ids, phones) are text cells, so ``007`` keeps its zeros; ``choices`` gives a column a drop-down list of
    valid values (Excel data validation, blank allowed, anything else refused); ``widths`` sets a column's
    width (characters), and its text wraps within it rather than being cut off; ``formats`` a column's
    number format (``#,##0.00``)."""

    title: str
    frame: pd.DataFrame
    text_columns: tuple[str, ...] = ()
    choices: dict[str, list[str]] = field(default_factory=dict)
    preface: tuple[str, ...] = ()
    widths: dict[str, float] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    editable: tuple[str, ...] = ()  # columns the reader fills in: the only unlocked cells of a protected sheet


def write_xlsx(sheets: list[XlsxSheet], path: str | Path, timestamp: pd.Timestamp | None = None) -> Path:
    """Write ``sheets`` as an Excel workbook that opens ready to work in, and is byte-identical when rewritten.

    Every text cell is typed as a string, never a formula: ``=HYPERLINK(...)`` in
    a name shows as that text and runs nothing. Control characters that XLSX
    cannot hold are written as U+FFFD. Dates are date cells. A sheet with ``editable``
    columns is protected without a password: only those columns' cells can be changed, rows can be
    filtered but not sorted (a sort of some columns alone would move what was filled in to other rows).
    openpyxl (in its fast write-only mode) stamps the save time in the workbook properties and the zip
    entries; both are set to ``timestamp`` (default 2000-01-01) so that the same
    tables always give the same bytes.
    """
    import io
    import zipfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    def text_cell(sheet, text: str, **style) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
        cell.data_type = "s"
        for name, value in style.items():
            setattr(cell, name, value)
        return cell

    def as_cell(sheet, value):
        """Text that openpyxl would store as a formula (``=...``) or an error (``#N/A``), or cannot store
        (control characters), as a string cell; everything else as it is (openpyxl makes text a string)."""
        if isinstance(value, str) and (value[:1] == "=" or value in ERROR_CODES or ILLEGAL_CHARACTERS_RE.search(value)):
            return text_cell(sheet, value)
        return value

    stamp = pd.Timestamp(timestamp or "2000-01-01").to_pydatetime().replace(tzinfo=None)
    workbook = Workbook(write_only=True)
    for spec in sheets:
        sheet, frame = workbook.create_sheet(spec.title), spec.frame
        header_row = len(spec.preface) + 1
        for index, column in enumerate(frame.columns, start=1):
            longest = max([_display_width(column)] + [_display_width(v) for v in frame[column].head(500)])
            width = spec.widths.get(column, min(60, max(8, longest + 2)))
            sheet.column_dimensions[get_column_letter(index)].width = width
        last_column = get_column_letter(max(len(frame.columns), 1))
        sheet.freeze_panes = f"A{header_row + 1}"
        sheet.auto_filter.ref = f"A{header_row}:{last_column}{header_row + len(frame)}"
        for column, values in spec.choices.items():
            letter = get_column_letter(list(frame.columns).index(column) + 1)
            listed = ",".join(values)
            if len(listed) > 255:
                raise ValueError(f"the choices of {column!r} are longer than Excel's 255 characters")
            check = DataValidation(
                type="list", formula1=f'"{listed}"', allow_blank=True, showDropDown=False, showErrorMessage=True
            )
            check.add(f"{letter}{header_row + 1}:{letter}{header_row + max(len(frame), 1) + 500}")
            sheet.data_validations.append(check)
        if spec.editable:  # no password: protection against accidents, not against the sheet's own users
            sheet.protection.sheet = True
            sheet.protection.autoFilter = sheet.protection.formatColumns = sheet.protection.formatRows = False
        # before the first row: the write-only sheet writes its properties with it
        sheet.print_title_rows = f"{header_row}:{header_row}"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        for line in spec.preface:
            sheet.append([text_cell(sheet, line, font=Font(bold=line == spec.preface[0]))])
        sheet.append(
            [
                text_cell(sheet, str(column), font=Font(bold=True), alignment=Alignment(wrap_text=True, vertical="top"))
                for column in frame.columns
            ]
        )
        text = [c in spec.text_columns for c in frame.columns]
        wrap = [c in spec.widths for c in frame.columns]
        number_format = [spec.formats.get(c) for c in frame.columns]
        unlocked = [c in spec.editable for c in frame.columns]
        wrapped = Alignment(wrap_text=True, vertical="top")

        def styled(cell, fold: bool, form: str | None, editable: bool, sheet=sheet, wrapped=wrapped):
            if fold and isinstance(cell, str):
                cell = text_cell(sheet, cell, alignment=wrapped)
            elif form and isinstance(cell, (int, float)) and not isinstance(cell, bool):
                cell = WriteOnlyCell(sheet, value=cell)
                cell.number_format = form
            if editable:
                cell = cell if hasattr(cell, "protection") else WriteOnlyCell(sheet, value=cell)  # a value: a cell
                cell.protection = Protection(locked=False)
            return cell

        for row in frame.itertuples(index=False):
            cells = [as_cell(sheet, _excel_value(value, as_text)) for value, as_text in zip(row, text)]
            sheet.append([styled(*cell) for cell in zip(cells, wrap, number_format, unlocked)])
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)

    path = Path(path)
    stamp_text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp_text, data)
            entry = zipfile.ZipInfo(item.filename, date_time=(max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return path


def _display_width(value) -> int:
    """Columns a value takes in a spreadsheet: Chinese characters are two wide."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _excel_value(value, as_text: bool):
    """A cell value: text columns as strings, missing values as empty cells, dates as dates."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if as_text:
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
