"""The survey's tables, checked: bad rows are reported per respondent and excluded from their method only.

Tables (CSV or Parquet; ids are text):

==============  ==============================================================
screening       ``respondent_id``, ``benefit``, ``liking`` (1-5)
costs           ``benefit``, ``direct_cost``, ``delivery_cost`` (per member per year)
ranking         ``respondent_id``, ``benefit``, ``rank`` (1 = best; a respondent may rank only their top few)
constant_sum    ``respondent_id``, ``benefit``, ``points`` (each respondent splits ``total_points``)
respondents     ``respondent_id``, ``tier`` or ``segment`` (optional)
==============  ==============================================================

The candidate benefits are those of the cost table; a benefit is the same
benefit in every table whatever its case, width or spaces (``Spa  Voucher``,
``spa voucher``, ``ＳＰＡ voucher``) and takes the cost table's spelling. A
rating, ranking or allocation without a respondent id is left out and
reported; so are a respondent's conflicting ratings of one benefit, and a
respondent listed with two tiers (left out of the tiers' rankings). A respondent whose
ranking has a duplicate benefit, a repeated rank, a gap (1, 2, 4), or an
unknown benefit is left out of the ranking method; one whose points do not
add up to ``total_points``, are negative, or name an unknown benefit is left
out of the constant-sum method. Nothing is fixed silently: every exclusion
is a row of ``problems`` (respondent, method, problem).
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.parse import refuse_ids_written_otherwise
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
            frame[column] = _plain_text(frame[column])
    return frame


def _plain_text(values: pd.Series) -> pd.Series:
    """Ids and names as text: full-width forms made plain, runs of spaces one space, a missing value ""."""

    def plain(value: Any) -> str:
        return "" if pd.isna(value) else " ".join(unicodedata.normalize("NFKC", str(value)).split())

    return values.astype(object).map(plain)


def _same_benefit(name: str) -> str:
    return name.casefold()


def _without_respondent(frame: pd.DataFrame, method: str, problems: list[tuple[str, str, str]]) -> pd.DataFrame:
    """``frame`` without its rows that have no respondent id, reported (they would have been one respondent)."""
    blank = frame["respondent_id"] == ""
    if blank.any():
        problems.append(("", method, f"{int(blank.sum()):,} row(s) without a respondent id: left out"))
    return frame.loc[~blank]


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers typed in any width (４ is 4); what is not one is missing."""
    typed = values.map(lambda value: unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value)
    return pd.to_numeric(typed, errors="coerce")


