"""The survey's tables, checked: bad rows are reported per respondent and excluded from their method only.

Tables (CSV or Parquet; ids are text):

==============  ==============================================================
screening       ``respondent_id``, ``benefit``, ``liking`` (1-5)
costs           ``benefit``, ``direct_cost``, ``delivery_cost`` (per member per year)
ranking         ``respondent_id``, ``benefit``, ``rank`` (1 = best; a respondent may rank only their top few)
constant_sum    ``respondent_id``, ``benefit``, ``points`` (each respondent splits ``total_points``)
respondents     ``respondent_id``, ``tier`` or ``segment`` (optional)
==============  ==============================================================

The candidate benefits are those of the cost table. A respondent whose
ranking has a duplicate benefit, a repeated rank, a gap (1, 2, 4), or an
unknown benefit is left out of the ranking method; one whose points do not
add up to ``total_points``, are negative, or name an unknown benefit is left
out of the constant-sum method. Nothing is fixed silently: every exclusion
is a row of ``problems`` (respondent, method, problem).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.sources import read_source

PROBLEM_COLUMNS = ["respondent_id", "method", "problem"]


@dataclass
class SurveyData:
    """The checked tables and what was excluded, per respondent and method."""

    benefits: list[str]
    screening: pd.DataFrame
    costs: pd.DataFrame
    ranking: pd.DataFrame  # only respondents with a valid ranking
    constant_sum: pd.DataFrame  # only respondents with a valid allocation
    respondents: pd.DataFrame | None
    problems: pd.DataFrame


def _table(source: Any, name: str, required: list[str]) -> pd.DataFrame:
    frame = source.copy() if isinstance(source, pd.DataFrame) else read_source(source).frame
    frame = frame.rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    missing = [c for c in required if c not in frame]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}")
    for column in ("respondent_id", "benefit", "tier", "segment"):
        if column in frame:
            frame[column] = frame[column].astype(str).str.strip()
    return frame


def read_survey(
    screening: Any, costs: Any, ranking: Any, constant_sum: Any, respondents: Any = None, total_points: float = 100.0
) -> SurveyData:
    """Read and check every table; see the module docstring."""
    cost_table = _table(costs, "costs", ["benefit", "direct_cost", "delivery_cost"])
    if cost_table.empty:  # every answer would be about an unknown benefit, and the ranking empty, without a word
        raise ValueError("costs: no benefit is listed; the costs table names the candidate benefits")
    for column in ("direct_cost", "delivery_cost"):
        cost_table[column] = pd.to_numeric(cost_table[column], errors="coerce")
        bad = cost_table[column].isna() | (cost_table[column] < 0)
        if bad.any():
            raise ValueError(f"costs: {column} is missing or negative for {', '.join(cost_table.loc[bad, 'benefit'])}")
    if cost_table["benefit"].duplicated().any():
        raise ValueError(
            "costs: benefit(s) listed twice: "
            + ", ".join(cost_table.loc[cost_table["benefit"].duplicated(), "benefit"])
        )
    benefits = cost_table["benefit"].tolist()
    known = set(benefits)
    problems: list[tuple[str, str, str]] = []

    screen = _table(screening, "screening", ["respondent_id", "benefit", "liking"])
    screen["liking"] = pd.to_numeric(screen["liking"], errors="coerce")
    bad = ~screen["benefit"].isin(known) | ~screen["liking"].isin([1, 2, 3, 4, 5])
    for row in screen.loc[bad].itertuples(index=False):
        why = (
            f"unknown benefit {row.benefit!r}"
            if row.benefit not in known
            else f"liking {row.liking!r} for {row.benefit!r} is not 1-5"
        )
        problems.append((row.respondent_id, "screening", why))
    screen = screen.loc[~bad].drop_duplicates(["respondent_id", "benefit"], keep="last")

    ranks = _table(ranking, "ranking", ["respondent_id", "benefit", "rank"])
    ranks["rank"] = pd.to_numeric(ranks["rank"], errors="coerce")
    valid = []
    for respondent, rows in ranks.groupby("respondent_id", sort=True):
        why = _ranking_problem(rows, known)
        if why:
            problems.append((respondent, "ranking", why))
        else:
            valid.append(rows)
    ranks = (pd.concat(valid, ignore_index=True) if valid else ranks.iloc[:0]).astype({"rank": int})

    points = _table(constant_sum, "constant_sum", ["respondent_id", "benefit", "points"])
    points["points"] = pd.to_numeric(points["points"], errors="coerce")
    valid = []
    for respondent, rows in points.groupby("respondent_id", sort=True):
        why = _points_problem(rows, known, total_points)
        if why:
            problems.append((respondent, "constant_sum", why))
        else:
            valid.append(rows)
    points = pd.concat(valid, ignore_index=True) if valid else points.iloc[:0]

    people = None
    if respondents is not None:
        people = _table(respondents, "respondents", ["respondent_id"])
        if "tier" not in people and "segment" not in people:
            raise ValueError("respondents: needs a tier or segment column")
        people = people.rename(columns={"segment": "tier"}) if "tier" not in people else people
        people = people.drop_duplicates("respondent_id")[["respondent_id", "tier"]]
    problems_table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    _check_answers(screen, ranks, points, problems_table)
    return SurveyData(benefits, screen, cost_table, ranks, points, people, problems_table)


def _check_answers(screen: pd.DataFrame, ranks: pd.DataFrame, points: pd.DataFrame, problems: pd.DataFrame) -> None:
    """Refuse a survey whose screening, or both whose stage-three methods, hold no usable answer (every benefit
    would pass the screen on no rating, or be ranked on nothing), and warn when one method has none (the ranking
    then rests on the other alone)."""

    def why(method: str) -> str:
        excluded = problems.loc[problems["method"] == method]
        if excluded.empty:
            return "no row"
        first = excluded.iloc[0]
        return f"all {len(excluded):,} excluded, the first: respondent {first['respondent_id']}, {first['problem']}"

    if screen.empty:
        raise ValueError(f"screening: no usable rating ({why('screening')}); the first stage screens on them")
    if ranks.empty and points.empty:
        raise ValueError(
            f"ranking and constant_sum: no usable answer (ranking: {why('ranking')}; constant_sum: "
            f"{why('constant_sum')}); the third stage ranks the benefits on them"
        )
    for name, method, other in (("ranking", ranks, "constant-sum points"), ("constant_sum", points, "rankings")):
        if method.empty:
            warnings.warn(
                f"{name}: no usable answer ({why(name)}); the final ranking rests on the {other} alone",
                stacklevel=3,
            )


def _ranking_problem(rows: pd.DataFrame, known: set[str]) -> str:
    unknown = sorted(set(rows["benefit"]) - known)
    if unknown:
        return f"unknown benefit(s) {', '.join(unknown)}"
    if rows["rank"].isna().any() or (rows["rank"] % 1 != 0).any():
        return "a rank that is not a whole number"
    if rows["benefit"].duplicated().any():
        return f"benefit ranked twice: {', '.join(rows.loc[rows['benefit'].duplicated(), 'benefit'])}"
    ranks = np.sort(rows["rank"].to_numpy(int))
    if len(np.unique(ranks)) < len(ranks):
        return f"rank given twice: {', '.join(map(str, sorted(set(ranks[np.r_[False, np.diff(ranks) == 0]]))))}"
    if not np.array_equal(ranks, np.arange(1, len(ranks) + 1)):
        return f"ranks have a gap: {', '.join(map(str, ranks))} (expected 1 to {len(ranks)})"
    return ""


def _points_problem(rows: pd.DataFrame, known: set[str], total: float) -> str:
    unknown = sorted(set(rows["benefit"]) - known)
    if unknown:
        return f"unknown benefit(s) {', '.join(unknown)}"
    if rows["points"].isna().any() or (rows["points"] < 0).any():
        return "points missing or negative"
    if rows["benefit"].duplicated().any():
        return f"benefit given points twice: {', '.join(rows.loc[rows['benefit'].duplicated(), 'benefit'])}"
    given = float(rows["points"].sum())
    if abs(given - total) > 1e-6:
        return f"points add up to {given:g}, not {total:g}"
    return ""
