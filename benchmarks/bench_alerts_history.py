"""The alert run's peak memory against the length of the history: the same households, 3.4x the transactions.

    python benchmarks/bench_alerts_history.py                     # 1.6M households, 900 to 3,600 days
    python benchmarks/bench_alerts_history.py --members 200000    # a quick run

One world of gas households is generated over the longest history. The households who bought in its last
900 days are kept, with their last 900, 1,800 and 3,600 days: the same buyers and the same last purchases,
so the same per-member table, with about 2x and 3.4x the transactions. Each history is written in member
order and scored in its own process (so that its peak memory is its own), two ways:

  segkit     ``segkit.churn.churn_alerts`` from Parquet: the gap table kept a range of members at a time
             (``segkit.features.GapTable``), the rhythm fitted in passes over the ranges
  in pandas  the same rhythm fitted and scored on the whole gap table in pandas (``purchase_gaps``, then
             ``IntervalModel.fit`` and ``predict``), as the alert run did before 2026-12-02

A range of members (``segkit.engine.member_ranges``) holds up to about 8.4M transactions; what segkit holds
at once grows with the range until ranges are full (here 6.2M to 7.9M transactions each) and then stays.
The targets: segkit's peak grows by at most a quarter of what the whole table in pandas adds, and with the
longest history it is at most two thirds of it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from bench_10m import ensure_world
from bench_features import AS_OF, ROOT, peak_memory_mb, report_targets

HISTORIES = [900, 1800, 3600]
SHARDS = 4  # the world is generated a quarter at a time: 800,000 households over ten years at once need > 24 GB
# (the default 1.6M households: 400,000 a shard)
METHODS = ["segkit", "in pandas"]
GROWTH_SHARE_TARGET, PEAK_SHARE_TARGET = 0.25, 2 / 3


def child(method: str, path: str, members_file: str) -> None:
    from segkit.churn import AlertSettings, churn_alerts
    from segkit.features import purchase_gaps

    members = pd.read_parquet(members_file, columns=["member_id", "household_size"])
    start = time.perf_counter()
    if method == "segkit":
        run = churn_alerts(path, AS_OF, members)
        held, scored = repr(run.gaps).split(", ")[-1].rstrip(">"), len(run.members)
    else:
        gaps = purchase_gaps(path, AS_OF, members)
        scored = len(AlertSettings().model().fit(gaps).predict(gaps))
        held = f"{len(gaps):,} rows in pandas"
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_memory_mb(), "held": held, "scored": scored}))


def histories(source: Path, folder: Path) -> dict[int, tuple[Path, int]]:
    """Each history's transactions (the last ``days`` days of ``source``, of the households who bought in the
    shortest) in member order, and their rows."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    with duckdb.connect() as con:
        con.sql("SET memory_limit='4GB'")
        for days in HISTORIES:
            path = folder / f"last_{days}_days.parquet"
            recent = f"cast(date as date) > date '{AS_OF}' - interval {HISTORIES[0]} day"
            buyers = f"member_id IN (SELECT member_id FROM '{source}' WHERE {recent})"
            within = f"cast(date as date) > date '{AS_OF}' - interval {days} day"
            if not path.exists():
                con.sql(
                    f"COPY (FROM '{source}' WHERE {within} AND {buyers} ORDER BY member_id, date) "
                    f"TO '{path}' (FORMAT parquet)"
                )
            out[days] = path, con.sql(f"SELECT count(*) FROM '{path}'").fetchall()[0][0]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_600_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "TRANSACTIONS", "MEMBERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    world = ensure_world(SHARDS, args.members // SHARDS, max(HISTORIES), args.seed)
    files = histories(world / "transactions.parquet", world / "histories")
    runs: dict[str, dict[int, dict]] = {method: {} for method in METHODS}
    for days, (path, rows) in files.items():
        for method in METHODS:
            print(f"running {method} on the last {days:,} days ({rows:,} transactions) ...", flush=True)
            command = [sys.executable, __file__, "--child", method, str(path), str(world / "members.parquet")]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode:
                print(run.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{method} on {days} days failed")
            runs[method][days] = {"transactions": rows, **json.loads(run.stdout.strip().splitlines()[-1])}
    print(f"\n{args.members:,} gas households, alerts as of {AS_OF} from Parquet in member order\n")
    print(f"{'history':>9} {'transactions':>13} {'method':>10} {'gaps held as':>26} {'seconds':>8} {'peak MB':>8}")
    for days in HISTORIES:
        for method in METHODS:
            run = runs[method][days]
            print(
                f"{days:>7} d {run['transactions']:>13,} {method:>10} {run['held']:>26} {run['seconds']:>8.1f} "
                f"{run['peak_mb']:>8,.0f}"
            )
    first, last = HISTORIES[0], HISTORIES[-1]
    rows_ratio = runs["segkit"][last]["transactions"] / runs["segkit"][first]["transactions"]
    growth = {method: runs[method][last]["peak_mb"] - runs[method][first]["peak_mb"] for method in METHODS}
    growth_share = growth["segkit"] / growth["in pandas"]
    peak_share = runs["segkit"][last]["peak_mb"] / runs["in pandas"][last]["peak_mb"]
    print(
        f"\nwith x{rows_ratio:.2f} the transactions the peak grows by {growth['segkit']:,.0f} MB (segkit) and "
        f"{growth['in pandas']:,.0f} MB (in pandas): segkit / in pandas = {growth_share:.2f}; at {last:,} days "
        f"segkit's peak / in pandas' = {peak_share:.2f}"
    )
    verdicts = [
        {
            "target": f"segkit's peak growth / in pandas' <= {GROWTH_SHARE_TARGET}",
            "value": round(growth_share, 3),
            "met": growth_share <= GROWTH_SHARE_TARGET,
        },
        {
            "target": f"segkit's peak / in pandas' at {last:,} days <= {PEAK_SHARE_TARGET:.2f}",
            "value": round(peak_share, 3),
            "met": peak_share <= PEAK_SHARE_TARGET,
        },
    ]
    record = {"members": args.members, "as_of": AS_OF, "runs": runs}
    return report_targets(verdicts, ROOT / "benchmarks" / "results" / "alerts_history.json", record)


if __name__ == "__main__":
    sys.exit(main())