def read_survey(
    screening: Any, costs: Any, ranking: Any, constant_sum: Any, respondents: Any = None, total_points: float = 100.0
) -> SurveyData:
    """Read and check every table; see the module docstring."""
    cost_table = _table(costs, "costs", ["benefit", "direct_cost", "delivery_cost"])
    if cost_table.empty:  # every answer would be about an unknown benefit, and the ranking empty, without a word
        raise ValueError("costs: no benefit is listed; the costs table names the candidate benefits")
    if (cost_table["benefit"] == "").any():
        row = int(np.flatnonzero(cost_table["benefit"] == "")[0]) + 1
        raise ValueError(f"costs: row {row} has no benefit name; the costs table names the candidate benefits")
    for column in ("direct_cost", "delivery_cost"):
        cost_table[column] = _numbers(cost_table[column])
        bad = cost_table[column].isna() | (cost_table[column] < 0)
        if bad.any():
            raise ValueError(f"costs: {column} is missing or negative for {', '.join(cost_table.loc[bad, 'benefit'])}")
    same = cost_table["benefit"].map(_same_benefit)
    if same.duplicated().any():
        twice = cost_table.loc[same.isin(same[same.duplicated()]), "benefit"]
        raise ValueError("costs: benefit(s) listed twice: " + ", ".join(map(repr, twice)))
    benefits = cost_table["benefit"].tolist()
    known = set(benefits)
    spelling = dict(zip(same, benefits))
    problems: list[tuple[str, str, str]] = []

    def read(source: Any, name: str, required: list[str]) -> pd.DataFrame:
        frame = _table(source, name, required)
        frame["benefit"] = frame["benefit"].map(lambda benefit: spelling.get(_same_benefit(benefit), benefit))
        return _without_respondent(frame, name, problems)

    screen = read(screening, "screening", ["respondent_id", "benefit", "liking"])
    ranks = read(ranking, "ranking", ["respondent_id", "benefit", "rank"])
    points = read(constant_sum, "constant_sum", ["respondent_id", "benefit", "points"])
    _refuse_benefits_without_costs({"screening": screen, "ranking": ranks, "constant_sum": points}, known)
    said = screen["liking"]
    screen["liking"] = _numbers(said)
    bad = ~screen["benefit"].isin(known) | ~screen["liking"].isin([1, 2, 3, 4, 5])
    for row, value in zip(screen.loc[bad].itertuples(index=False), said[bad]):
        why = (
            f"unknown benefit {row.benefit!r}"
            if row.benefit not in known
            else f"liking {value!r} for {row.benefit!r} is not 1-5"
        )
        problems.append((row.respondent_id, "screening", why))
    screen = screen.loc[~bad].drop_duplicates(["respondent_id", "benefit", "liking"])
    twice = screen.duplicated(["respondent_id", "benefit"], keep=False)
    for (respondent, benefit), ratings in screen[twice].groupby(["respondent_id", "benefit"], sort=True)["liking"]:
        given = ", ".join(f"{rating:g}" for rating in ratings)
        problems.append((respondent, "screening", f"{benefit!r} rated differently ({given}): left out"))
    screen = screen.loc[~twice]

    ranks["rank"] = _numbers(ranks["rank"])
    valid = []
    for respondent, rows in ranks.groupby("respondent_id", sort=True):
        why = _ranking_problem(rows, known)
        if why:
            problems.append((respondent, "ranking", why))
        else:
            valid.append(rows)
    ranks = (pd.concat(valid, ignore_index=True) if valid else ranks.iloc[:0]).astype({"rank": int})

    points["points"] = _numbers(points["points"])
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
        spelled = {}  # Gold and gold are one tier, spelt as first written
        people["tier"] = people["tier"].map(lambda tier: spelled.setdefault(tier.casefold(), tier))
        people = people.drop_duplicates(["respondent_id", "tier"])[["respondent_id", "tier"]]
        two = people["respondent_id"].duplicated(keep=False)
        for respondent, tiers in people[two].groupby("respondent_id", sort=True)["tier"]:
            problems.append(
                (respondent, "respondents", f"listed with two tiers ({', '.join(sorted(tiers))}): left out of both")
            )
        people = people.loc[~two & (people["respondent_id"] != "")]
        blank = people["tier"].str.strip() == ""
        problems += [
            (respondent, "respondents", "no tier: left out of the rankings by tier")
            for respondent in people.loc[blank, "respondent_id"]
        ]
        people = people.loc[~blank]
        said = {respondent for respondent, method, _ in problems if method == "respondents"}
        ranked = set(ranks["respondent_id"]) | set(points["respondent_id"])  # the rankings by tier are theirs
        problems += [
            (respondent, "respondents", "not in the respondents table: left out of the rankings by tier")
            for respondent in sorted(ranked - set(people["respondent_id"]) - said - {""})
        ]
    problems_table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    _check_answers(screen, ranks, points, problems_table)
    if people is not None:
        _check_respondents(
            people, set(screen["respondent_id"]) | set(ranks["respondent_id"]) | set(points["respondent_id"])
        )
    return SurveyData(benefits, screen, cost_table, ranks, points, people, problems_table)


def _refuse_benefits_without_costs(answers: dict[str, pd.DataFrame], known: set[str]) -> None:
    """Refuse a benefit that respondents answered about but the costs table lacks: a slip of one respondent is a
    problem of theirs, but a benefit named by two or more is one of the list the survey showed, and without its
    costs it would vanish from the ranking, with every ranking and share of points that names it."""
    for name, table in answers.items():
        unknown = table.loc[~table["benefit"].isin(known) & (table["benefit"] != "")]
        named = unknown.groupby("benefit", sort=True)["respondent_id"].nunique()
        named = named[named > 1]
        if len(named):
            raise ValueError(
                f"costs: no costs for {named.index[0]!r}, which {named.iloc[0]:,} respondents answered about in "
                f"{name} ({len(named):,} such benefit(s)): add its costs, or it and every answer naming it are "
                "left out of the ranking"
            )


def _check_respondents(people: pd.DataFrame, answered: set[str]) -> None:
    """Refuse respondents whose ids are the answers' written another way (``001`` and ``1``: those answers would
    count for no tier), or of whom none answered (every tier's ranking would be empty)."""
    unmatched = people.loc[~people["respondent_id"].isin(answered), "respondent_id"]
    refuse_ids_written_otherwise(
        unmatched, answered, "respondents: the respondents table's", "the answers'", kind="respondent ids"
    )
    if len(people) and len(unmatched) == len(people):
        raise ValueError(
            f"respondents: none of the {len(people):,} respondents' ids answered the survey (respondents "
            f"{', '.join(sorted(people['respondent_id'])[:2])}, ...; answers {', '.join(sorted(answered)[:2])}, "
            "...): every tier's ranking would be empty"
        )


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
    ranks = np.sort(rows["rank"].to_numpy(float))  # as numbers: a rank of 1e20 is no whole number of int64
    if len(np.unique(ranks)) < len(ranks):
        return f"rank given twice: {', '.join(f'{r:g}' for r in sorted(set(ranks[np.r_[False, np.diff(ranks) == 0]])))}"
    if not np.array_equal(ranks, np.arange(1, len(ranks) + 1)):
        return f"ranks have a gap: {', '.join(f'{r:g}' for r in ranks)} (expected 1 to {len(ranks)})"
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
