"""The member-features workflow: ``segkit features`` and the member-features notebook call ``member_features``.

``segkit.features`` holds the queries (each returns a frame, for every capability
to build on); this is the capability as the front ends see it: the table of one
row per member as a result that summarises itself and writes its file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .data.parse import parse_day
from .result import Result


@dataclass(repr=False)
class MemberFeatures(Result):
    """One row per member as of a date (``segkit.features.member_features``; its module docstring defines
    every column)."""

    as_of: pd.Timestamp
    table: pd.DataFrame

    def _describe(self) -> str:
        buyers = int((self.table["frequency"] > 0).sum())
        return f"as of {self.as_of.date()}: {len(self.table):,} members, {buyers:,} of them buyers"

    def summary(self) -> pd.DataFrame:
        """count, mean, spread and quartiles of every numeric feature."""
        return self.table.describe(include="number").T.rename_axis("feature").reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"member_features.parquet": self.table}


def member_features(transactions: Any, as_of: Any, members: Any = None, backend: str = "duckdb",
                    con=None) -> MemberFeatures:
    """The features of every member as of ``as_of``: ``transactions`` and ``members`` are canonical tables
    (``segkit.load_transactions``), Parquet paths or Ibis tables; ``backend``/``con`` choose the engine."""
    from .features import member_features as features_query

    as_of = parse_day(as_of)
    return MemberFeatures(as_of, features_query(transactions, as_of, members=members, backend=backend, con=con))
