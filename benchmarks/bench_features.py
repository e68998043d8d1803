"""Member features: segkit (Ibis on DuckDB) against the alternatives, in one run.

    python benchmarks/bench_features.py                     # 1M members, ~10M transactions
    python benchmarks/bench_features.py --members 100000    # a quick run

Every method starts from the same Parquet file of transactions (read once beforehand,
so that the disk cache is warm for all) and ends with a pandas DataFrame of one row
per member. Each runs in its own process, so that its peak memory (max RSS) is its
own; seconds are the median of ``--repeat`` rounds (3). The outputs are checked
against each other before any time is printed: a fast wrong answer does not count.

Methods:
  segkit     segkit.features.member_features (Ibis -> DuckDB), all 16 features
  duckdb     the same features as a hand-written DuckDB SQL query
  pandas     the same features with pandas groupby
  lifetimes  lifetimes.utils.summary_data_from_transaction_data (freq="D"):
             4 columns (frequency, recency, T, monetary_value)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-03-31"
METHODS = ["segkit", "duckdb", "pandas", "lifetimes"]
TARGETS = {"duckdb": ("segkit / hand-written DuckDB", "<=", 1.5), "lifetimes": ("lifetimes / segkit", ">=", 10.0)}
PEAK_TARGET_MB = 4096

HAND_SQL = """
with daily as (
    select member_id, datediff('day', date '1970-01-01', cast(date as date)) as day,
           sum(amount) as net,
           sum(case when amount < 0 then -amount else 0 end) as refunded,
           sum(case when amount < 0 then 1 else 0 end) as refund_rows
    from read_parquet('{path}')
    where cast(date as date) <= date '{as_of}'
    group by 1, 2
),
money as (
    select member_id, sum(net) as monetary, sum(refunded) as refunds, sum(refund_rows) as refund_count
    from daily group by 1
),
purchases as (
    select member_id, day, net, day - lag(day) over (partition by member_id order by day) as gap
    from daily where net > 0 or (net = 0 and refund_rows = 0)
),
rhythm as (
    select member_id, min(day) as first_day, max(day) as last_day, count(*) as frequency,
           avg(net) as avg_order_value, count(gap) as gap_count, avg(gap) as gap_mean,
           median(gap) as gap_median, stddev_samp(gap) as gap_std, arg_max(gap, day) as last_gap,
           sum(ln(gap)) as sum_log_gaps
    from purchases group by 1
)
select m.member_id, m.monetary, m.refunds, m.refund_count, r.first_day, r.last_day,
       coalesce(r.frequency, 0) as frequency, r.avg_order_value, coalesce(r.gap_count, 0) as gap_count,
       r.gap_mean, r.gap_median, r.gap_std, r.last_gap, r.sum_log_gaps,
       datediff('day', date '1970-01-01', date '{as_of}') - r.last_day as recency_days,
       datediff('day', date '1970-01-01', date '{as_of}') - r.first_day as tenure_days
