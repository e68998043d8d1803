"""From canonical tables to next month's books: features, segmentation, grades, the assignment, hand-overs.

The one call that ``segkit assign`` and ``notebooks/advisor_assignment.ipynb`` share.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import write_table
from .assignment import Assignment, advisor_table, assign_advisors
from .grading import AssignmentSettings, member_grades
from .handover import handover_list

BOOK_FILES = ("assignments.csv", "handover.csv", "advisor_summary.csv")


@dataclass
class BookPlan:
    """Everything behind one assignment run."""

    as_of: pd.Timestamp
    graded: pd.DataFrame         # grade, team, stage, vip, value, current advisor of every member
    assignment: Assignment
    handover: pd.DataFrame       # handover.csv

    def __repr__(self) -> str:
        return f"<BookPlan as of {self.as_of.date()}: {self.assignment!r}; {len(self.handover):,} hand-overs>"

    def write(self, out: str | Path) -> list[Path]:
        """``assignments.csv``, ``handover.csv`` and ``advisor_summary.csv`` in ``out``, each written atomically."""
        out = Path(out)
        return [write_table(self.assignment.assignments(), out / "assignments.csv"),
                write_table(self.handover, out / "handover.csv"),
                write_table(self.assignment.advisors, out / "advisor_summary.csv")]


def plan_books(transactions: Any, members: pd.DataFrame, advisors: pd.DataFrame, as_of: Any,
               settings: AssignmentSettings | None = None, alerts: pd.DataFrame | None = None,
               segmentation=None) -> BookPlan:
    """Grade every member from their segmentation as of ``as_of`` and assign the books; ``alerts``
    (``alerts.csv``) add open alerts to the hand-over notes."""
    from ..data.parse import parse_day
    from ..features import member_features
    from ..segment import segment_members

    settings = settings or AssignmentSettings()
    as_of = parse_day(as_of)
    features = member_features(transactions, as_of, members=members)
    segments = segment_members(features, transactions, as_of, members, segmentation)
    staffed = advisor_table(advisors, settings)
    graded = member_grades(segments.table, members, settings, teams=set(staffed.loc[staffed["active"], "team"]))
    assignment = assign_advisors(graded, advisors, settings)
    return BookPlan(as_of, graded, assignment, handover_list(assignment, as_of, features, alerts))
