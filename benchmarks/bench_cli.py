"""The user's path at scale: `segkit alerts` from the CRM's CSV against the Python API on Parquet, in one run.

    python benchmarks/bench_cli.py                        # 1M gas households, ~16M transactions (730 days)
    python benchmarks/bench_cli.py --members 100000       # a quick run

One generated world is written both as CSV (what a CRM exports) and as Parquet, and its transactions once more
as a Chinese call center's CRM exports them on Windows: GBK, lines ending in CRLF, Chinese headers and channels,
read through a column mapping.
Each method runs in its own process, so that its peak memory is its own:

  cli_csv      segkit.cli.main(["alerts", "--transactions", "transactions.csv", "--members", "members.csv", ...]):
               the command a user types, loading both files through the contract (rejects, counts)
  cli_gbk      the same command on transactions_gbk_crlf.csv with --mapping transactions_gbk.yaml
  api_parquet  segkit.churn_alerts("transactions.parquet", as_of, members, settings).write(out)

The outputs (alerts.csv and alerts.member_rhythms.csv) must be identical, byte for byte, before a time is
printed. Targets (issue 18): the CLI on 1M households under 2 minutes and 4 GB, from either export.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from bench_features import AS_OF, ROOT, peak_memory_mb, report_targets

METHODS = ["cli_csv", "cli_gbk", "api_parquet"]
GBK_HEADER = "会员编号,充装日期,金额,订单号,数量,产品,渠道,状态\r\n"  # member_id, date, amount, order_id, quantity, ...
GBK_MAPPING = """table: transactions
columns: {会员编号: member_id, 充装日期: date, 金额: amount, 订单号: order_id, 数量: quantity, 产品: product,
  渠道: channel, 状态: status}
