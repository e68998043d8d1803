"""Members to advisors as a min-cost flow (OR-Tools ``SimpleMinCostFlow``, integer costs).

Every member goes to exactly one active advisor of their team, and every
advisor ends with a book between ``capacity_min`` and ``capacity_max``. The
cost of a solution is the sum of:

* **grade**: ``grade_weight x |member grade - advisor level|`` per member (top members to senior advisors);
* **continuity**: ``continuity_weight`` per member moved away from an advisor they could have kept
  (same team, advisor still active, no request to change);
* **balance**: a convex cost of each book's size: the marginal cost of one more
  member rises by ``balance_weight`` per fifth of the advisor's capacity range.

Hard rules: a member who asked for a new advisor never stays with the same
one; an advisor who left (``active`` false) keeps nobody; ``max_grade_gap``,
if set, forbids advisors too far from a member's grade.

**Speed**: members with the same team, grade, advisor they may keep and
advisor they may not keep have identical costs, so the flow runs on these
classes (hundreds of nodes instead of a node per member) and the class flows
are dealt out to members afterwards: the most valuable members of a class
stay with their advisor first. The result is the same optimum as the
member-by-member graph (``group=False``, tested, and timed side by side in
``benchmarks/bench_assignment.py``). Capacity lower bounds use the standard
transformation (each advisor demands ``capacity_min``; only the range above
it flows to the sink), so no penalty constants are needed.

Infeasible inputs are checked first and reported together, per team:
no active advisor, more members than capacity, fewer members than the
advisors' minimum books, a grade with no advisor within ``max_grade_gap``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from .grading import DEFAULT_TEAM, AssignmentSettings

ASSIGNMENT_COLUMNS = ["member_id", "advisor_id", "previous_advisor_id", "team", "changed", "reason", "do_not_call"]
BALANCE_SEGMENTS = 5


class AssignmentError(ValueError):
    """No assignment can satisfy the capacities and rules; the message says where and why."""


@dataclass
class Assignment:
    """The assignment of every member, the advisors' books and the optimal cost with its parts."""

    table: pd.DataFrame  # ASSIGNMENT_COLUMNS + grade, level, previous_team, stage, vip, value
    advisors: pd.DataFrame  # advisor_summary.csv
    cost: dict[str, int]  # total, grade, continuity, balance
    solver: dict = field(default_factory=dict)  # nodes, arcs, classes, seconds

    def assignments(self) -> pd.DataFrame:
        """``assignments.csv``."""
        return self.table[ASSIGNMENT_COLUMNS]

    def summary(self) -> pd.DataFrame:
        """Members moved, by reason."""
        moved = self.table.loc[self.table["changed"]]
        return moved["reason"].value_counts().rename_axis("reason").rename("members").reset_index()

    def __repr__(self) -> str:
        moved = int(self.table["changed"].sum())
        return (
            f"<Assignment: {len(self.table):,} members to {len(self.advisors.query('load > 0')):,} advisors; "
            f"{moved:,} moved ({moved / max(len(self.table), 1):.1%}); cost {self.cost['total']:,} "
            f"(grade {self.cost['grade']:,}, continuity {self.cost['continuity']:,}, "
            f"balance {self.cost['balance']:,}); {self.solver.get('classes', 0):,} classes, "
            f"{self.solver.get('arcs', 0):,} arcs, solved in {self.solver.get('seconds', 0):.2f} s>"
        )


def advisor_table(advisors: pd.DataFrame, settings: AssignmentSettings) -> pd.DataFrame:
    """Advisors with every column the assignment needs: team, level, capacities (overrides applied), active."""
    table = advisors.drop_duplicates("advisor_id").copy()
    table["advisor_id"] = table["advisor_id"].astype(str)
    table["team"] = table["team"].fillna(DEFAULT_TEAM).astype(str) if "team" in table else DEFAULT_TEAM
    table["active"] = table["active"].ne(False) if "active" in table else True
    table["level"] = pd.to_numeric(table["level"]).astype(int)
    _refuse(table, ~table["level"].between(1, settings.grades), f"level must be 1 to {settings.grades} (the grades)")
    for bound, default in (("capacity_min", 0), ("capacity_max", None)):
        override = getattr(settings, bound)
        if override is not None:
            table[bound] = override
        elif bound not in table or table[bound].isna().any():
            if default is None:
                missing = table["capacity_max"].isna() if bound in table else pd.Series(True, index=table.index)
                _refuse(table, missing, "needs capacity_max (a column or the capacity_max setting)")
            table[bound] = table[bound].fillna(default) if bound in table else default
        table[bound] = table[bound].astype(int)
        _refuse(table, table[bound] < 0, f"{bound} must not be negative")
    _refuse(table, table["capacity_min"] > table["capacity_max"], "capacity_min above capacity_max")
    return table.reset_index(drop=True)


