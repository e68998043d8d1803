"""segkit on a Spark cluster (``con=``) against segkit on DuckDB: the same workflows on the same world, one run.

    python benchmarks/bench_spark.py                                  # 1M households; a cluster started here
    python benchmarks/bench_spark.py --members 100000                 # a quicker run
    python benchmarks/bench_spark.py --master spark://host:7077       # a cluster you already run

Without ``--master`` a standalone Spark cluster (one master, one worker with every core) is started from
PySpark's own installation and stopped at the end: the route of a real cluster (a driver that talks to a
master, executors in their own JVMs reading the Parquet files themselves), on this one machine. Each
workflow runs in its own process as a user would write it: an Ibis connection to the cluster, the
transactions read by Spark (``con.read_parquet``), ``member_features(..., con=con)`` and
``churn_alerts(..., con=con)``; then the same calls on DuckDB. The outputs must agree (features to 1e-9,
the alert list exactly) before a time is printed. Peak memory is the sum of the resident memory of every
process of the run (the driver, its JVM, the executors), sampled every 0.2 s.

Spark 4 refuses Parquet timestamps in nanoseconds (pandas' default unit), so the world is written for Spark
with microseconds (``coerce_timestamps="us"``); DuckDB reads that same file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from argparse import SUPPRESS
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.parquet as pq
from bench_features import AS_OF, ROOT, ensure_data, members_path

SETTINGS = ROOT / "data" / "samples" / "alerts_gas.yaml"
WORKFLOWS = ["features", "alerts"]
EXECUTOR_MEMORY = "6g"
DRIVER_MEMORY = "2g"  # the driver collects a range of members' results at a time (Spark's default: 1g)


def spark_world(members: int, history_days: int, seed: int) -> Path:
    """The benchmark world with timestamps in microseconds, which Spark reads (written once)."""
    source = ensure_data(members, history_days, seed)
    folder = source.parent / f"{source.stem}_spark"
    for table, path in (("transactions", source), ("members", members_path(source))):
        target = folder / f"{table}.parquet"
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pq.read_table(path), target, coerce_timestamps="us")
    return folder


class StandaloneCluster:
    """A Spark standalone master and one worker on this machine, from PySpark's installation."""

    def __init__(self, work: Path, cores: int, memory: str):
        import pyspark

        self.home = Path(pyspark.__file__).parent
        self.work, self.cores, self.memory = work, cores, memory
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []
        self.master = "spark://127.0.0.1:7077"

    def __enter__(self) -> StandaloneCluster:
        self.work.mkdir(parents=True, exist_ok=True)
        self._start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "7077")
        self._start(
            "worker",
            "org.apache.spark.deploy.worker.Worker",
            self.master,
            "--cores",
            str(self.cores),
            "--memory",
            self.memory,
            "--work-dir",
            str(self.work / "work"),
        )
        deadline = time.monotonic() + 120
        while "Successfully registered with master" not in (self.work / "worker.log").read_text():
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise SystemExit(f"the standalone cluster did not start: see {self.work}/master.log, worker.log")
            time.sleep(0.5)
        return self

    def _start(self, name: str, main_class: str, *arguments: str) -> None:
        log = open(self.work / f"{name}.log", "w")  # noqa: SIM115 (open while the process runs; closed on exit)
        self.logs.append(log)
        environment = {**os.environ, "SPARK_HOME": str(self.home), "SPARK_NO_DAEMONIZE": "1"}
        self.processes.append(
            subprocess.Popen(
                [str(self.home / "bin" / "spark-class"), main_class, *arguments, "--webui-port", "0"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
            )
        )

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            process.terminate()
            process.wait(timeout=60)
        for log in self.logs:
            log.close()


def child(engine: str, workflow: str, world: str, out: str, master: str) -> None:
    """One workflow on one engine, as a user writes it; its output written to ``out``."""
    import segkit

    transactions, members = f"{world}/transactions.parquet", pd.read_parquet(f"{world}/members.parquet")
    con = None
    if engine == "spark":
        import ibis
        from pyspark.sql import SparkSession

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python: this environment's
        session = (
            SparkSession.builder.master(master)
            .appName(f"segkit {workflow}")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.executor.memory", EXECUTOR_MEMORY)
            .config("spark.driver.memory", DRIVER_MEMORY)
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        con = ibis.pyspark.connect(session)
        transactions = con.read_parquet(transactions)
    start = time.perf_counter()
    if workflow == "features":
        segkit.member_features(transactions, AS_OF, members=members, con=con).table.to_parquet(out)
    else:
        segkit.churn_alerts(transactions, AS_OF, members, SETTINGS, con=con).alerts.to_parquet(out)
    print(json.dumps({"seconds": time.perf_counter() - start}))


def run(engine: str, workflow: str, world: Path, out: Path, master: str) -> dict:
    """A workflow in its own process, with the peak of the resident memory of every process it uses."""
    print(f"running {workflow} on {engine} ...", flush=True)
    command = [sys.executable, __file__, "--child", engine, workflow, str(world), str(out), master]
    log = out.with_suffix(".log")  # a file, not a pipe: Spark's chatter would fill a pipe and stop the child
    with open(log, "w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _resident(process.pid, executors=engine == "spark"))
            time.sleep(0.2)
        stdout = process.stdout.read()
    if process.returncode != 0:
        lines = [line for line in log.read_text().splitlines() if not line.lstrip().startswith("at ")]  # no JVM frames
        print("\n".join(lines[-40:]), file=sys.stderr)
        raise SystemExit(f"{workflow} on {engine} failed")
    return {**json.loads(stdout.strip().splitlines()[-1]), "peak_mb": peak / 2**20}


def _resident(pid: int, executors: bool) -> int:
    """Bytes resident in a process, its children (the driver's JVM) and, for Spark, the cluster's executors."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    if executors:
        for process in psutil.process_iter(["cmdline"]):
            if any("CoarseGrainedExecutorBackend" in part for part in process.info["cmdline"] or []):
                processes.append(process)
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def check_agreement(workflow: str, duckdb: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Spark's output equals DuckDB's (features to 1e-9, the alert list exactly), or the benchmark stops."""
    if workflow == "features":
        duckdb, spark = (frame.sort_values("member_id").reset_index(drop=True) for frame in (duckdb, spark))
        pd.testing.assert_frame_equal(duckdb, spark, check_dtype=False, rtol=1e-9)
    else:
        pd.testing.assert_frame_equal(duckdb, spark, check_dtype=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--history-days", type=int, default=450)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workflows", nargs="+", choices=WORKFLOWS, default=WORKFLOWS)
    parser.add_argument("--master", help="a running cluster's master URL (default: start a standalone one here)")
    parser.add_argument("--child", nargs=5, metavar=("ENGINE", "WORKFLOW", "WORLD", "OUT", "MASTER"), help=SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    world = spark_world(args.members, args.history_days, args.seed)
    results = ROOT / "benchmarks" / "results" / "spark"
    results.mkdir(parents=True, exist_ok=True)
    cluster = None if args.master else StandaloneCluster(results / "cluster", os.cpu_count() or 2, EXECUTOR_MEMORY)
    timings: dict[tuple[str, str], dict] = {}
    with cluster or contextlib.nullcontext():
        master = args.master or cluster.master
        for workflow in args.workflows:
            written = {engine: results / f"{workflow}_{engine}.parquet" for engine in ("duckdb", "spark")}
            for engine, out in written.items():
                timings[engine, workflow] = run(engine, workflow, world, out, master)
            outputs = [pd.read_parquet(out) for out in written.values()]
            check_agreement(workflow, *outputs)
            timings["spark", workflow]["rows"] = len(outputs[1])

    rows = pq.ParquetFile(world / "transactions.parquet").metadata.num_rows
    where = args.master or f"a standalone cluster on this machine (1 worker, {os.cpu_count()} cores)"
    print(f"\n{args.members:,} households, {rows:,} transactions, as of {AS_OF}; Spark: {where}\n")
    header = ["rows out", "DuckDB s", "Spark s", "x DuckDB", "DuckDB MB", "Spark MB"]
    print(f"{'workflow':<10}" + "".join(f"{name:>11}" for name in header))
    for workflow in args.workflows:
        duckdb, spark = timings["duckdb", workflow], timings["spark", workflow]
        print(
            f"{workflow:<10}{spark['rows']:>11,}{duckdb['seconds']:>11.1f}{spark['seconds']:>11.1f}"
            f"{spark['seconds'] / duckdb['seconds']:>11.2f}{duckdb['peak_mb']:>11,.0f}{spark['peak_mb']:>11,.0f}"
        )
    print("\nThe outputs of both engines agree (features to 1e-9, the alert list exactly).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