from money m left join rhythm r using (member_id)
order by m.member_id
"""


def run_segkit(path: str) -> pd.DataFrame:
    from segkit.features import member_features

    return member_features(path, AS_OF)


def run_duckdb(path: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        return con.sql(HAND_SQL.format(path=path, as_of=AS_OF)).df()


def run_pandas(path: str) -> pd.DataFrame:
    tx = pd.read_parquet(path, columns=["member_id", "date", "amount"])
    tx = tx[tx["date"] <= pd.Timestamp(AS_OF)]
    tx = tx.assign(day=tx["date"].dt.normalize(), refunded=(-tx["amount"]).clip(lower=0), refund_rows=tx["amount"] < 0)
    daily = (
        tx.groupby(["member_id", "day"], sort=True, observed=True)
        .agg(net=("amount", "sum"), refunded=("refunded", "sum"), refund_rows=("refund_rows", "sum"))
        .reset_index()
    )
    money = daily.groupby("member_id", sort=True).agg(
        monetary=("net", "sum"), refunds=("refunded", "sum"), refund_count=("refund_rows", "sum")
    )
    purchases = daily[(daily["net"] > 0) | ((daily["net"] == 0) & (daily["refund_rows"] == 0))].copy()
    same_member = purchases["member_id"].eq(purchases["member_id"].shift())
    purchases["gap"] = purchases["day"].diff().dt.days.where(same_member)
    purchases["log_gap"] = np.log(purchases["gap"])
    purchases["last_day"] = purchases.groupby("member_id")["day"].transform("max")
    by_member = purchases.groupby("member_id", sort=True)
    rhythm = by_member.agg(
        first_purchase=("day", "min"),
        last_purchase=("day", "max"),
        frequency=("day", "size"),
        avg_order_value=("net", "mean"),
        gap_count=("gap", "count"),
        gap_mean=("gap", "mean"),
        gap_median=("gap", "median"),
        gap_std=("gap", "std"),
        sum_log_gaps=("log_gap", lambda s: s.sum(min_count=1)),
    )
    rhythm["last_gap"] = purchases.loc[purchases["day"] == purchases["last_day"]].set_index("member_id")["gap"]
    out = money.join(rhythm, how="left").reset_index()
    as_of = pd.Timestamp(AS_OF)
    out["recency_days"] = (as_of - out["last_purchase"]).dt.days
    out["tenure_days"] = (as_of - out["first_purchase"]).dt.days
    return out


def run_lifetimes(path: str) -> pd.DataFrame:
    import warnings

    from lifetimes.utils import summary_data_from_transaction_data

    warnings.simplefilter("ignore")
    tx = pd.read_parquet(path, columns=["member_id", "date", "amount"])
    summary = summary_data_from_transaction_data(
        tx, "member_id", "date", monetary_value_col="amount", observation_period_end=AS_OF, freq="D"
    )
    return summary.reset_index()


def child(method: str, path: str, result: str) -> None:
    """Run one method, write its output, print seconds and peak memory as JSON."""
    start = time.perf_counter()
    frame = globals()[f"run_{method}"](path)
    seconds = time.perf_counter() - start
    peak_mb = peak_memory_mb()
    frame.to_parquet(result, index=False)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": len(frame)}))


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec; ru_maxrss
    would carry the parent's peak over fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_data(members: int, history_days: int, seed: int) -> Path:
    """The benchmark world's transactions (Parquet), generated once; its members are written beside them
    (``members_path``)."""
    path = ROOT / "data" / "generated" / "bench" / f"gas_{members}_{history_days}_{seed}.parquet"
    if not path.exists() or not members_path(path).exists():
        from segkit.synth import generate

        print(f"generating {members:,} gas households over {history_days} days ...", flush=True)
        start = time.perf_counter()
        world = generate("gas", members, seed=seed, as_of=AS_OF, history_days=history_days)
        path.parent.mkdir(parents=True, exist_ok=True)
        world.transactions.to_parquet(path, index=False)
        world.members.to_parquet(members_path(path), index=False)
        print(f"  {len(world.transactions):,} transactions in {time.perf_counter() - start:.0f} s -> {path}")
    return path


def members_path(transactions_path: Path) -> Path:
    return transactions_path.with_name(transactions_path.stem + "_members.parquet")


def check_agreement(outputs: dict[str, pd.DataFrame]) -> list[str]:
    """segkit must equal the hand-written SQL and pandas; lifetimes' columns must match segkit's."""
    problems = []
    reference = outputs["segkit"].set_index("member_id")
    epoch = pd.Timestamp("1970-01-01")
    for method in ("duckdb", "pandas"):
        if method not in outputs:
            continue
        other = outputs[method].set_index("member_id").loc[reference.index]
        if "first_day" in other:
            for day, date in (("first_day", "first_purchase"), ("last_day", "last_purchase")):
                other[date] = epoch + pd.to_timedelta(other.pop(day), unit="D")
        for column in reference.columns:
            a, b = reference[column], other[column]
            if pd.api.types.is_datetime64_any_dtype(a):
                same = (a == b) | (a.isna() & b.isna())
            else:
                a, b = a.astype(float), b.astype(float)
                same = np.isclose(a, b, rtol=1e-9, atol=1e-9) | (a.isna() & b.isna())
            if not same.all():
                problems.append(f"{method}: {column} differs for {int((~same).sum())} members")
    if "lifetimes" in outputs:
        lt = outputs["lifetimes"].set_index("member_id").loc[reference.index]
        buyers = reference["frequency"] > 0
        checks = {
            "frequency": (reference["frequency"] - 1)[buyers],
            "T": reference["tenure_days"][buyers].astype(float),
            "recency": (reference["tenure_days"] - reference["recency_days"])[buyers].astype(float),
        }
        for column, expected in checks.items():
            if not np.allclose(lt.loc[buyers, column].astype(float), expected.astype(float)):
                problems.append(f"lifetimes: {column} disagrees with segkit")
    return problems


def report_targets(verdicts: list[dict], path: Path, record: dict) -> int:
    """Print each target (``target``, ``value``, ``met``) as met or not, write ``record`` and the verdicts to
    ``path`` as JSON; 0 when every target is met."""
    print()
    for v in verdicts:
        print(f"  {'met    ' if v['met'] else 'NOT met'}  {v['target']}: {v['value']}")
    path.write_text(json.dumps({**record, "targets": verdicts}, indent=2))
    print(f"results: {path}")
    return 0 if all(v["met"] for v in verdicts) else 1


def bench_arguments(doc: str, methods: list[str]) -> argparse.Namespace:
    """The arguments every 1M-member benchmark takes; runs the child and exits when called as one."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--history-days", type=int, default=450, help="450 days gives ~10 transactions per member")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", nargs="+", choices=methods, default=methods)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is reported (default 3)")
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "INPUT", "RESULT"), help=argparse.SUPPRESS)
    return parser.parse_args()


