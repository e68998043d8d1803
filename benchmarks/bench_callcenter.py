"""The daily call-center export against a growing contact ledger: embedded SQLite beside PostgreSQL.

    python benchmarks/bench_callcenter.py                          # 200,000 members, 60 days
    python benchmarks/bench_callcenter.py --members 50000 --days 20
    SEGKIT_TEST_POSTGRES_URL=postgresql+psycopg://segkit@localhost/segkit_test PGPASSWORD=... \\
        python benchmarks/bench_callcenter.py                      # adds PostgreSQL (tables are dropped first)

Each simulated day, ``--candidates`` random members are alerted; ``export_list``
paces them against the ledger (window, monthly cap, do-not-call, outcomes),
records the list in one transaction and writes call_list.csv/.xlsx and
held_back.csv. A share of the listed calls gets an outcome the next day. The
same days run on each ledger; the lists must be identical, and the time per day
is printed side by side, with the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segkit.callcenter import Ledger, export_list, import_outcomes  # noqa: E402

START = pd.Timestamp("2026-01-01")


def world(n_members: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_advisors = max(1, n_members // 650)
    advisors = pd.DataFrame(
        {
            "advisor_id": [f"A{i:04d}" for i in range(n_advisors)],
            "level": rng.integers(1, 4, n_advisors),
            "team": rng.choice(["new", "regular", "vip"], n_advisors),
            "daily_calls": 40,
        }
    )
    members = pd.DataFrame(
        {
            "member_id": [f"{i:07d}" for i in range(n_members)],
            "name": "member",
            "phone": [f"13{i:09d}" for i in range(n_members)],
            "tier": rng.choice(["", "gold", "platinum", "diamond"], n_members, p=[0.7, 0.2, 0.07, 0.03]),
            "advisor_id": advisors["advisor_id"].to_numpy()[rng.integers(0, n_advisors, n_members)],
            "do_not_call": rng.random(n_members) < 0.03,
        }
    )
    return members, advisors


def run_days(
    ledger: Ledger, members: pd.DataFrame, advisors: pd.DataFrame, days: int, candidates: int, seed: int, out: Path
) -> tuple[list[float], list[pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    seconds, lists = [], []
    codes = np.array(["reached", "no_answer", "won_back", "switched_supplier", "do_not_call"])
    for day in range(days):
        as_of = START + pd.Timedelta(days=day)
        ids = members["member_id"].to_numpy()[rng.choice(len(members), candidates, replace=False)]
        alerted = pd.DataFrame(
            {
                "member_id": ids,
                "campaign": "churn",
                "reason": "overdue",
                "due_date": as_of - pd.Timedelta(days=10),
                "vip": False,
                "value_at_risk": rng.gamma(2.0, 300.0, candidates).round(2),
            }
        )
        started = time.perf_counter()
        export = export_list(alerted, members, as_of, ledger, out / f"{as_of:%Y-%m-%d}", run="churn", advisors=advisors)
        seconds.append(time.perf_counter() - started)
        lists.append(export.call_list[["alert_id", "priority", "call_by"]])
        answered = export.call_list.sample(frac=0.6, random_state=day)
        import_outcomes(
            pd.DataFrame(
                {
                    "alert_id": answered["alert_id"],
                    "outcome": rng.choice(codes, len(answered), p=[0.5, 0.3, 0.1, 0.07, 0.03]),
                    "outcome_date": f"{as_of + pd.Timedelta(days=1):%Y-%m-%d}",
                }
            ),
            ledger,
        )
    return seconds, lists


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--candidates", type=int, default=5_000, help="alerted members per day")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    members, advisors = world(args.members, args.seed)
    ledgers = {}
    work = Path(tempfile.mkdtemp(prefix="segkit_bench_callcenter_"))
    ledgers["SQLite (embedded)"] = Ledger(work / "ledger.sqlite")
    url = os.environ.get("SEGKIT_TEST_POSTGRES_URL")
    if url:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.begin() as con:
            for table in ("segkit_outcomes", "segkit_contacts", "segkit_runs", "segkit_meta"):
                con.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
        ledgers["PostgreSQL"] = Ledger(url)
    else:
        print("SEGKIT_TEST_POSTGRES_URL not set: SQLite only")

    print(f"{args.members:,} members, {len(advisors):,} advisors, {args.days} days x {args.candidates:,} alerts")
    results, reference = {}, None
    for name, ledger in ledgers.items():
        seconds, lists = run_days(
            ledger, members, advisors, args.days, args.candidates, args.seed, work / name.split()[0]
        )
        if reference is None:
            reference = lists
        elif not all(a.equals(b) for a, b in zip(reference, lists)):
            raise SystemExit(f"{name}: the call lists differ from the first ledger's")
        results[name] = seconds
        print(f"  {name}: {ledger}")
    shutil.rmtree(work, ignore_errors=True)

    first = next(iter(results))
    print(f"\n| ledger | first day s | last day s | median day s | total s | vs {first} |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, seconds in results.items():
        ratio = np.sum(seconds) / np.sum(results[first])
        print(
            f"| {name} | {seconds[0]:.2f} | {seconds[-1]:.2f} | {np.median(seconds):.2f} | {np.sum(seconds):.1f} "
            f"| {ratio:.2f}x |"
        )
    print(f"\nthe lists are identical on every ledger ({sum(len(x) for x in reference):,} calls in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
