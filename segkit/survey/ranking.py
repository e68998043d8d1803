"""Stage 3 scores: Plackett-Luce worths, Borda and mean rank, constant-sum shares, agreement.

**Plackett-Luce** (choix): a ranking is a sequence of choices, the best of all
benefits, then the best of the rest, and so on; a respondent who ranked only
their top ``k`` made ``k`` such choices (the unranked benefits were seen and
placed below). Each choice is one ``choix.ilsr_top1`` observation. A benefit's
**PL share** is the probability that it is chosen first among the kept
benefits (``exp(worth)``, normalised).

**Confidence intervals** resample respondents with replacement
(``bootstrap`` times). Refitting choix a thousand times takes about 30 s for
200 respondents, so the resamples are fitted together: the same ILSR
iteration (Maystre & Grossglauser 2015: the stationary distribution of a
Markov chain whose rates are the choices weighted by the current worths) run
on all resamples at once as matrix products. It is checked against
``choix.ilsr_top1`` on the same data.

**Constant-sum**: each respondent's points as shares of their total; the mean
share with a bootstrap interval, and the share of respondents giving zero.

**Agreement**: Kendall's W among respondents with complete rankings; Kendall's
tau between the PL order and the constant-sum order, and per respondent
between their ranks and their points (``inconsistent_below`` flags them).

**Combined score** = ``ranking_weight x PL share + (1 - ranking_weight) x
constant-sum share``: both estimate a benefit's share of preference, so
their weighted mean is on the same scale; ``final_rank`` orders it.
"""

from __future__ import annotations

import choix
import numpy as np
import pandas as pd
from scipy import stats


def choices(ranking: pd.DataFrame, benefits: list[str]) -> tuple[list[tuple[int, list[int]]], np.ndarray]:
    """Each ranking as top-1 choices ``(winner, [others still in play])`` over ``benefits``, and the
    respondent index of each choice. Benefits not in ``benefits`` are left out of the rankings."""
    index = {b: i for i, b in enumerate(benefits)}
    data, owner = [], []
    kept = ranking.loc[ranking["benefit"].isin(index)].sort_values(["respondent_id", "rank"])
    for r, (_, rows) in enumerate(kept.groupby("respondent_id", sort=True)):
        order = [index[b] for b in rows["benefit"]]
        remaining = set(range(len(benefits)))
        for winner in order:
            remaining.discard(winner)
            if not remaining:
                break
            data.append((winner, sorted(remaining)))
            owner.append(r)
    return data, np.array(owner, dtype=int)


def plackett_luce(data: list[tuple[int, list[int]]], n_items: int, alpha: float = 0.01) -> np.ndarray:
    """Worths (log-strengths, mean 0) by choix's ILSR on top-1 choices."""
    return choix.ilsr_top1(n_items, data, alpha=alpha)


def bootstrap_plackett_luce(
    data: list[tuple[int, list[int]]],
    owner: np.ndarray,
    n_items: int,
    weights: np.ndarray,
    alpha: float = 0.01,
    iterations: int = 200,
    tol: float = 1e-8,
) -> np.ndarray:
    """Worths for many weightings of the respondents at once (``weights``: resamples x respondents,
    how often each respondent is drawn): the ILSR fixed point of choix, vectorised over resamples."""
    n_choices = len(data)
    member = np.zeros((n_choices, n_items))
    for c, (win, others) in enumerate(data):
        member[c, others] = 1.0
        member[c, win] = 1.0
    # transition pattern of each choice: every loser -> the winner
    pattern = np.zeros((n_choices, n_items * n_items))
    for c, (win, others) in enumerate(data):
        pattern[c, np.asarray(others) * n_items + win] = 1.0
    w = weights[:, owner]  # resamples x choices
    worths = np.zeros((len(weights), n_items))
    for _ in range(iterations):
        strengths = n_items * softmax(worths)  # as choix: strengths that add up to n_items
        rates = (w / (strengths @ member.T)) @ pattern  # resamples x (loser -> winner)
        rates = rates.reshape(len(weights), n_items, n_items) + alpha
        np.einsum("bii->bi", rates)[:] = 0.0
        updated = np.log(_stationary(rates))
        updated -= updated.mean(axis=1, keepdims=True)
        converged = np.max(np.abs(updated - worths)) < tol
        worths = updated
        if converged:
            break
    return worths


