"""Writing CSV: segkit's writer (formatted, quoted and joined in Arrow) against pandas' to_csv, in one run.

    python benchmarks/bench_csv.py                        # the features of 1M gas households (16 columns)
    python benchmarks/bench_csv.py --members 100000       # a quick run

Both write the same table the way ``segkit.io.write_table`` does (text a spreadsheet would run made safe,
UTF-8 with a byte-order mark, dates as YYYY-MM-DD). The two files must be identical, byte for byte, before
a time is printed; seconds are the best of ``--repeat`` rounds.

  segkit   segkit.io.write_table
  pandas   the same safe text, then DataFrame.to_csv (what write_table ran before 2026-12-03)
"""

from __future__ import annotations

import argparse
import filecmp
import json
import tempfile
import time
from pathlib import Path

from bench_features import AS_OF, ROOT, ensure_data

from segkit.features import member_features
from segkit.io import safe_csv_text, write_table


def pandas_to_csv(frame, path: Path) -> None:
    safe = frame.copy(deep=False)
    for column in range(safe.shape[1]):
        safe.isetitem(column, safe_csv_text(safe.iloc[:, column]))
    safe.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")


def best_of(repeat: int, write, frame, path: Path) -> float:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        write(frame, path)
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--history-days", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = member_features(ensure_data(args.members, args.history_days, seed=1), AS_OF)
    with tempfile.TemporaryDirectory() as folder:
        ours, theirs = Path(folder) / "segkit.csv", Path(folder) / "pandas.csv"
        t_segkit = best_of(args.repeat, write_table, frame, ours)
        t_pandas = best_of(args.repeat, pandas_to_csv, frame, theirs)
        if not filecmp.cmp(ours, theirs, shallow=False):
            raise SystemExit("segkit's CSV differs from pandas' to_csv: no time is printed")
        size = ours.stat().st_size
    print(f"\nfeatures.csv of {len(frame):,} members: {frame.shape[1]} columns, {size / 1e6:,.0f} MB, identical\n")
    print(f"  {'method':<10}{'seconds':>9}{'x segkit':>10}")
    for name, seconds in (("segkit", t_segkit), ("pandas", t_pandas)):
        print(f"  {name:<10}{seconds:>9.2f}{seconds / t_segkit:>10.2f}")
    record = {"members": len(frame), "columns": frame.shape[1], "bytes": size, "segkit_s": t_segkit}
    path = ROOT / "benchmarks" / "results" / "csv.json"
    path.write_text(json.dumps({**record, "pandas_s": t_pandas}, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
