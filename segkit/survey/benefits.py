"""The three-stage selection of exclusive member benefits (``../shared/DOMAIN.md`` section 8), in one call.

1. **Screening** (20-30 prospective members rate each candidate 1-5): a
   benefit is dropped when its mean liking is below ``like_below`` or more than
   ``dislike_share_above`` dislike it (1-2).
2. **Financial check**: direct + delivery cost per member per year against the
   budget per member; above ``max_budget_share`` of it the benefit is dropped
   (``cost_rule: drop``) or kept and flagged (``cost_rule: flag``).
3. **Ranking and constant-sum survey** (~200 members) on the kept benefits:
   Plackett-Luce worths and Borda, constant-sum shares, agreement, and the
   combined score (``segkit.survey.ranking``) that sets ``final_rank``; the
   same per tier when respondents have tiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from ..result import Result, rounded
from ..settings import YamlSettings, resolve_settings
from .inputs import SurveyData
from .ranking import (
    bootstrap_plackett_luce,
    borda,
    choices,
    kendalls_w,
    plackett_luce,
    respondent_consistency,
    shares,
    softmax,
)
from .screening import check_costs, screen_liking

STATUSES = ["kept", "dropped_liking", "dropped_cost", "not_screened"]
STAGE3_COLUMNS = [
    "ranked_by",
    "pl_worth",
    "pl_worth_low",
    "pl_worth_high",
    "pl_share",
    "pl_share_low",
    "pl_share_high",
    "mean_rank",
    "borda",
    "cs_respondents",
    "cs_share",
    "cs_share_low",
    "cs_share_high",
    "cs_zero_share",
    "combined",
]
RANKING_COLUMNS = [
    "benefit",
    "status",
    "screened_by",
    "liking_mean",
    "liking_low",
    "liking_high",
    "dislike_share",
    "caution",
    "cost_per_member",
    "budget_share",
    "over_budget",
    *STAGE3_COLUMNS,
    "final_rank",
]
SURVEY_FILES = ("ranking.csv", "ranking_by_tier.csv", "survey_problems.csv", "respondent_consistency.csv")


@dataclass(frozen=True)
class SurveySettings(YamlSettings):
    """Every rule and option of the three stages; YAML keys are the field names.

    Made by ``resolve_settings(SurveySettings, ...)`` from a YAML path or a mapping, or directly;
    a value out of range raises ``ValueError`` naming it.

    Attributes
    ----------
    like_below : float
        Screening: drop a benefit whose mean liking (1-5) is below this (default 3).
    dislike_share_above : float
        Screening: drop a benefit that more than this share rate 1 or 2 (default 0.4).
    small_sample : int
        Screening: fewer raters than this flags the benefit's liking as a caution (default 20).
    budget : float or None
        The budget per member per year; the financial check needs it.
    max_budget_share : float
        The largest share of the budget one benefit may cost (default 0.3).
    cost_rule : {"drop", "flag"}
        Drop a benefit over budget, or keep and flag it.
    total_points : float
        The points each constant-sum respondent splits (default 100).
    ranking_weight : float
        ``combined = w x PL share + (1 - w) x constant-sum share`` (default 0.5).
    bootstrap : int
        Bootstrap resamples of respondents for the intervals (0: none; default 1000).
    confidence : float
        The intervals' confidence (default 0.95).
    alpha : float
        Plackett-Luce regularisation (``choix``; default 0.01).
    inconsistent_below : float
        Flag respondents whose ranks and points agree less than this (Kendall tau; default 0).
    seed : int
        Seed of the bootstrap.
    """

    what: ClassVar[str] = "survey"

    like_below: float = 3.0
    dislike_share_above: float = 0.4
    small_sample: int = 20
    budget: float | None = None  # per member per year; the CLI's --budget sets it
    max_budget_share: float = 0.3
    cost_rule: str = "drop"  # drop | flag
    total_points: float = 100.0
    ranking_weight: float = 0.5  # combined = w x PL share + (1 - w) x constant-sum share
    bootstrap: int = 1000
    confidence: float = 0.95
    alpha: float = 0.01  # Plackett-Luce regularisation (choix)
    inconsistent_below: float = 0.0  # flag respondents whose ranks and points disagree (Kendall tau below)
    seed: int = 0

    def __post_init__(self):
        if self.cost_rule not in ("drop", "flag"):
            raise ValueError(f"cost_rule must be 'drop' or 'flag', got {self.cost_rule!r}")
        for name in ("dislike_share_above", "max_budget_share", "ranking_weight"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)!r}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {self.confidence!r}")
        if self.budget is not None and not self.budget > 0:
            raise ValueError(f"budget must be a positive amount per member, got {self.budget!r}")
        if isinstance(self.bootstrap, bool) or not isinstance(self.bootstrap, int) or self.bootstrap < 0:
            raise ValueError(f"bootstrap must be a whole number of resamples (0 for none), got {self.bootstrap!r}")
        for name in ("small_sample", "seed", "alpha"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)!r}")
        if not -1 <= self.inconsistent_below <= 1:
            raise ValueError(f"inconsistent_below is a Kendall tau, from -1 to 1, got {self.inconsistent_below!r}")
        if not self.total_points > 0:
            raise ValueError(f"total_points must be positive, got {self.total_points!r}")


@dataclass(repr=False)
class SurveyResult(Result):
    """The ranked benefits, per tier, the excluded rows and the agreement between methods.

    ``final_list()`` is the kept benefits in their final order; ``summary()`` the benefits with
    the numbers behind it; ``write(out)`` writes ``SURVEY_FILES``.

    Attributes
    ----------
    ranking : pandas.DataFrame
        ``ranking.csv``, one row per candidate benefit (``RANKING_COLUMNS``): its
        ``status`` (kept, dropped_liking, dropped_cost, not_screened: nobody rated it), the screening's
        liking, the cost check, Plackett-Luce worths and shares, Borda, constant-sum shares (with bootstrap
        intervals), ``combined`` and ``final_rank``.
    by_tier : pandas.DataFrame
        ``ranking_by_tier.csv``: the same stage-three scores per respondent tier (empty
        without tiers).
    problems : pandas.DataFrame
        ``survey_problems.csv``: the respondent-methods left out, with the problem.
    consistency : pandas.DataFrame
        ``respondent_consistency.csv``: Kendall tau between each respondent's ranks and
        points, and whether it is ``inconsistent``.
    agreement : dict of str to float
        Respondents per method, Kendall's W among rankers, tau between the two methods,
        inconsistent respondents.
    settings : SurveySettings
        The settings used.
    """

    ranking: pd.DataFrame  # ranking.csv
    by_tier: pd.DataFrame  # ranking_by_tier.csv (empty without tiers)
    problems: pd.DataFrame  # survey_problems.csv: respondent, method, problem
    consistency: pd.DataFrame  # respondent_consistency.csv: tau between a respondent's ranks and points
    agreement: dict[str, float]
    settings: SurveySettings
    percent: ClassVar[tuple[str, ...]] = ("combined",)  # the mean of the two methods' shares

    def final_list(self) -> list[str]:
        kept = self.ranking.loc[self.ranking["final_rank"].notna()].sort_values("final_rank")
        return kept["benefit"].tolist()

    def _describe(self) -> str:
        counts = self.ranking["status"].value_counts()
        return (
            f"{len(self.ranking)} candidate benefits: "
            + ", ".join(f"{s} {int(counts.get(s, 0))}" for s in STATUSES if s != "not_screened" or counts.get(s))
            + f"; {len(self.problems)} respondent-method(s) excluded; final list: {', '.join(self.final_list())}"
        )

    def summary(self) -> pd.DataFrame:
        """The benefits in their final order (dropped ones last) with the numbers behind it."""
        columns = [
            "benefit",
            "status",
            "liking_mean",
            "cost_per_member",
            "pl_share",
            "cs_share",
            "combined",
            "final_rank",
        ]
        return self.ranking[columns].sort_values(["final_rank", "status", "benefit"]).reset_index(drop=True)

    def agreement_table(self) -> pd.DataFrame:
        """How far the respondents and the two methods agree: Kendall's W, Kendall's tau, respondents."""
        return pd.Series(self.agreement, name="value").rename_axis("measure").reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The files, rounded to 4 places: the ranking in its final order (dropped benefits last), the ranking
        per tier by tier and rank."""
        ranking = self.ranking.sort_values(["final_rank", "status", "benefit"], ignore_index=True)
        by_tier = self.by_tier.sort_values(["tier", "rank"], ignore_index=True)
        return dict(zip(SURVEY_FILES, (rounded(ranking), rounded(by_tier), self.problems, rounded(self.consistency))))