def _stationary(rates: np.ndarray) -> np.ndarray:
    """Stationary distributions of continuous-time chains with the given off-diagonal rates (batched)."""
    n = rates.shape[-1]
    generator = rates - np.einsum("bij->bi", rates)[:, :, None] * np.eye(n)
    system = np.swapaxes(generator, 1, 2).copy()
    system[:, -1, :] = 1.0  # replace one equation by sum(pi) = 1
    rhs = np.zeros((len(rates), n))
    rhs[:, -1] = 1.0
    pi = np.linalg.solve(system, rhs[..., None])[..., 0]
    pi = np.clip(pi, 1e-300, None)
    return pi / pi.sum(axis=1, keepdims=True)


def softmax(worths: np.ndarray) -> np.ndarray:
    z = np.exp(worths - worths.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def borda(ranking: pd.DataFrame, benefits: list[str]) -> pd.DataFrame:
    """Mean rank among those who ranked the benefit, and a Borda score: each respondent gives
    ``m - rank`` points over the ``m`` benefits (unranked ones share the places below theirs), averaged."""
    kept = ranking.loc[ranking["benefit"].isin(benefits)].copy()
    kept["rank"] = kept.groupby("respondent_id")["rank"].rank(method="first")
    m = len(benefits)
    respondents = kept["respondent_id"].unique()
    full = pd.DataFrame(index=pd.Index(respondents, name="respondent_id"), columns=benefits, dtype=float)
    listed = kept.pivot(index="respondent_id", columns="benefit", values="rank").reindex(
        index=respondents, columns=benefits
    )
    counts = listed.notna().sum(axis=1)
    unranked_place = (counts + 1 + m) / 2  # the mean of the places k+1 .. m
    full = listed.apply(lambda col: col.fillna(unranked_place))
    return pd.DataFrame(
        {"mean_rank": listed.mean(), "borda": (m - full).mean() / max(m - 1, 1), "ranked_by": listed.notna().sum()},
        index=benefits,
    )


def kendalls_w(ranking: pd.DataFrame, benefits: list[str]) -> tuple[float, int]:
    """Kendall's W among respondents who ranked every benefit; returns (W, respondents used)."""
    kept = ranking.loc[ranking["benefit"].isin(benefits)]
    table = kept.pivot(index="respondent_id", columns="benefit", values="rank").reindex(columns=benefits)
    complete = table.dropna()
    n, m = complete.shape
    if n < 2 or m < 2:
        return float("nan"), n
    ranks = complete.rank(axis=1).to_numpy()
    totals = ranks.sum(axis=0)
    s = ((totals - totals.mean()) ** 2).sum()
    return float(12 * s / (n**2 * (m**3 - m))), n


def shares(points: pd.DataFrame, benefits: list[str]) -> pd.DataFrame:
    """Respondents x benefits: each respondent's points as shares of their points on ``benefits``."""
    table = points.pivot_table(index="respondent_id", columns="benefit", values="points", aggfunc="sum")
    table = table.reindex(columns=benefits).fillna(0.0)
    total = table.sum(axis=1)
    return table.loc[total > 0].div(total[total > 0], axis=0)


def respondent_consistency(ranking: pd.DataFrame, points: pd.DataFrame, benefits: list[str]) -> pd.DataFrame:
    """Per respondent who did both: Kendall tau between their order (rank) and their points on the benefits
    they ranked (higher points should go with better ranks)."""
    pts = points.pivot_table(index="respondent_id", columns="benefit", values="points", aggfunc="sum")
    rows = []
    for respondent, ranked in ranking.loc[ranking["benefit"].isin(benefits)].groupby("respondent_id"):
        if respondent not in pts.index or len(ranked) < 3:
            continue
        given = pts.loc[respondent].reindex(ranked["benefit"]).fillna(0.0).to_numpy()
        tau = stats.kendalltau(-ranked["rank"].to_numpy(), given).statistic
        rows.append((respondent, len(ranked), tau))
    return pd.DataFrame(rows, columns=["respondent_id", "benefits", "tau"])
