"""What every workflow returns: a result that prints in one line, summarises itself as a table and writes its files.

A workflow (``segkit.churn_alerts``, ``segkit.segment_members``, ...) is the one
path of a capability: the CLI, the notebooks and the scheduled runs call it and
add nothing but input, charts and files. Its result:

* ``repr`` is one line (``<AlertRun as of 2026-03-31: 209 alerts among 5,000 members ...>``);
* ``summary()`` is a DataFrame, which a notebook shows as a table under that line;
* ``write(out)`` writes the result's tables (``tables()``, file name -> table, the main one first)
  and returns their paths. ``out`` is a folder (``out/alerts.csv``, ``out/member_rhythms.csv``, as the
  notebooks write), or a ``.csv``/``.parquet`` file for the main table with the others beside it
  (``alerts.csv``, ``alerts.member_rhythms.csv``, as the CLI writes with ``--out alerts.csv``).

Results whose files are made as the workflow runs (a call list recorded in the
ledger, a pipeline's run folder) list them in ``files`` instead of writing them again.

Notebooks show tables with ``show_table`` (``table_html``), the one place that decides how a
table reads in a report: no index, a dash for missing values, thousands separators,
percentages, dates without a time, labels from the message catalogue, wide tables scrolling
inside their own box.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from .io import TABLE_SUFFIXES, write_tables

# Columns shown as percentages without being named: shares, rates and probabilities (p_active, p_alive).
PERCENT_COLUMNS = re.compile(r"(^|_)(share|rate|precision|recall)(_|$)|^p_")
LONG_TEXT = 24  # characters: a column with longer text wraps it
# Scoped to the table's own classes, to win over JupyterLab's (which right-aligns every cell). Cells keep to
# one line (no date or id broken in two) except long text, which wraps; what is still too wide scrolls.
TABLE_STYLE = (
    "<style>.segkit-table{max-width:100%;overflow-x:auto;margin:.4em 0 1em}"
    ".segkit-table table.segkit{border-collapse:collapse;margin:0;table-layout:auto;font-size:13px}"
    ".segkit-table table.segkit th,.segkit-table table.segkit td{padding:.25em .7em;text-align:left;"
    "border-bottom:1px solid #e0e0e0;vertical-align:top;white-space:nowrap}"
    ".segkit-table table.segkit th{background:#f4f4f4;font-weight:600;white-space:normal;"
    "word-break:keep-all;min-width:3em}"
    ".segkit-table table.segkit td.text{white-space:normal;min-width:14em;max-width:28em;"
    "overflow-wrap:break-word}"
    ".segkit-table table.segkit .number{text-align:right;font-variant-numeric:tabular-nums}</style>"
)


class Result:
    """Base of workflow results. Subclasses (dataclasses with ``repr=False``) define ``_describe`` (the line
    after the class name), ``summary`` and, if they write files, ``tables``; ``percent`` names the columns of
    ``summary()`` that are shares though their names do not say so (``PERCENT_COLUMNS``); ``optional_tables``
    the tables that only some runs have (a holdout's check): ``write`` removes such a file of an earlier run
    that this one does not write, so that no file beside the new ones is of another run."""

    percent: ClassVar[tuple[str, ...]] = ()
    optional_tables: ClassVar[tuple[str, ...]] = ()

    def _describe(self) -> str:
        raise NotImplementedError

    def summary(self) -> pd.DataFrame:
        raise NotImplementedError

    def tables(self) -> dict[str, pd.DataFrame]:
        raise NotImplementedError(f"{type(self).__name__} writes its files as it runs: see its files")

    def write(self, out: str | Path) -> list[Path]:
        """Write ``tables()`` into the folder ``out``, or, when ``out`` ends in ``.csv``/``.parquet``, the main
        table to ``out`` and each other one beside it as ``<out stem>.<name>``; returns the paths."""
        out = Path(out)
        tables = self.tables()
        in_folder, main = out.suffix.lower() not in TABLE_SUFFIXES, next(iter(tables))

        def path(name: str) -> Path:
            if in_folder:
                return out / name
            return out if name == main else out.with_name(f"{out.stem}.{name}")

        written = write_tables({path(name): table for name, table in tables.items()})
        for name in set(self.optional_tables) - set(tables):
            path(name).unlink(missing_ok=True)
        return written

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._describe()}>"

    def _repr_html_(self) -> str:
        """In a notebook: the one line, then ``summary()`` as a table."""
        return f"<p><b>{html.escape(type(self).__name__)}</b> {html.escape(self._describe())}</p>" + table_html(
            self.summary(), self.percent
        )


def rounded(frame: pd.DataFrame, decimals: int = 4, money: Iterable[str] = ()) -> pd.DataFrame:
    """``frame`` for an output file: its float columns to ``decimals`` places and the ``money`` columns to
    cents, so that a CSV shows 0.1298 and 758710.66, not 0.1297709923664122 and 758710.6599999999.

    The other columns are ``frame``'s own, not copies (``rfm.csv`` of 10M members copied took a gigabyte);
    each rounded column is a new one, so ``frame`` is left as it was."""
    money, out = set(money), frame.copy(deep=False)
    for column in frame.columns:  # not DataFrame.round: it fails on a frame whose attrs hold a Series
        if pd.api.types.is_float_dtype(frame[column]):
            out[column] = frame[column].round(2 if column in money else decimals)
    return out


def table_html(frame: pd.DataFrame, percent: Iterable[str] | bool = (), language: str | None = None) -> str:
    """``frame`` as an HTML table people read: a named index becomes columns (an unnamed one is left out),
    missing values are a dash, numbers have thousands separators and a few decimals, shares and
    probabilities (``PERCENT_COLUMNS``, the columns in ``percent``, every number column with ``True``)
    are percentages, dates have no time, yes/no and known column labels come from the message catalogue
    of ``language``; text wraps and a wide table scrolls inside its own box. Empty frame: ``""``."""
    from .messages import catalogue

    if frame.empty:
        return ""
    texts = catalogue(language)
    labels = texts.section("report.columns")
    index_names = [str(name) for name in frame.index.names if name is not None]
    # columns with a name of their own are values (a pivot's stages or tiers), not fields to label
    fields = set(index_names) | (set(_column_names(frame)) if frame.columns.name is None else set())
    frame = frame.reset_index() if index_names else frame.reset_index(drop=True)
    percent = percent if isinstance(percent, bool) else {str(name) for name in percent}
    head, columns = [], []
    for position, name in enumerate(_column_names(frame)):
        as_percent = percent is True or (percent is not False and (name in percent or PERCENT_COLUMNS.search(name)))
        number, cells = _cells(frame.iloc[:, position], bool(as_percent), texts)
        label = html.escape(labels.get(name, name) if name in fields else name)
        head.append(f"<th class='number'>{label}</th>" if number else f"<th>{label}</th>")
        columns.append(cells)
    rows = "".join("<tr>" + "".join(cells[row] for cells in columns) + "</tr>" for row in range(len(frame)))
    return (
        f"{TABLE_STYLE}<div class='segkit-table'><table class='segkit'><thead><tr>{''.join(head)}</tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


def show_table(frame: pd.DataFrame, percent: Iterable[str] | bool = (), language: str | None = None) -> None:
    """Show ``frame`` in a notebook as ``table_html`` formats it; a table without rows shows nothing (a report
    leaves out a section with nothing to show).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; a named index is shown as columns, an unnamed one left out.
    percent : iterable of str or bool, default ()
        Columns to show as percentages besides those whose names say so
        (``PERCENT_COLUMNS``: shares, rates, probabilities such as ``p_active``);
        True: every number column; False: none.
    language : {"zh-CN", "en"} or None, default None
        The language of the column labels and yes/no values; None: the one
        ``use_language`` chose (zh-CN unless told otherwise).

    Returns
    -------
    None
        The table is displayed (HTML in a notebook, with a plain-text fallback).

    Raises
    ------
    ValueError
        An unknown ``language``.

    Examples
    --------
    ``show_table`` displays what ``table_html`` makes:

    >>> import pandas as pd
    >>> from segkit import show_table
    >>> from segkit.result import table_html
    >>> frame = pd.DataFrame({"member_id": ["007"], "p_active": [0.8125], "value_12m": [12345.5]})
    >>> html = table_html(frame, language="en")
    >>> "81.2%" in html, "12,346" in html
    (True, True)
    >>> show_table(frame.iloc[:0])         # no rows: nothing is shown
    >>> show_table(frame)  # doctest: +SKIP
    """
    from IPython.display import display

    if len(frame):
        display({"text/html": table_html(frame, percent, language), "text/plain": frame.to_string()}, raw=True)


def _column_names(frame: pd.DataFrame) -> list[str]:
    """Column names as text; the levels of a MultiIndex joined by spaces."""
    return [
        " ".join(str(part) for part in name if str(part)) if isinstance(name, tuple) else str(name)
        for name in frame.columns
    ]


def _cells(column: pd.Series, percent: bool, texts) -> tuple[bool, list[str]]:
    """Whether ``column`` holds numbers, and the ``<td>`` of each of its values, formatted for reading."""
    missing = column.isna().to_numpy()
    number = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if number:
        shown = _numbers(column.astype("float64").to_numpy(), missing, percent)
    elif pd.api.types.is_datetime64_any_dtype(column):
        stamps = pd.to_datetime(column)
        fmt = "%Y-%m-%d" if (stamps.dropna() == stamps.dropna().dt.normalize()).all() else "%Y-%m-%d %H:%M"
        shown = stamps.dt.strftime(fmt).to_numpy()
    else:
        flags = {True: texts.text("report.values.flag_true"), False: texts.text("report.values.flag_false")}
        shown = [
            flags[value]
            if isinstance(value, (bool, np.bool_))
            else _day(value)
            if isinstance(value, pd.Timestamp)
            else str(value)
            for value in column.to_numpy(object)
        ]
    blank = texts.text("report.values.missing")
    kind = (
        " class='number'"
        if number
        else " class='text'"
        if any(len(str(text)) > LONG_TEXT for gap, text in zip(missing, shown) if not gap)
        else ""
    )
    return number, [f"<td{kind}>{html.escape(blank if gap else str(text))}</td>" for gap, text in zip(missing, shown)]


def _numbers(values: np.ndarray, missing: np.ndarray, percent: bool) -> list[str]:
    """Numbers of one column: percentages with one decimal; whole numbers with none; others with fewer decimals
    the larger they are (1,234 / 123.4 / 12.34 / 0.123), the same for the whole column unless its values span
    more than a thousandfold (a column of measures: 2,357 customers, a mean probability of 0.813)."""
    if percent:
        return ["" if gap else f"{value:.1%}" for gap, value in zip(missing, values)]
    finite = np.abs(values[~missing & np.isfinite(values)])
    if finite.size and np.all(finite == np.round(finite)):
        return ["" if gap else f"{value:,.0f}" for gap, value in zip(missing, values)]
    nonzero = finite[finite > 0]
    mixed = nonzero.size and nonzero.max() >= 1000 * nonzero.min()
    column_format = _format(nonzero.max() if nonzero.size else 0)

    def written(value: float) -> str:
        if mixed and np.isfinite(value):
            return f"{value:,.0f}" if value == round(value) else _format(abs(value))(value)
        return column_format(value)

    return ["" if gap else written(value) for gap, value in zip(missing, values)]


def _format(size: float):
    """How to write a number of about ``size``: fewer decimals the larger it is."""
    spec = (
        "{:,.0f}"
        if size >= 1000
        else "{:,.1f}"
        if size >= 100
        else "{:,.2f}"
        if size >= 1
        else "{:.3f}"
        if size >= 0.001
        else "{:.2g}"
    )
    return spec.format


def _day(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%d" if value == value.normalize() else "%Y-%m-%d %H:%M")
