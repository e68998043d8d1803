"""Overdue alerts on 1M members / ~10M transactions: segkit against the alternatives, in one run.

    python benchmarks/bench_alerts.py                        # 1M members (the target: < 60 s, < 4 GB)
    python benchmarks/bench_alerts.py --members 100000       # a quick run
    python benchmarks/bench_alerts.py --methods segkit fixed_rule

Every method starts from the same Parquet files (transactions, members) and ends
with the list of alerted members; each runs in its own process so that its peak
memory is its own.

Methods:
  segkit      segkit.churn.churn_alerts: gaps in DuckDB, the lifelines group model,
              empirical-Bayes member rhythms, calibration, P(active), reasons
  fixed_rule  the distributor's rule in hand-written DuckDB SQL: last purchase more than
              30 (and at most 180) days ago; the speed floor, with no model at all
  lifetimes   lifetimes' BG/NBD: summary_data_from_transaction_data, BetaGeoFitter.fit,
              conditional_probability_alive below the same threshold (needs the bench extra)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
from bench_features import (
    AS_OF,
    ROOT,
    bench_arguments,
    ensure_data,
    members_path,
    peak_memory_mb,
    report_targets,
    run_children,
)

METHODS = ["segkit", "fixed_rule", "lifetimes"]
SECONDS_TARGET, PEAK_TARGET_MB = 60.0, 4096
THRESHOLD = 0.6


def run_segkit(path: Path) -> pd.DataFrame:
    from segkit.churn import churn_alerts

    members = pd.read_parquet(members_path(path), columns=["member_id", "household_size"])
    return churn_alerts(str(path), AS_OF, members).alerts


def run_fixed_rule(path: Path) -> pd.DataFrame:
    import duckdb

    sql = f"""
        select member_id, max(cast(date as date)) as last_purchase
        from read_parquet('{path}') where amount > 0 and cast(date as date) <= date '{AS_OF}'
        group by 1
        having date '{AS_OF}' - max(cast(date as date)) between 31 and 180
    """
    with duckdb.connect() as con:
        return con.sql(sql).df()


def run_lifetimes(path: Path) -> pd.DataFrame:
    import warnings

    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    warnings.simplefilter("ignore")
    tx = pd.read_parquet(path, columns=["member_id", "date", "amount"])
    summary = summary_data_from_transaction_data(tx, "member_id", "date", observation_period_end=AS_OF, freq="D")
    model = BetaGeoFitter(penalizer_coef=0.001).fit(summary["frequency"], summary["recency"], summary["T"])
    alive = model.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    recent = (summary["T"] - summary["recency"]) <= 180
    return summary.index[(alive < THRESHOLD) & recent].to_frame(index=False)


def child(method: str, path: str, result: str) -> None:
    start = time.perf_counter()
    frame = globals()[f"run_{method}"](Path(path))
    seconds = time.perf_counter() - start
    frame.to_parquet(result, index=False)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_memory_mb(), "alerts": len(frame)}))


def main() -> int:
    args = bench_arguments(__doc__, METHODS)
    if args.child:
        child(*args.child)
        return 0

    path = ensure_data(args.members, args.history_days, args.seed)
    import pyarrow.parquet as pq

    n_rows = pq.ParquetFile(path).metadata.num_rows
    results = ROOT / "benchmarks" / "results"
    timings = run_children(__file__, args.methods, path, results, "alerts", args.repeat)

    base = timings["segkit"]["seconds"]
    print(f"\noverdue alerts: {n_rows:,} transactions, {args.members:,} members, as of {AS_OF}\n")
    print(f"{'method':<12}{'seconds':>9}{'x segkit':>10}{'peak MB':>10}{'alerts':>10}  rounds")
    for method, t in timings.items():
        print(
            f"{method:<12}{t['seconds']:>9.2f}{t['seconds'] / base:>10.2f}{t['peak_mb']:>10.0f}{t['alerts']:>10,}"
            f"  {t['runs']}"
        )
    peak = timings["segkit"]["peak_mb"]
    verdicts = [
        {"target": f"segkit under {SECONDS_TARGET:.0f} s", "value": round(base, 1), "met": base < SECONDS_TARGET},
        {"target": f"segkit peak memory under {PEAK_TARGET_MB} MB", "value": round(peak), "met": peak < PEAK_TARGET_MB},
    ]
    return report_targets(
        verdicts, results / "alerts.json", {"transactions": n_rows, "members": args.members, "timings": timings}
    )


if __name__ == "__main__":
    sys.exit(main())
