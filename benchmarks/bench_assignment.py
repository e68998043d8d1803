"""Advisor assignment at scale: the grouped min-cost flow beside the member-by-member graph, in one run.

    python benchmarks/bench_assignment.py                        # 100,000 members x 200 advisors (target < 10 s)
    python benchmarks/bench_assignment.py --members 20000 --advisors 40

The world: four teams, three grades and levels, every member with a current
advisor of their team at the start, 1 % asking for a new advisor, 5 % of the
advisors gone (their books must move), 10 % of the members in a new team (a
lifecycle change), books of 400-700 (100,000 members over 200 advisors leave
no room for 500-800). Both solves are OR-Tools ``SimpleMinCostFlow`` on the
same costs and must reach the same optimal cost; the time includes building
the graph and dealing the flow out to members.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segkit.advisors import AssignmentSettings, assign_advisors  # noqa: E402

TARGET_SECONDS = 10.0
TEAMS = ["new-member service", "regular service", "VIP service", "win-back"]


def world(n_members: int, n_advisors: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    team_share = np.array([0.15, 0.45, 0.1, 0.3])
    advisor_team = np.repeat(TEAMS, np.round(team_share * n_advisors).astype(int))[:n_advisors]
    advisors = pd.DataFrame(
        {
            "advisor_id": [f"A{i:04d}" for i in range(len(advisor_team))],
            "team": advisor_team,
            "level": rng.choice([1, 2, 3], len(advisor_team), p=[0.5, 0.3, 0.2]),
            "capacity_min": 400,
            "capacity_max": 700,
            "active": rng.random(len(advisor_team)) >= 0.05,
        }
    )
    active = advisors.loc[advisors["active"]]
    seats = active.groupby("team").size() * 550.0  # members per team near mid-book
    team = rng.choice(seats.index.to_numpy(), n_members, p=(seats / seats.sum()).to_numpy())
    moved = rng.random(n_members) < 0.10
    before = np.where(moved, rng.choice(TEAMS, n_members), team)
    by_team = {t: rows["advisor_id"].to_numpy() for t, rows in advisors.groupby("team")}
    previous = np.array([rng.choice(by_team[t]) for t in before])
    graded = pd.DataFrame(
        {
            "member_id": [f"{i:07d}" for i in range(n_members)],
            "grade": rng.choice([1, 2, 3], n_members, p=[0.5, 0.3, 0.2]),
            "team": team,
            "value": rng.gamma(2, 800, n_members).round(2),
            "advisor_id": previous,
            "wants_new_advisor": rng.random(n_members) < 0.01,
        }
    )
    return graded, advisors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--advisors", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    graded, advisors = world(args.members, args.advisors, args.seed)
    settings = AssignmentSettings()
    print(f"{len(graded):,} members, {len(advisors):,} advisors ({int(advisors['active'].sum())} active)")
    results = {}
    for name, group in (("segkit (grouped classes)", True), ("full graph (a node per member)", False)):
        started = time.perf_counter()
        assignment = assign_advisors(graded, advisors, settings, group=group)
        results[name] = (time.perf_counter() - started, assignment)
        print(f"  {name}: {assignment!r}")
    (fast, grouped), (slow, single) = results.values()
    if grouped.cost != single.cost:
        raise SystemExit(f"the optimal costs differ: {grouped.cost} vs {single.cost}")
    print("\n| method | seconds | nodes | arcs | optimal cost |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (seconds, assignment) in results.items():
        print(
            f"| {name} | {seconds:.2f} | {assignment.solver['nodes']:,} | {assignment.solver['arcs']:,} | "
            f"{assignment.cost['total']:,} |"
        )
    print(
        f"\nfull graph / grouped: {slow / fast:.1f}x; same optimal cost {grouped.cost['total']:,}; "
        f"grouped {'meets' if fast < TARGET_SECONDS else 'MISSES'} the {TARGET_SECONDS:.0f} s target ({fast:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