def _refuse(table: pd.DataFrame, bad: pd.Series, problem: str) -> None:
    """An ``AssignmentError`` naming the advisors where ``bad`` holds."""
    if bad.any():
        named = table.loc[bad.to_numpy(), "advisor_id"].tolist()
        more = f" and {len(named) - 5:,} more" if len(named) > 5 else ""
        raise AssignmentError(f"advisor(s) {', '.join(named[:5])}{more}: {problem}")


def assign_advisors(
    graded: pd.DataFrame, advisors: pd.DataFrame, settings: AssignmentSettings | None = None, group: bool = True
) -> Assignment:
    """Assign every member of ``graded`` (``member_grades``) to an advisor; see the module docstring."""
    settings = settings or AssignmentSettings()
    started = time.perf_counter()
    book = advisor_table(advisors, settings)
    active = book.loc[book["active"]].reset_index(drop=True)
    members = _member_table(graded, book)
    _check_feasible(members, active, settings)

    if group:
        key = ["team", "grade", "keep", "forbid"]
        members["class"] = members.groupby(key, sort=True).ngroup()
    else:
        members["class"] = np.arange(len(members))
    classes = members.groupby("class").agg(
        team=("team", "first"),
        grade=("grade", "first"),
        keep=("keep", "first"),
        forbid=("forbid", "first"),
        size=("member_id", "size"),
    )
    arcs = _member_arcs(classes, active, settings)
    flows, total, n_arcs = _solve(classes, arcs, active, len(members), settings)

    members = _deal_out(members, arcs.assign(flow=flows), active)
    table = _finish(members, book)
    grade_cost = int((settings.grade_weight * (table["grade"] - table["level"]).abs()).sum())
    continuity_cost = settings.continuity_weight * int(((table["keep"] != "") & table["changed"]).sum())
    cost = {
        "total": int(total),
        "grade": grade_cost,
        "continuity": continuity_cost,
        "balance": int(total) - grade_cost - continuity_cost,
    }
    solver = {
        "classes": len(classes),
        "arcs": n_arcs,
        "nodes": len(classes) + len(active) + 1,
        "seconds": time.perf_counter() - started,
    }
    return Assignment(
        table.drop(columns=["keep", "forbid", "class"]), advisor_summary(table, book, settings), cost, solver
    )


def _member_table(graded: pd.DataFrame, book: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("member_id", "grade", "team") if c not in graded]
    if missing:
        raise ValueError(f"the graded members lack column(s) {', '.join(missing)} (use member_grades)")
    members = graded.copy()
    members["member_id"] = members["member_id"].astype(str)
    if members["member_id"].duplicated().any():
        raise ValueError("member_id is not unique in the graded members")
    previous = members["advisor_id"] if "advisor_id" in members else pd.Series(None, index=members.index)
    members["previous_advisor_id"] = previous.fillna("").astype(str)
    wants_new = members["wants_new_advisor"].eq(True) if "wants_new_advisor" in members else False
    team_of = book.set_index("advisor_id")["team"]
    active_ids = set(book.loc[book["active"], "advisor_id"])
    members["previous_team"] = members["previous_advisor_id"].map(team_of).fillna("")
    can_keep = (
        members["previous_advisor_id"].isin(active_ids) & (members["previous_team"] == members["team"]) & ~wants_new
    )
    members["keep"] = members["previous_advisor_id"].where(can_keep, "")
    members["forbid"] = members["previous_advisor_id"].where(wants_new, "")
    members["value"] = members["value"] if "value" in members else 0.0
    return members