def rank_benefits(data: SurveyData, settings: SurveySettings | str | Path | dict | None = None) -> SurveyResult:
    """Run the three stages on checked survey tables (``read_survey``); ``settings``: a ``SurveySettings``, a
    YAML path or a mapping (``resolve_settings``).

    Parameters
    ----------
    data : SurveyData
        The checked tables of ``segkit.survey.read_survey``: screening ratings, costs,
        rankings, constant-sum points and (optionally) respondents' tiers, with the
        respondent-methods already excluded.
    settings : SurveySettings, str, Path or dict, optional
        The rules of the three stages (``budget`` is required); a mapping overrides the
        defaults key by key.

    Returns
    -------
    SurveyResult
        The ranking of every candidate benefit, per tier, the excluded respondents and the
        agreement statistics.

    Raises
    ------
    ValueError
        No ``budget`` is set, or a setting is unknown or out of range (the message names it).
    FileNotFoundError
        The settings YAML does not exist.

    Examples
    --------
    >>> from segkit import rank_benefits
    >>> from segkit.survey import read_survey
    >>> from segkit.synth.survey import generate_survey
    >>> tables = generate_survey(n_benefits=8, n_respondents=60, seed=1)
    >>> data = read_survey(tables["screening"], tables["costs"], tables["ranking"], tables["constant_sum"],
    ...                    tables["respondents"])
    >>> result = rank_benefits(data, {"budget": 300, "bootstrap": 50})
    >>> result.ranking["status"].value_counts().to_dict()
    {'kept': 5, 'dropped_liking': 2, 'dropped_cost': 1}
    >>> result.final_list()[:2]
    ['family health check 家庭体检', 'nutritionist consult 营养师咨询']
    >>> len(result.problems)        # the survey's planted mistakes, each respondent-method left out
    4
    """
    settings = resolve_settings(SurveySettings, settings)
    if settings.budget is None:
        raise ValueError("a budget per member is needed for the financial check (settings budget or --budget)")
    benefits = data.benefits
    liking = screen_liking(
        data.screening,
        benefits,
        settings.like_below,
        settings.dislike_share_above,
        settings.small_sample,
        settings.confidence,
    )
    cost = check_costs(data.costs, benefits, settings.budget, settings.max_budget_share)
    table = liking.join(cost[["cost_per_member", "budget_share", "over_budget"]])
    status = np.select(  # a benefit nobody rated has not passed the first stage: it is not ranked on the others
        [table["screened_by"] == 0, table["dropped_liking"], table["over_budget"] & (settings.cost_rule == "drop")],
        ["not_screened", "dropped_liking", "dropped_cost"],
        "kept",
    )
    table.insert(0, "status", status)
    kept = table.index[table["status"] == "kept"].tolist()

    rng = np.random.default_rng(settings.seed)
    scores, agreement = stage_three(data.ranking, data.constant_sum, kept, settings, rng)
    table = table.join(scores)
    table["final_rank"] = table["combined"].rank(ascending=False, method="first").astype("Int64")
    ranking = table.reset_index(names="benefit")[RANKING_COLUMNS]

    consistency = respondent_consistency(data.ranking, data.constant_sum, kept)
    consistency["inconsistent"] = consistency["tau"] < settings.inconsistent_below
    agreement["inconsistent_respondents"] = float(consistency["inconsistent"].sum())

    tiers = []
    if data.respondents is not None and len(kept):
        tier_of = data.respondents.set_index("respondent_id")["tier"]
        for tier in sorted(tier_of.dropna().unique()):
            ids = set(tier_of.index[tier_of == tier])
            tier_scores, _ = stage_three(
                data.ranking.loc[data.ranking["respondent_id"].isin(ids)],
                data.constant_sum.loc[data.constant_sum["respondent_id"].isin(ids)],
                kept,
                settings,
                rng,
            )
            tier_scores["rank"] = tier_scores["combined"].rank(ascending=False, method="first").astype("Int64")
            tiers.append(tier_scores.reset_index(names="benefit").assign(tier=tier))
    by_tier = (
        pd.concat(tiers, ignore_index=True)[["tier", "benefit", *STAGE3_COLUMNS, "rank"]]
        if tiers
        else pd.DataFrame(columns=["tier", "benefit", *STAGE3_COLUMNS, "rank"])
    )
    return SurveyResult(ranking, by_tier, data.problems, consistency, agreement, settings)


