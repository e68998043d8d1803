"""The benefit survey's stage 3 at its real size: 200 respondents x 12 benefits, 1,000 bootstrap resamples.

    python benchmarks/bench_survey.py                  # target: the whole rank_benefits call under 5 s
    python benchmarks/bench_survey.py --bootstrap 200

Side by side in one run: segkit's ``rank_benefits`` (choix for the estimate,
the resamples fitted together), and the straightforward alternative, refitting
``choix.ilsr_top1`` on every resample. The Plackett-Luce intervals of the two
must agree (same resamples, same estimator).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import choix
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segkit.survey import SurveySettings, rank_benefits, read_survey  # noqa: E402
from segkit.survey.ranking import bootstrap_plackett_luce, choices  # noqa: E402
from segkit.synth.survey import generate_survey  # noqa: E402

TARGET_SECONDS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benefits", type=int, default=12)
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tables = generate_survey(args.benefits, args.respondents, seed=args.seed)
    settings = SurveySettings(budget=300.0, bootstrap=args.bootstrap)
    started = time.perf_counter()
    data = read_survey(
        tables["screening"], tables["costs"], tables["ranking"], tables["constant_sum"], tables["respondents"]
    )
    result = rank_benefits(data, settings)
    whole = time.perf_counter() - started
    print(result)

    kept = result.final_list()
    data_pl, owner = choices(data.ranking, kept)
    n_resp = int(owner.max()) + 1
    draws = np.random.default_rng(0).multinomial(n_resp, np.full(n_resp, 1 / n_resp), size=args.bootstrap)
    started = time.perf_counter()
    batched = bootstrap_plackett_luce(data_pl, owner, len(kept), draws.astype(float), settings.alpha)
    batched_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loop = np.array(
        [
            choix.ilsr_top1(
                len(kept), [c for i, c in enumerate(data_pl) for _ in range(d[owner[i]])], alpha=settings.alpha
            )
            for d in draws
        ]
    )
    loop_seconds = time.perf_counter() - started
    gap = np.abs(np.percentile(batched, [2.5, 97.5], axis=0) - np.percentile(loop, [2.5, 97.5], axis=0)).max()

    print(f"\n{args.respondents} respondents x {args.benefits} benefits ({len(kept)} kept), {args.bootstrap} resamples")
    print("| step | seconds |")
    print("| --- | ---: |")
    print(
        f"| segkit rank_benefits, all three stages, overall and {len(result.by_tier['tier'].unique())} tiers | "
        f"{whole:.2f} |"
    )
    print(f"| Plackett-Luce bootstrap, resamples fitted together | {batched_seconds:.2f} |")
    print(f"| Plackett-Luce bootstrap, choix refitted per resample | {loop_seconds:.2f} |")
    print(
        f"\nchoix loop / batched: {loop_seconds / batched_seconds:.1f}x; largest difference of the 95% interval "
        f"ends: {gap:.1e}; rank_benefits {'meets' if whole < TARGET_SECONDS else 'MISSES'} the "
        f"{TARGET_SECONDS:.0f} s target"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