def _check_feasible(members: pd.DataFrame, active: pd.DataFrame, settings: AssignmentSettings) -> None:
    """Every reason the flow cannot exist, per team, in one error."""
    problems = []
    for team, rows in members.groupby("team", sort=True):
        staff = active.loc[active["team"] == team]
        n = len(rows)
        if staff.empty:
            teams = ", ".join(sorted(active["team"].unique()))
            problems.append(f"team {team!r}: {n:,} members but no active advisor (teams with advisors: {teams})")
            continue
        low, high = int(staff["capacity_min"].sum()), int(staff["capacity_max"].sum())
        if n > high:
            problems.append(
                f"team {team!r}: {n:,} members but its {len(staff)} active advisor(s) hold at most "
                f"{high:,} (capacity_max); total capacity is below the number of members"
            )
        if n < low:
            problems.append(
                f"team {team!r}: {n:,} members but its {len(staff)} active advisor(s) need at least "
                f"{low:,} (capacity_min); lower capacity_min or move an advisor to another team"
            )
        if len(staff) == 1:
            stuck = int((rows["forbid"] == staff["advisor_id"].iloc[0]).sum())
            if stuck:
                problems.append(
                    f"team {team!r}: {stuck:,} member(s) asked for a new advisor but the team has only "
                    f"one active advisor ({staff['advisor_id'].iloc[0]})"
                )
        if settings.max_grade_gap is not None:
            levels = np.sort(staff["level"].unique())
            for grade, count in rows["grade"].value_counts().sort_index().items():
                if not (np.abs(levels - grade) <= settings.max_grade_gap).any():
                    problems.append(
                        f"team {team!r}: {count:,} members of grade {grade} but no advisor within "
                        f"{settings.max_grade_gap} level(s) of it (levels in the team: "
                        f"{', '.join(map(str, levels))})"
                    )
    teams_without_members = sorted(set(active["team"]) - set(members["team"]))
    for team in teams_without_members:
        need = int(active.loc[active["team"] == team, "capacity_min"].sum())
        if need:
            problems.append(f"team {team!r} has active advisors needing {need:,} members (capacity_min) but no members")
    if problems:
        raise AssignmentError("no assignment is possible:\n  " + "\n  ".join(problems))


def _member_arcs(classes: pd.DataFrame, active: pd.DataFrame, settings: AssignmentSettings) -> pd.DataFrame:
    """Allowed class -> advisor arcs with their unit cost."""
    pairs = classes.reset_index().merge(active[["advisor_id", "team", "level"]].reset_index(names="advisor"), on="team")
    allowed = pairs["advisor_id"] != pairs["forbid"]
    gap = (pairs["grade"] - pairs["level"]).abs()
    if settings.max_grade_gap is not None:
        allowed &= gap <= settings.max_grade_gap
    pairs = pairs.loc[allowed]
    gap = gap[allowed]
    moved = (pairs["keep"] != "") & (pairs["advisor_id"] != pairs["keep"])
    pairs = pairs.assign(
        cost=settings.grade_weight * gap + settings.continuity_weight * moved,
        stays=pairs["advisor_id"] == pairs["keep"],
    )
    return pairs[["class", "advisor", "advisor_id", "size", "cost", "stays"]].reset_index(drop=True)


def _solve(
    classes: pd.DataFrame, arcs: pd.DataFrame, active: pd.DataFrame, n_members: int, settings: AssignmentSettings
) -> tuple[np.ndarray, int, int]:
    """The min-cost flow; returns the flow on each member arc, the optimal cost and the number of arcs."""
    n_classes = len(classes)
    sink = n_classes + len(active)
    flow = min_cost_flow.SimpleMinCostFlow()
    member_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        arcs["class"].to_numpy(np.int32),
        (n_classes + arcs["advisor"]).to_numpy(np.int32),
        arcs["size"].to_numpy(np.int64),
        arcs["cost"].to_numpy(np.int64),
    )
    tails, heads, capacities, costs = [], [], [], []
    for advisor, (low, high) in enumerate(zip(active["capacity_min"], active["capacity_max"])):
        width = int(high - low)
        parts = np.diff(np.linspace(0, width, min(BALANCE_SEGMENTS, width) + 1).round().astype(int))
        for step, capacity in enumerate(parts):
            tails.append(n_classes + advisor)
            heads.append(sink)
            capacities.append(capacity)
            costs.append(settings.balance_weight * step)
    if tails:
        flow.add_arcs_with_capacity_and_unit_cost(
            np.array(tails, np.int32),
            np.array(heads, np.int32),
            np.array(capacities, np.int64),
            np.array(costs, np.int64),
        )
    supplies = np.concatenate(
        [
            classes["size"].to_numpy(np.int64),
            -active["capacity_min"].to_numpy(np.int64),
            [-(n_members - int(active["capacity_min"].sum()))],
        ]
    )
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise AssignmentError(
            f"no assignment satisfies the capacities, grade gap and change requests together "
            f"(solver status {status}); check teams with few advisors and many change requests"
        )
    return flow.flows(member_arcs), flow.optimal_cost(), flow.num_arcs()


