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
"""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from .io import TABLE_SUFFIXES, write_table


class Result:
    """Base of workflow results. Subclasses (dataclasses with ``repr=False``) define ``_describe`` (the line
    after the class name), ``summary`` and, if they write files, ``tables``."""

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
        if out.suffix.lower() not in TABLE_SUFFIXES:
            return [write_table(table, out / name) for name, table in tables.items()]
        (_, main), *others = tables.items()
        return [write_table(main, out), *(write_table(table, out.with_name(f"{out.stem}.{name}"))
                                          for name, table in others)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._describe()}>"

    def _repr_html_(self) -> str:
        """In a notebook: the one line, then ``summary()`` as a table."""
        return (f"<p><b>{html.escape(type(self).__name__)}</b> {html.escape(self._describe())}</p>"
                + self.summary().to_html(float_format=lambda value: f"{value:,.4g}"))
