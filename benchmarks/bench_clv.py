"""BG/NBD on 1M customers: segkit against lifetimes 0.11.3, on the same summary, in one run.

    python benchmarks/bench_clv.py                      # 1M gas households (the target: at least 5x faster)
    python benchmarks/bench_clv.py --members 100000     # a quick run

The BTYD summary (weeks, calibration to the as-of date) is built once with
segkit.clv.btyd_summary (its time is printed, not compared). Each library then fits BG/NBD on it (best
of ``--repeat`` runs); the fitted parameters must agree to three significant
figures before a time is printed.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd
from bench_features import AS_OF, ensure_data

TARGET = 5.0


def fit_segkit(summary: pd.DataFrame) -> dict:
    from segkit.clv import BetaGeoModel

    return BetaGeoModel().fit(summary).params_


def fit_lifetimes(summary: pd.DataFrame) -> dict:
    from lifetimes import BetaGeoFitter

    warnings.simplefilter("ignore")
    model = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    return dict(model.params_)


def timed(fit, summary, repeat):
    best, params = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        params = fit(summary)
        best = min(best, time.perf_counter() - start)
    return best, params


def race(summary, fits, repeat: int, digits: int) -> tuple[dict, dict]:
    """Fit each ``(name, fit)`` on ``summary`` (best of ``repeat`` runs) and print its time and parameters;
    returns the seconds and the parameters by name."""
    seconds, params = {}, {}
    for name, fit in fits:
        seconds[name], params[name] = timed(fit, summary, repeat)
        shown = ", ".join(f"{k}={v:.{digits}g}" for k, v in params[name].items())
        print(f"{name:<10}{seconds[name]:>9.2f} s   {shown}")
    return seconds, params


def speedup(seconds: dict, target: float) -> float:
    """lifetimes' time over segkit's, printed against ``target``."""
    ratio = seconds["lifetimes"] / seconds["segkit"]
    print(f"\nlifetimes / segkit: {ratio:.1f}x  ({'met' if ratio >= target else 'NOT met'}: at least {target:.0f}x)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--history-days", type=int, default=450)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from segkit.clv import btyd_summary

    path = ensure_data(args.members, args.history_days, args.seed)
    start = time.perf_counter()
    summary = btyd_summary(str(path), AS_OF, unit="W")
    print(f"summary (segkit.clv.btyd_summary, not compared): {time.perf_counter() - start:.2f} s")
    print(
        f"BG/NBD: {len(summary):,} customers, {summary[['frequency', 'recency', 'T']].drop_duplicates().shape[0]:,} "
        f"distinct (frequency, recency, T), as of {AS_OF}\n"
    )
    seconds, params = race(summary, (("segkit", fit_segkit), ("lifetimes", fit_lifetimes)), args.repeat, 4)
    agree = all(f"{params['segkit'][k]:.3g}" == f"{params['lifetimes'][k]:.3g}" for k in ("r", "alpha", "a", "b"))
    ratio = speedup(seconds, TARGET)
    print("parameters agree to three significant figures" if agree else "PARAMETERS DISAGREE")
    return 0 if agree and ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
