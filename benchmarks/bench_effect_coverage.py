"""Does the control group's 95 % interval hold the true effect of the calls? Coverage over simulated worlds.

    python benchmarks/bench_effect_coverage.py                 # 40 seeds per setting
    python benchmarks/bench_effect_coverage.py --seeds 100 --members 3000 --days 60

Each seed runs ``segkit simulate`` (``synth.loop.simulate``: the real export, ledger and control groups on a
gas world where a call's effect is known exactly) and compares ``effect.csv``'s interval of the uplift with
the true uplift of the listings whose window has ended. Two settings: calls that work (win-back 0.3,
annoyance 0.05) and calls that do nothing (0 and 0: the truth is 0). A 95 % interval should hold the truth
in about 95 runs of 100; the printed range is the 95 % binomial (Wilson) interval of the coverage itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segkit.callcenter.effect import wilson_interval  # noqa: E402
from segkit.synth.loop import simulate  # noqa: E402


def coverage(
    seeds: int, members: int, days: int, window: int, policy: str, control: float, win_back: float, annoyance: float
) -> tuple[int, int, float]:
    """Runs whose interval held the truth, runs with an estimate, mean true uplift."""
    held, runs, truth = 0, 0, 0.0
    for seed in range(seeds):
        with tempfile.TemporaryDirectory(prefix="segkit_coverage_") as folder:
            result = simulate(
                Path(folder),
                n_members=members,
                days=days,
                seed=seed,
                policy=policy,
                win_back=win_back,
                annoyance=annoyance,
                control_share=control,
                window_days=window,
            ).policy
        low, high, true = (
            result.get(k) for k in ("estimated_uplift_low", "estimated_uplift_high", "true_uplift_window_ended")
        )
        if low is None or high is None or true is None:
            continue
        runs += 1
        held += low <= true <= high
        truth += true
    return held, runs, truth / max(runs, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--members", type=int, default=1500)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--policy", default="median-1.5")
    parser.add_argument("--control-share", type=float, default=0.3)
    args = parser.parse_args()
    print(
        f"{args.seeds} seeds, {args.members:,} households, {args.days} days, {args.window}-day window, "
        f"policy {args.policy}, control share {args.control_share}"
    )
    for label, win_back, annoyance in (("calls that work", 0.3, 0.05), ("calls that do nothing", 0.0, 0.0)):
        started = time.perf_counter()
        held, runs, truth = coverage(
            args.seeds, args.members, args.days, args.window, args.policy, args.control_share, win_back, annoyance
        )
        low, high = wilson_interval(held, runs)
        print(
            f"  {label:22s} mean true uplift {100 * truth:+5.1f} points: the interval held it in {held}/{runs} "
            f"runs = {held / max(runs, 1):.1%} (95 % range {float(low):.1%} to {float(high):.1%}); "
            f"{time.perf_counter() - started:.0f} s"
        )


if __name__ == "__main__":
    main()
