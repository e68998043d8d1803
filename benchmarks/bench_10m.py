"""10M gas households (about 107M transactions) on one machine: `segkit features`, `segment` and `alerts` from
Parquet, each in its own process, with its time and peak memory.

    python benchmarks/bench_10m.py                      # 10 shards of 1M households, 450 days (~107M rows)
    python benchmarks/bench_10m.py --shards 2           # a quicker run on 2M households

The world is generated once, a shard of 1M households at a time (one generation of 10M would need more
memory than the machine has), each shard with its own seed and its ids prefixed with the shard's number,
and the shards are joined into one Parquet file per table by DuckDB. Each verb then runs as a user runs it:
``segkit.cli.main([...])`` with ``--transactions transactions.parquet --members members.parquet``, loading
both through the contract, with DuckDB's memory limit at ``--duckdb-memory`` (segkit's default, 1GB: the
queries grouped by member run a range of members at a time, so 10M households need no more than 1M).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_features import AS_OF, ROOT, peak_memory_mb

from segkit.engine import DUCKDB_MEMORY_LIMIT

VERBS = ["features", "segment", "alerts"]
SETTINGS = {"alerts": ROOT / "data" / "samples" / "alerts_gas.yaml"}


def ensure_world(shards: int, per_shard: int, history_days: int, seed: int) -> Path:
    folder = ROOT / "data" / "generated" / "bench" / f"gas_{shards}x{per_shard}_{history_days}_{seed}"
    if (folder / "transactions.parquet").exists() and (folder / "members.parquet").exists():
        return folder
    import duckdb

    from segkit.synth import generate

    parts = folder / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    for shard in range(shards):
        if (parts / f"members_{shard}.parquet").exists():
            continue
        start = time.perf_counter()
        world = generate("gas", per_shard, seed=seed + shard, as_of=AS_OF, history_days=history_days)
        for table in ("transactions", "members"):
            frame = getattr(world, table)
            frame["member_id"] = f"{shard}" + frame["member_id"].astype(str)
            if "order_id" in frame:
                frame["order_id"] = f"S{shard}-" + frame["order_id"].astype(str)
            frame.to_parquet(parts / f"{table}_{shard}.parquet", index=False)
        print(
            f"shard {shard + 1}/{shards}: {len(world.transactions):,} transactions in "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
        del world
    with duckdb.connect() as con:
        con.sql("SET memory_limit='4GB'")
        for table in ("transactions", "members"):
            con.sql(
                f"COPY (SELECT * FROM read_parquet('{parts}/{table}_*.parquet')) "
                f"TO '{folder / table}.parquet' (FORMAT parquet)"
            )
    for part in parts.iterdir():
        part.unlink()
    parts.rmdir()
    return folder


def child(verb: str, world: str, out: str) -> None:
    from segkit.cli import main

    arguments = [
        verb,
        "--transactions",
        f"{world}/transactions.parquet",
        "--members",
        f"{world}/members.parquet",
        "--as-of",
        AS_OF,
        "--out",
        out,
    ]
    if verb in SETTINGS:
        arguments += ["--settings", str(SETTINGS[verb])]
    start = time.perf_counter()
    code = main(arguments)
    seconds = time.perf_counter() - start
    if code:
        raise SystemExit(f"segkit {verb} exited with {code}")
    print(json.dumps({"seconds": seconds, "peak_mb": peak_memory_mb()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--per-shard", type=int, default=1_000_000, help="households per shard")
    parser.add_argument("--history-days", type=int, default=450)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbs", nargs="+", choices=VERBS, default=VERBS)
    parser.add_argument(
        "--duckdb-memory",
        default=DUCKDB_MEMORY_LIMIT,
        help=f"SEGKIT_DUCKDB_MEMORY_LIMIT for the verbs (default segkit's, {DUCKDB_MEMORY_LIMIT})",
    )
    parser.add_argument("--child", nargs=3, metavar=("VERB", "WORLD", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    import pyarrow.parquet as pq

    world = ensure_world(args.shards, args.per_shard, args.history_days, args.seed)
    rows = pq.ParquetFile(world / "transactions.parquet").metadata.num_rows
    households = pq.ParquetFile(world / "members.parquet").metadata.num_rows
    results = ROOT / "benchmarks" / "results"
    timings = {}
    for verb in args.verbs:
        print(f"running segkit {verb} ...", flush=True)
        out = results / "10m" / f"{verb}.csv"
        done = subprocess.run(
            [sys.executable, __file__, "--child", verb, str(world), str(out)],
            capture_output=True,
            text=True,
            env={**os.environ, "SEGKIT_DUCKDB_MEMORY_LIMIT": args.duckdb_memory},
        )
        if done.returncode != 0:  # recorded, and the other verbs still run (-9: killed for memory)
            print(done.stderr[-1500:], file=sys.stderr)
            timings[verb] = {"seconds": float("nan"), "peak_mb": float("nan"), "exit": done.returncode}
            continue
        timings[verb] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {timings[verb]['seconds']:.0f} s, peak {timings[verb]['peak_mb']:,.0f} MB", flush=True)
    print(
        f"\n{households:,} gas households, {rows:,} transactions, from Parquet, as of {AS_OF}; "
        f"SEGKIT_DUCKDB_MEMORY_LIMIT={args.duckdb_memory}\n"
    )
    print(f"{'segkit verb':<14}{'seconds':>9}{'peak MB':>10}  exit")
    for verb, t in timings.items():
        print(f"{verb:<14}{t['seconds']:>9.0f}{t['peak_mb']:>10,.0f}  {t.get('exit', 0)}")
    (results / "10m.json").write_text(
        json.dumps(
            {
                "transactions": rows,
                "households": households,
                "duckdb_memory_limit": args.duckdb_memory,
                "timings": timings,
            },
            indent=2,
        )
    )
    print(f"results: {results / '10m.json'}")
    return 0 if all("exit" not in t for t in timings.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
