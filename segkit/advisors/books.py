"""The advisor-books workflow: from canonical tables to next month's books (segmentation, grades, the
assignment, hand-overs). ``segkit assign`` and ``notebooks/advisor_assignment.ipynb`` call it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.parse import ids_written_otherwise
from ..result import Result
from ..settings import resolve_settings
from .assignment import Assignment, advisor_table, assign_advisors
from .grading import AssignmentSettings, member_grades
from .handover import handover_list

BOOK_FILES = ("assignments.csv", "handover.csv", "advisor_summary.csv")


@dataclass(repr=False)
class BookPlan(Result):
    """Everything behind one assignment run.

    ``summary()`` counts the members who moved, by reason; ``write(out)`` writes
    ``assignments.csv``, ``handover.csv`` and ``advisor_summary.csv``.

    Attributes
    ----------
    as_of : pandas.Timestamp
        The day of the assignment.
    graded : pandas.DataFrame
        Every member's ``grade``, ``team``, ``stage``, ``vip``, ``value`` (net spend),
        current ``advisor_id`` and ``wants_new_advisor``.
    assignment : Assignment
        The optimal assignment: ``assignments()`` (``assignments.csv``), ``advisors``
        (``advisor_summary.csv``: each book's load, value, grades, kept, gained and lost),
        ``cost`` and its parts.
    handover : pandas.DataFrame
        ``handover.csv``: one row per member who changes advisor, with the reason and a
        note for the new advisor.
    settings : AssignmentSettings
        The settings used.
    """

    as_of: pd.Timestamp
    graded: pd.DataFrame  # grade, team, stage, vip, value, current advisor of every member
    assignment: Assignment
    handover: pd.DataFrame  # handover.csv
    settings: AssignmentSettings

    def _describe(self) -> str:
        return f"as of {self.as_of.date()}: {self.assignment!r}; {len(self.handover):,} hand-overs"

    def summary(self) -> pd.DataFrame:
        """Members who moved, by reason."""
        return self.assignment.summary()

    def tables(self) -> dict[str, pd.DataFrame]:
        return dict(zip(BOOK_FILES, (self.assignment.assignments(), self.handover, self.assignment.advisors)))


def plan_books(
    transactions: Any,
    members: pd.DataFrame,
    advisors: pd.DataFrame,
    as_of: Any,
    settings: AssignmentSettings | str | Path | dict | None = None,
    alerts: Any = None,
    segmentation=None,
    *,
    backend: str = "duckdb",
    con=None,
) -> BookPlan:
    """Grade every member from their segmentation as of ``as_of`` and assign the books; ``alerts`` (the alerts
    table or its ``alerts.csv``) add open alerts to the hand-over notes. ``settings`` and ``segmentation`` (the
    segmentation's settings) are settings objects, YAML paths or mappings (``resolve_settings``).

    Members are graded by value (VIPs and high tiers lifted), sent to the team of their
    lifecycle stage, and assigned to advisors by a minimum-cost flow that matches grades to
    advisor levels, keeps members with their advisor where it can and balances the books
    within each advisor's capacity.

    Parameters
    ----------
    transactions : pandas.DataFrame, LoadResult, Parquet path or Ibis table
        Canonical transactions.
    members : pandas.DataFrame
        Canonical members, with their current ``advisor_id`` (and ``wants_new_advisor``).
    advisors : pandas.DataFrame
        Canonical advisors: ``advisor_id``, ``level``, and ``team``, ``capacity_min``,
        ``capacity_max``, ``active`` where known.
    as_of : str, date or Timestamp
        The day of the assignment (``YYYY-MM-DD``).
    settings : AssignmentSettings, str, Path or dict, optional
        Grade shares, tier grades, stage teams, the VIP team, cost weights, the largest
        grade gap and capacity overrides. None: the defaults.
    alerts : pandas.DataFrame, str or Path, optional
        The overdue alerts (``churn_alerts``' table or its ``alerts.csv``): open alerts
        go into the hand-over notes.
    segmentation : SegmentationSettings, str, Path or dict, optional
        The segmentation's settings (stages, VIP rule, tiers). None: the defaults.
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the queries run on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).

    Returns
    -------
    BookPlan
        The graded members, the assignment, the hand-over list and the settings.

    Raises
    ------
    AssignmentError
        No assignment satisfies the capacities, grade gap and change requests (the message
        says where and why), or advisors have no ``capacity_max``.
    ValueError
        A setting is unknown or out of range, ``as_of`` is not a date, there are no members, or a
        table lacks a required column.
    FileNotFoundError
        A settings YAML or the alerts file does not exist.

    Examples
    --------
    >>> import segkit
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 200, seed=1)
    >>> plan = segkit.plan_books(world.transactions, world.members, world.advisors, "2026-03-31")
    >>> plan
    <BookPlan as of 2026-03-31: <Assignment: 200 members to 8 advisors; 77 moved (38.5%); ...>; 77 hand-overs>
    >>> plan.summary().head(2)
                                      reason  members
    0                           advisor left       30
    1  team move: regular service -> win-back       18
    >>> print(plan.handover.loc[0, "note"])
    last purchase 2025-05-18 (317 days ago); spend 770; grade 2; stage dormant
    """
    from ..data.parse import parse_day
    from ..data.sources import read_source
    from ..features import member_features
    from ..segment import segment_members

    settings = resolve_settings(AssignmentSettings, settings)
    if alerts is not None:
        origin, alerts = alerts if isinstance(alerts, (str, Path)) else "the alerts", read_source(alerts).frame
        missing = [column for column in ("member_id", "reason") if column not in alerts]
        if missing:
            raise ValueError(
                f"{origin}: no column {' or '.join(missing)}; --alerts takes the alerts.csv that segkit alerts writes"
            )
    as_of = parse_day(as_of)
    if not len(members):  # the capacities' messages would speak of teams needing members
        raise ValueError("no members to assign: the members table holds none")
    features = member_features(transactions, as_of, members=members, backend=backend, con=con)
    staffed = advisor_table(advisors, settings)
    if not len(staffed):
        raise ValueError("no advisors to assign members to: the advisors table holds none")
    _check_ids(features, members, staffed)
    segments = segment_members(transactions, as_of, members, segmentation, features=features, backend=backend, con=con)
    graded = member_grades(segments.table, members, settings, teams=set(staffed.loc[staffed["active"], "team"]))
    assignment = assign_advisors(graded, advisors, settings)
    return BookPlan(as_of, graded, assignment, handover_list(assignment, as_of, features, alerts), settings)


def _check_ids(features: pd.DataFrame, members: pd.DataFrame, advisors: pd.DataFrame) -> None:
    """Ids that do not meet across the files: refused when they differ only in how they are written (``1`` and
    ``0000001``, ``a007`` and ``A007``: every member would look new, or move with a hand-over), else warned
    about with their counts (buyers left out of the books, members whose advisor is not in the advisors file)."""
    known = set(members["member_id"].astype(str))
    buyers = features.loc[features["frequency"] > 0, "member_id"].astype(str)
    strangers = buyers[~buyers.isin(known)]
    if len(strangers) and len(strangers) == len(buyers):
        raise ValueError(
            f"none of the {len(known):,} members bought anything: the {len(buyers):,} buyers of the transactions "
            f"are not in the members table (members {_examples(known)}, transactions {_examples(strangers)}); "
            "are the ids written alike?"
        )
    if len(strangers):
        warnings.warn(
            f"{len(strangers):,} buyers of the transactions are not in the members table and get no advisor "
            f"({_examples(strangers)})",
            stacklevel=3,
        )
    if "advisor_id" not in members:
        return
    current = members["advisor_id"].dropna().astype(str)
    current = current[current.str.strip() != ""]
    staff = set(advisors["advisor_id"].astype(str))
    unknown = current[~current.isin(staff)]
    if not len(unknown):
        return
    alike = ids_written_otherwise(unknown.unique(), staff)
    if alike:
        (theirs, ours), *_ = alike.items()
        raise ValueError(
            f"the members' advisor ids are not written as the advisors file writes them: {theirs!r} "
            f"({int((unknown == theirs).sum()):,} members) is {ours!r} there; {len(alike):,} such id(s). Write them "
            "alike: every one of their members would move to another advisor"
        )
    counts = unknown.value_counts()
    if len(unknown) == len(current):
        raise ValueError(
            f"none of the members' advisors is in the advisors file (members {_examples(counts.index)}, advisors "
            f"{_examples(staff)}): every one of their {len(current):,} members would move to another advisor"
        )
    warnings.warn(
        f"{len(unknown):,} members' current advisor is not in the advisors file ("
        + ", ".join(f"{advisor}: {count:,}" for advisor, count in counts.head(3).items())
        + (", ..." if len(counts) > 3 else "")
        + "): they get an advisor with a hand-over (previous advisor unknown)",
        stacklevel=3,
    )


def _examples(ids) -> str:
    return ", ".join(repr(member) for member in sorted(set(map(str, ids)))[:2]) + ", ..."
