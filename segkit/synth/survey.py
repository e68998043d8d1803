"""A generated three-stage benefit survey with known true preferences by tier (for tests and the demo).

* Each benefit has a true utility per tier (gold, platinum, diamond): a common
  part, spread evenly and shuffled, plus a small tier-specific part.
* Stage 1: ``screening_respondents`` rate every benefit 1-5; about a fifth of
  the benefits are truly disliked (ratings around 2), the rest liked (around 4).
* Stage 2: costs per member per year; about a fifth of the liked benefits cost
  more than ``max_budget_share`` of ``budget``.
* Stage 3: ``n_respondents`` members of the three tiers rank the surviving
  benefits by Plackett-Luce draws from their tier's utilities (a third stop
  after their top five) and split 100 points by a Dirichlet draw around the
  same preferences.
* A few respondents make the mistakes real surveys have (points adding up to
  90, a rank given twice, a gap in the ranks, an unknown benefit); ``truth_problems``
  lists them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path, write_tables

BENEFIT_NAMES = [
    "72h airport parking 机场停车",
    "family health check 家庭体检",
    "wellness trip 康养之旅",
    "dedicated hotline 专属热线",
    "birthday gift box 生日礼盒",
    "home delivery 送货上门",
    "nutritionist consult 营养师咨询",
    "early product trial 新品试用",
    "double points days 双倍积分",
    "spa voucher 水疗券",
    "annual gala 年度晚宴",
    "gift wrapping 礼品包装",
    "car wash 洗车",
    "cinema tickets 电影票",
    "gym pass 健身卡",
    "priority queue 优先服务",
]
TIERS = {"gold": 0.6, "platinum": 0.3, "diamond": 0.1}
SURVEY_TABLES = ("screening", "ranking", "constant_sum", "respondents")  # the tables that make a folder a survey
BUDGET, MAX_BUDGET_SHARE = 300.0, 0.3


def generate_survey(
    n_benefits: int = 12, n_respondents: int = 200, seed: int = 0, screening_respondents: int = 25
) -> dict[str, pd.DataFrame]:
    """All survey tables plus ``truth`` (per benefit) and ``truth_problems`` (the planted bad respondents)."""
    if n_benefits < 4:
        raise ValueError("a survey needs at least 4 candidate benefits")
    if n_respondents < 10:
        raise ValueError("a survey needs at least 10 respondents")
    rng = np.random.default_rng(seed)
    names = [BENEFIT_NAMES[i] if i < len(BENEFIT_NAMES) else f"benefit {i + 1}" for i in range(n_benefits)]
    base = rng.permutation(np.linspace(1.5, -1.5, n_benefits))
    utility = {tier: base + rng.normal(0, 0.15, n_benefits) for tier in TIERS}
    overall = sum(share * utility[tier] for tier, share in TIERS.items())
    n_disliked = max(1, round(0.2 * n_benefits))
    disliked = np.zeros(n_benefits, dtype=bool)
    disliked[rng.choice(n_benefits, n_disliked, replace=False)] = True
    liked = np.flatnonzero(~disliked)
    over = np.zeros(n_benefits, dtype=bool)
    over[rng.choice(liked, max(1, round(0.2 * len(liked))), replace=False)] = True
    limit = MAX_BUDGET_SHARE * BUDGET
    total_cost = np.where(over, rng.uniform(1.3, 2.5, n_benefits) * limit, rng.uniform(0.15, 0.8, n_benefits) * limit)
    direct = np.round(total_cost * rng.uniform(0.6, 0.9, n_benefits), 1)
    costs = pd.DataFrame({"benefit": names, "direct_cost": direct, "delivery_cost": np.round(total_cost - direct, 1)})

    screen_ids = [f"S{i:03d}" for i in range(1, screening_respondents + 1)]
    latent = np.where(disliked, 1.9, 4.0)[None, :] + rng.normal(0, 0.8, (screening_respondents, n_benefits))
    liking = np.clip(np.rint(latent), 1, 5).astype(int)
    screening = pd.DataFrame(
        {
            "respondent_id": np.repeat(screen_ids, n_benefits),
            "benefit": np.tile(names, screening_respondents),
            "liking": liking.ravel(),
        }
    )

    kept = np.flatnonzero(~disliked & ~over)
    ids = [f"R{i:04d}" for i in range(1, n_respondents + 1)]
    tier = rng.choice(list(TIERS), n_respondents, p=list(TIERS.values()))
    rank_rows, point_rows = [], []
    for rid, t in zip(ids, tier):
        u = utility[t][kept]
        order = kept[np.argsort(-(u + rng.gumbel(size=len(kept))))]
        listed = order if rng.random() < 2 / 3 else order[: min(5, len(order))]
        rank_rows += [(rid, names[b], r + 1) for r, b in enumerate(listed)]
        share = rng.dirichlet(8 * np.exp(u) / np.exp(u).sum() * len(kept))
        points = _whole_points(share, 100)
        point_rows += [(rid, names[b], p) for b, p in zip(kept, points) if p > 0]
    ranking = pd.DataFrame(rank_rows, columns=["respondent_id", "benefit", "rank"])
    constant_sum = pd.DataFrame(point_rows, columns=["respondent_id", "benefit", "points"])
    ranking, constant_sum, problems = _plant_mistakes(ranking, constant_sum, ids)

    order = pd.Series(overall[kept], index=[names[b] for b in kept]).rank(ascending=False).astype(int)
    truth = pd.DataFrame(
        {
            "benefit": names,
            "utility": overall.round(4),
            **{f"utility_{t}": utility[t].round(4) for t in TIERS},
            "disliked": disliked,
            "over_budget": over,
        }
    )
    truth["true_rank"] = truth["benefit"].map(order).astype("Int64")
    return {
        "screening": screening,
        "costs": costs,
        "ranking": ranking,
        "constant_sum": constant_sum,
        "respondents": pd.DataFrame({"respondent_id": ids, "tier": tier}),
        "truth": truth,
        "truth_problems": problems,
    }


def _whole_points(share: np.ndarray, total: int) -> np.ndarray:
    """Shares as whole points adding up to ``total`` (largest remainders)."""
    raw = share * total
    points = np.floor(raw).astype(int)
    points[np.argsort(-(raw - points))[: total - points.sum()]] += 1
    return points


def _plant_mistakes(ranking: pd.DataFrame, constant_sum: pd.DataFrame, ids: list[str]):
    """Four respondents with the errors of real surveys; each affects one method only."""
    ranking, constant_sum = ranking.copy(), constant_sum.copy()
    r1, r2, r3, r4 = ids[:4]
    largest = constant_sum.loc[constant_sum["respondent_id"] == r1, "points"].idxmax()
    constant_sum.loc[largest, "points"] -= 10  # adds up to 90
    rows = ranking.index[ranking["respondent_id"] == r2]
    ranking.loc[rows[1], "rank"] = 1  # rank 1 twice
    rows = ranking.index[ranking["respondent_id"] == r3]
    ranking.loc[rows[-1], "benefit"] = "free parking 免费停车"  # not a candidate
    rows = ranking.index[ranking["respondent_id"] == r4]
    ranking.loc[rows[-1], "rank"] += 1  # a gap before the last rank
    problems = pd.DataFrame(
        {"respondent_id": [r1, r2, r3, r4], "method": ["constant_sum", "ranking", "ranking", "ranking"]}
    )
    return ranking, constant_sum, problems


def write_survey(tables: dict[str, pd.DataFrame], out: str | Path) -> dict[str, Path]:
    """Write every table as ``out/<name>.csv`` (all or none) and the budget as ``out/survey.yaml``. A folder that
    holds a generated world is refused: the survey's truth.csv would replace the world's."""
    out = Path(out)
    if any((out / f"transactions.{fmt}").exists() for fmt in ("csv", "parquet")):
        raise ValueError(f"{out} holds a generated world: give the survey a folder of its own")
    paths = dict(zip(tables, write_tables({out / f"{name}.csv": frame for name, frame in tables.items()})))
    with atomic_path(out / "survey.yaml") as tmp:
        tmp.write_text(
            f"# budget per member per year and the share one benefit may use\n"
            f"budget: {BUDGET:g}\nmax_budget_share: {MAX_BUDGET_SHARE:g}\n",
            encoding="utf-8",
        )
    paths["settings"] = out / "survey.yaml"
    return paths