def stage_three(
    ranking: pd.DataFrame, points: pd.DataFrame, kept: list[str], settings: SurveySettings, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Plackett-Luce, Borda, constant-sum and combined scores of the ``kept`` benefits, with bootstrap
    intervals over respondents; and the agreement statistics."""
    scores = pd.DataFrame(index=pd.Index(kept), columns=STAGE3_COLUMNS, dtype=float)
    agreement = {
        "ranking_respondents": float(ranking["respondent_id"].nunique()),
        "cs_respondents": float(points["respondent_id"].nunique()),
        "kendalls_w": float("nan"),
        "w_respondents": 0.0,
        "tau_methods": float("nan"),
    }
    if not kept:
        return scores, agreement
    low_q, high_q = 50 * (1 - settings.confidence), 50 * (1 + settings.confidence)
    m = len(kept)
    data, owner = choices(ranking, kept)
    if data:
        worth = plackett_luce(data, m, settings.alpha)
        scores["pl_worth"], scores["pl_share"] = worth, softmax(worth)
        if settings.bootstrap:
            n_resp = int(owner.max()) + 1
            draws = rng.multinomial(n_resp, np.full(n_resp, 1 / n_resp), size=settings.bootstrap).astype(float)
            boot = bootstrap_plackett_luce(data, owner, m, draws, settings.alpha)
            scores["pl_worth_low"], scores["pl_worth_high"] = np.percentile(boot, [low_q, high_q], axis=0)
            boot_share = softmax(boot)
            scores["pl_share_low"], scores["pl_share_high"] = np.percentile(boot_share, [low_q, high_q], axis=0)
        ranks = borda(ranking, kept)
        scores["ranked_by"], scores["mean_rank"], scores["borda"] = (
            ranks["ranked_by"],
            ranks["mean_rank"],
            ranks["borda"],
        )
        agreement["kendalls_w"], w_n = kendalls_w(ranking, kept)
        agreement["w_respondents"] = float(w_n)
    share = shares(points, kept)
    if len(share):
        scores["cs_respondents"] = len(share)
        scores["cs_share"] = share.mean().to_numpy()
        scores["cs_zero_share"] = (share == 0).mean().to_numpy()
        if settings.bootstrap:
            draws = rng.multinomial(len(share), np.full(len(share), 1 / len(share)), size=settings.bootstrap)
            boot = draws @ share.to_numpy() / len(share)
            scores["cs_share_low"], scores["cs_share_high"] = np.percentile(boot, [low_q, high_q], axis=0)
    pl, cs = scores["pl_share"], scores["cs_share"]
    w = settings.ranking_weight
    scores["combined"] = (w * pl + (1 - w) * cs) if pl.notna().all() and cs.notna().all() else pl.fillna(cs)
    if pl.notna().all() and cs.notna().all() and m > 1:
        agreement["tau_methods"] = float(stats.kendalltau(pl, cs).statistic)
    return scores, agreement