"""
CHANNELS = {"phone": "电话", "wechat": "微信", "app": "手机应用", "walk-in": "门店"}
SETTINGS = ROOT / "data" / "samples" / "alerts_gas.yaml"
SECONDS_TARGET, PEAK_TARGET_MB = 120.0, 4096


def ensure_world(members: int, history_days: int, seed: int) -> Path:
    """The benchmark world as CSV and as Parquet (one generation, both formats), written once."""
    folder = ROOT / "data" / "generated" / "bench" / f"gas_{members}_{history_days}_{seed}_world"
    wanted = [folder / f"{table}.{fmt}" for table in ("transactions", "members") for fmt in ("csv", "parquet")]
    if not all(path.exists() for path in wanted):
        from segkit.synth import generate

        print(f"generating {members:,} gas households over {history_days} days ...", flush=True)
        start = time.perf_counter()
        world = generate("gas", members, seed=seed, as_of=AS_OF, history_days=history_days)
        for fmt in ("csv", "parquet"):
            world.write(folder, fmt=fmt)
        print(f"  {len(world.transactions):,} transactions in {time.perf_counter() - start:.0f} s -> {folder}")
    return folder


def ensure_gbk_export(world: Path) -> None:
    """``transactions_gbk_crlf.csv`` (the transactions in GBK, lines ending in CRLF, with Chinese headers and
    channels, which the alerts do not show, so that their files stay comparable) and its mapping
    ``transactions_gbk.yaml``, written once."""
    export = world / "transactions_gbk_crlf.csv"
    (world / "transactions_gbk.yaml").write_text(GBK_MAPPING, encoding="utf-8")
    if export.exists():
        return
    print(f"writing {export.name} ...", flush=True)
    with (
        open(world / "transactions.csv", encoding="utf-8-sig") as source,
        open(export.with_suffix(".tmp"), "w", encoding="gbk", newline="") as target,
    ):
        source.readline()
        target.write(GBK_HEADER)
        while lines := source.readlines(1 << 24):
            rows = (line.rstrip("\n").rsplit(",", 2) for line in lines)  # no commas in channels and statuses
            target.writelines(f"{head},{CHANNELS.get(channel, channel)},{status}\r\n" for head, channel, status in rows)
    export.with_suffix(".tmp").rename(export)


def run_cli_csv(world: Path, out: Path, transactions: str = "transactions.csv", mapping: list[str] = ()) -> None:
    from segkit.cli import main

    code = main(
        [
            "alerts",
            "--transactions",
            str(world / transactions),
            *mapping,
            "--members",
            str(world / "members.csv"),
            "--as-of",
            AS_OF,
            "--settings",
            str(SETTINGS),
            "--out",
            str(out / "alerts.csv"),
        ]
    )
    if code:
        raise SystemExit(f"segkit alerts exited with {code}")


def run_cli_gbk(world: Path, out: Path) -> None:
    run_cli_csv(world, out, "transactions_gbk_crlf.csv", ["--mapping", str(world / "transactions_gbk.yaml")])


def run_api_parquet(world: Path, out: Path) -> None:
    from segkit.churn import churn_alerts

    members = pd.read_parquet(world / "members.parquet")
    churn_alerts(str(world / "transactions.parquet"), AS_OF, members, SETTINGS).write(out / "alerts.csv")


def child(method: str, world: str, out: str) -> None:
    start = time.perf_counter()
    globals()[f"run_{method}"](Path(world), Path(out))
    seconds = time.perf_counter() - start
    alerts = len(pd.read_csv(Path(out) / "alerts.csv", usecols=[0]))
    print(json.dumps({"seconds": seconds, "peak_mb": peak_memory_mb(), "alerts": alerts}))


def run(method: str, world: Path, out: Path) -> dict:
    """One method in its own process (so that its peak memory is its own); its JSON line."""
    print(f"running {method} ...", flush=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", method, str(world), str(out)], capture_output=True, text=True
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{method} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--history-days", type=int, default=730, help="730 days gives ~16 transactions per member")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "WORLD", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    world = ensure_world(args.members, args.history_days, args.seed)
    ensure_gbk_export(world)
    results = ROOT / "benchmarks" / "results"
    outputs = {method: results / f"cli_{method}" for method in METHODS}
    for name in ("transactions.csv", "transactions_gbk_crlf.csv"):
        (world / name).read_bytes()  # a warm disk cache for each
    timings = {method: run(method, world, outputs[method]) for method in METHODS}
    for name in ("alerts.csv", "alerts.member_rhythms.csv"):
        first, *others = (outputs[method] / name for method in METHODS)
        for other in others:
            if not filecmp.cmp(first, other, shallow=False):
                print(f"the methods disagree: {first} != {other}", file=sys.stderr)
                return 1
    print("the CLI from CSV and from GBK and the API from Parquet wrote identical alert lists and member rhythms")

    n_rows = pq.ParquetFile(world / "transactions.parquet").metadata.num_rows
    print(f"\noverdue alerts: {n_rows:,} transactions, {args.members:,} households, as of {AS_OF}\n")
    base = timings["api_parquet"]["seconds"]
    print(f"{'method':<13}{'seconds':>9}{'x api':>8}{'peak MB':>10}{'alerts':>10}")
    for method, t in timings.items():
        print(f"{method:<13}{t['seconds']:>9.1f}{t['seconds'] / base:>8.2f}{t['peak_mb']:>10.0f}{t['alerts']:>10,}")
    verdicts = []
    for method, export in (("cli_csv", "CSV"), ("cli_gbk", "GBK")):
        cli = timings[method]
        verdicts += [
            {
                "target": f"CLI from {export} under {SECONDS_TARGET:.0f} s",
                "value": round(cli["seconds"], 1),
                "met": cli["seconds"] < SECONDS_TARGET,
            },
            {
                "target": f"CLI from {export} peak memory under {PEAK_TARGET_MB} MB",
                "value": round(cli["peak_mb"]),
                "met": cli["peak_mb"] < PEAK_TARGET_MB,
            },
        ]
    return report_targets(
        verdicts, results / "cli.json", {"transactions": n_rows, "members": args.members, "timings": timings}
    )


if __name__ == "__main__":
    sys.exit(main())