def run_children(
    script: str, methods: list[str], path: Path, results_dir: Path, prefix: str, repeat: int = 1
) -> dict[str, dict]:
    """Run each method (segkit first) in its own process, so that its peak memory is its own;
    returns each method's JSON line, with ``seconds`` the median over ``repeat`` rounds and
    ``runs`` every round's seconds. The rounds take the methods in turn, so that a busy spell
    of the machine falls on all of them alike; the input is read once beforehand, so that no
    method pays for a cold disk cache. A failing method stops the benchmark."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path.read_bytes()
    runs: dict[str, list[dict]] = {}
    for round_ in range(1, repeat + 1):
        for method in ["segkit"] + [m for m in methods if m != "segkit"]:
            print(f"running {method} ({round_}/{repeat}) ...", flush=True)
            run = subprocess.run(
                [sys.executable, script, "--child", method, str(path), str(results_dir / f"{prefix}_{method}.parquet")],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                print(run.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{method} failed")
            runs.setdefault(method, []).append(json.loads(run.stdout.strip().splitlines()[-1]))
    return {
        method: {
            **rounds[-1],
            "seconds": float(np.median([r["seconds"] for r in rounds])),
            "peak_mb": max(r["peak_mb"] for r in rounds),
            "runs": [round(r["seconds"], 2) for r in rounds],
        }
        for method, rounds in runs.items()
    }


def main() -> int:
    args = bench_arguments(__doc__, METHODS)
    if args.child:
        child(*args.child)
        return 0

    path = ensure_data(args.members, args.history_days, args.seed)
    import pyarrow.parquet as pq

    n_rows = pq.ParquetFile(path).metadata.num_rows
    results_dir = ROOT / "benchmarks" / "results"
    timings = run_children(__file__, args.methods, path, results_dir, "features", args.repeat)
    outputs = {method: pd.read_parquet(results_dir / f"features_{method}.parquet") for method in timings}

    problems = check_agreement(outputs)
    base = timings["segkit"]["seconds"]
    print(f"\nmember features: {n_rows:,} transactions, {len(outputs['segkit']):,} members, as of {AS_OF}\n")
    print(f"{'method':<11}{'seconds':>9}{'x segkit':>10}{'peak MB':>10}  rounds")
    for method, t in timings.items():
        print(f"{method:<11}{t['seconds']:>9.2f}{t['seconds'] / base:>10.2f}{t['peak_mb']:>10.0f}  {t['runs']}")

    verdicts = []
    for method, (label, op, target) in TARGETS.items():
        if method in timings:
            ratio = base / timings[method]["seconds"] if method == "duckdb" else timings[method]["seconds"] / base
            ok = ratio <= target if op == "<=" else ratio >= target
            verdicts.append({"target": f"{label} {op} {target}", "ratio": round(ratio, 2), "met": ok})
    peak = timings["segkit"]["peak_mb"]
    verdicts.append(
        {"target": f"segkit peak memory < {PEAK_TARGET_MB} MB", "ratio": round(peak), "met": peak < PEAK_TARGET_MB}
    )
    print()
    for v in verdicts:
        print(f"  {'met    ' if v['met'] else 'NOT met'}  {v['target']}: {v['ratio']}")
    print("\noutputs agree" if not problems else "\nOUTPUTS DISAGREE:\n  " + "\n  ".join(problems))

    summary = {
        "transactions": n_rows,
        "members": len(outputs["segkit"]),
        "timings": timings,
        "targets": verdicts,
        "agreement_problems": problems,
    }
    (results_dir / "features.json").write_text(json.dumps(summary, indent=2))
    print(f"results: {results_dir / 'features.json'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