def _deal_out(members: pd.DataFrame, arcs: pd.DataFrame, active: pd.DataFrame) -> pd.DataFrame:
    """Give each member of a class one unit of the class's flow: those who may keep their advisor
    first, the most valuable first, then the other advisors in id order."""
    used = arcs.loc[arcs["flow"] > 0].sort_values(["class", "stays", "advisor_id"], ascending=[True, False, True])
    members = members.sort_values(["class", "value", "member_id"], ascending=[True, False, True], kind="stable")
    members["advisor_id"] = np.repeat(used["advisor_id"].to_numpy(), used["flow"].to_numpy())
    members["level"] = members["advisor_id"].map(active.set_index("advisor_id")["level"]).astype(int)
    return members


def _finish(members: pd.DataFrame, book: pd.DataFrame) -> pd.DataFrame:
    table = members.sort_values("member_id").reset_index(drop=True)
    table["changed"] = table["advisor_id"] != table["previous_advisor_id"]
    left = set(book.loc[~book["active"], "advisor_id"])
    previous_level = table["previous_advisor_id"].map(book.set_index("advisor_id")["level"])
    reasons = np.select(
        [
            ~table["changed"],
            table["previous_advisor_id"] == "",
            table["previous_advisor_id"].isin(left),
            table["forbid"] != "",
            table["previous_team"] == "",
            table["previous_team"] != table["team"],
            (table["grade"] - table["level"]).abs() < (table["grade"] - previous_level).abs(),
        ],
        [
            "kept",
            "first assignment",
            "advisor left",
            "asked for a new advisor",
            "previous advisor unknown",
            "team move: " + table["previous_team"] + " -> " + table["team"],
            "grade match",
        ],
        "book balance",
    )
    table["reason"] = reasons
    return table


def advisor_summary(table: pd.DataFrame, book: pd.DataFrame, settings: AssignmentSettings) -> pd.DataFrame:
    """One row per advisor: book size against capacity, members kept, gained and lost, value and grade mix."""
    load = table.groupby("advisor_id").agg(
        load=("member_id", "size"), value_held=("value", "sum"), mean_grade=("grade", "mean")
    )
    kept = table.loc[~table["changed"]].groupby("advisor_id").size()
    gained = table.loc[table["changed"]].groupby("advisor_id").size()
    lost = table.loc[table["changed"] & (table["previous_advisor_id"] != "")].groupby("previous_advisor_id").size()
    grades = pd.crosstab(table["advisor_id"], table["grade"]).reindex(
        columns=range(1, settings.grades + 1), fill_value=0
    )
    grades.columns = [f"grade_{g}" for g in grades.columns]
    summary = book[
        ["advisor_id", *[c for c in ("name", "team", "level", "active") if c in book], "capacity_min", "capacity_max"]
    ].set_index("advisor_id")
    summary = summary.join(load).join(grades)
    summary["kept"], summary["gained"], summary["lost"] = kept, gained, lost
    filled = ["load", "kept", "gained", "lost", *grades.columns]
    summary[filled] = summary[filled].fillna(0).astype(int)
    summary["value_held"] = summary["value_held"].fillna(0.0).round(2)
    summary["mean_grade"] = summary["mean_grade"].round(3)
    summary["within_capacity"] = ~summary["active"] & (summary["load"] == 0) | (
        summary["active"] & summary["load"].between(summary["capacity_min"], summary["capacity_max"])
    )
    return summary.reset_index()
