"""Pareto/NBD on the full CDNOW file: segkit against lifetimes 0.11.3, on the same summary, in one run.

    python benchmarks/bench_paretonbd.py                # the target: at least 5x faster, same estimates

The summary (weeks, the 39-week calibration period to 1997-09-30, 23,570
customers) is built once with segkit.clv.btyd_summary. Each library fits
Pareto/NBD on it (best of ``--repeat`` runs); the parameters must agree to four
significant figures before a ratio is printed.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from bench_clv import race, speedup

REPO = Path(__file__).resolve().parents[1]
CDNOW = REPO.parent / "shared" / "data" / "cdnow" / "CDNOW_master.txt"
TARGET = 5.0


def fit_segkit(summary) -> dict:
    from segkit.clv import ParetoNBDModel

    return ParetoNBDModel().fit(summary).params_


def fit_lifetimes(summary) -> dict:
    from lifetimes import ParetoNBDFitter

    warnings.simplefilter("ignore")
    model = ParetoNBDFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    return dict(model.params_)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from segkit.clv import btyd_summary
    from segkit.data import load_transactions

    transactions = load_transactions(CDNOW, REPO / "data" / "mappings" / "cdnow_master.yaml").table
    summary = btyd_summary(transactions, "1997-09-30", unit="W")
    print(
        f"Pareto/NBD on CDNOW: {len(summary):,} customers, "
        f"{summary[['frequency', 'recency', 'T']].drop_duplicates().shape[0]:,} distinct (frequency, recency, T)\n"
    )
    seconds, params = race(summary, (("segkit", fit_segkit), ("lifetimes", fit_lifetimes)), args.repeat, 5)
    # four significant figures: within half a unit of the fourth digit (lifetimes' Nelder-Mead stops a little
    # short of the maximum, so its fourth digit wanders from run to run)
    agree = all(
        abs(params["segkit"][k] - params["lifetimes"][k]) <= 5e-4 * abs(params["lifetimes"][k])
        for k in ("r", "alpha", "s", "beta")
    )
    ratio = speedup(seconds, TARGET)
    print("parameters agree to four significant figures" if agree else "PARAMETERS DISAGREE")
    return 0 if agree and ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
