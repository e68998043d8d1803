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
    every column).

    Attributes
    ----------
    as_of : pandas.Timestamp
        The day the features are computed as of.
    table : pandas.DataFrame
        One row per member (``member_features.parquet``): ``member_id``,
        ``first_purchase``, ``last_purchase``, ``frequency``, ``monetary``,
        ``avg_order_value``, ``refunds``, ``refund_count``, ``recency_days``,
        ``tenure_days``, ``gap_count``, ``gap_mean``, ``gap_median``, ``gap_std``,
        ``last_gap`` and ``sum_log_gaps``.
    """

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


def member_features(
    transactions: Any, as_of: Any, members: Any = None, backend: str = "duckdb", con=None
) -> MemberFeatures:
    """The features of every member as of ``as_of``: ``transactions`` and ``members`` are canonical tables
    (``segkit.load_transactions``), Parquet paths or Ibis tables; ``backend``/``con`` choose the engine.

    Recency, frequency, net spend, tenure, refunds and the gaps between purchase
    occasions, as defined in ``segkit.features.member``; transactions after ``as_of``
    are ignored, and members without a purchase get ``frequency`` 0.

    Parameters
    ----------
    transactions : pandas.DataFrame, LoadResult, pyarrow.Table, Parquet path or Ibis table
        Canonical transactions (``member_id``, ``date``, ``amount``).
    as_of : str, date or Timestamp
        The day the features are computed as of (``YYYY-MM-DD``).
    members : pandas.DataFrame, LoadResult, Parquet path or Ibis table, optional
        Canonical members: those without a purchase get a row too.
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the query runs on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).

    Returns
    -------
    MemberFeatures
        The table of one row per member, with ``summary()`` (the spread of every
        feature) and ``write(out)`` (``member_features.parquet``).

    Raises
    ------
    ValueError
        ``as_of`` is not a date, a table lacks a required column, or the backend is
        unknown.
    ImportError
        ``backend="spark"`` without the spark extra.

    Examples
    --------
    >>> import segkit
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> features = segkit.member_features(world.transactions, "2026-03-31", world.members)
    >>> features
    <MemberFeatures as of 2026-03-31: 300 members, 264 of them buyers>
    >>> features.table.set_index("member_id").loc[["0000003"], ["frequency", "monetary", "recency_days"]]
               frequency  monetary  recency_days
    member_id
    0000003            2     594.0           338
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     [path.name for path in features.write(out)]
    ['member_features.parquet']
    """
    from .features import member_features as features_query

    as_of = parse_day(as_of)
    return MemberFeatures(as_of, features_query(transactions, as_of, members=members, backend=backend, con=con))
