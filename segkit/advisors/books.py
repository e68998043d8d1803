"""The advisor-books workflow: from canonical tables to next month's books (segmentation, grades, the
assignment, hand-overs). ``segkit assign`` and ``notebooks/advisor_assignment.ipynb`` call it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..result import Result
from ..settings import resolve_settings
from .assignment import Assignment, advisor_table, assign_advisors
from .grading import AssignmentSettings, member_grades
from .handover import handover_list

BOOK_FILES = ("assignments.csv", "handover.csv", "advisor_summary.csv")


@dataclass(repr=False)
class BookPlan(Result):
    """Everything behind one assignment run."""

    as_of: pd.Timestamp
    graded: pd.DataFrame         # grade, team, stage, vip, value, current advisor of every member
    assignment: Assignment
    handover: pd.DataFrame       # handover.csv
    settings: AssignmentSettings

    def _describe(self) -> str:
        return f"as of {self.as_of.date()}: {self.assignment!r}; {len(self.handover):,} hand-overs"

    def summary(self) -> pd.DataFrame:
        """Members who moved, by reason."""
        return self.assignment.summary()

    def tables(self) -> dict[str, pd.DataFrame]:
        return dict(zip(BOOK_FILES, (self.assignment.assignments(), self.handover, self.assignment.advisors)))


def plan_books(transactions: Any, members: pd.DataFrame, advisors: pd.DataFrame, as_of: Any,
               settings: AssignmentSettings | str | Path | dict | None = None, alerts: Any = None,
               segmentation=None, *, backend: str = "duckdb", con=None) -> BookPlan:
    """Grade every member from their segmentation as of ``as_of`` and assign the books; ``alerts`` (the alerts
    table or its ``alerts.csv``) add open alerts to the hand-over notes. ``settings`` and ``segmentation`` (the
    segmentation's settings) are settings objects, YAML paths or mappings (``resolve_settings``)."""
    from ..data.parse import parse_day
    from ..data.sources import read_source
    from ..features import member_features
    from ..segment import segment_members

    settings = resolve_settings(AssignmentSettings, settings)
    alerts = None if alerts is None else read_source(alerts).frame
    as_of = parse_day(as_of)
    features = member_features(transactions, as_of, members=members, backend=backend, con=con)
    segments = segment_members(transactions, as_of, members, segmentation, features=features, backend=backend,
                               con=con)
    staffed = advisor_table(advisors, settings)
    graded = member_grades(segments.table, members, settings, teams=set(staffed.loc[staffed["active"], "team"]))
    assignment = assign_advisors(graded, advisors, settings)
    return BookPlan(as_of, graded, assignment, handover_list(assignment, as_of, features, alerts), settings)
