"""Every churn method's verdict on the same members: a "gone" score, an alert and, where the rule has one,
the day after the last purchase on which its alert fires.

The members are those active at the as-of date (bought within ``long_gone_days``):

==========================  ======================================================  ===========================
method                      score                                                   alert
==========================  ======================================================  ===========================
fixed 30 days               days since the last purchase                            more than 30
1.5 x own median gap        days since / own median gap (the population's median    more than 1.5
                            for members with one purchase)
interval model              1 - P(active) (``IntervalModel``: the overdue alert)    past the expected date and
                                                                                    P(active) below threshold
oracle                      1 - P(active) of the same rule on each household's      the same
                            *true* rhythm and season (a gas world's truth)
BG/NBD                      1 - P(alive) (``BetaGeoModel``, weeks)                  P(alive) below threshold
MBG/CNBD-k                  1 - P(alive) (``MBGCNBDModel``, weeks)                  P(alive) below threshold
propensity                  P(no purchase in ``horizon_days``) (``ChurnPropensity`` above 0.5
                            trained on three earlier cutoffs, a month apart)
==========================  ======================================================  ===========================

The BTYD models are fitted on every customer and scored on the active ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from scipy import special

from ..churn.alerts import AlertRun
from ..churn.empirical_bayes import cure_fraction
from ..features import GapTable, gap_batches

METHODS = ["fixed 30 days", "1.5 x own median gap", "interval model", "oracle", "BG/NBD", "MBG/CNBD-k", "propensity"]
ACTIVE = ["alert", "late", "not due"]  # statuses of members who bought within long_gone_days
FIXED_RULE_DAYS = 30
OWN_MEDIAN_FACTOR = 1.5
TRAINING_CUTOFFS = 3  # propensity: cutoffs ending horizon_days, +30, +60 days earlier


@dataclass
class Verdict:
    """One method on the active members: ``score`` (higher: more likely gone), ``alert`` and ``alert_day``
    (days after the last purchase on which the alert fires; None for methods without one)."""

    score: np.ndarray
    alert: np.ndarray
    alert_day: np.ndarray | None = None


def method_verdicts(
    run: AlertRun,
    seen: pd.DataFrame,
    methods: list[str],
    members: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    horizon_days: int = 60,
    con: ibis.BaseBackend | None = None,
) -> tuple[pd.DataFrame, dict[str, Verdict]]:
    """The active members of ``run`` (``member_id``, ``last_purchase``, ``days_since``) and each method's
    verdict on them. ``seen``: the transactions up to the run's as-of date; ``truth``: a gas world's, for the
    oracle."""
    settings, as_of, threshold = run.settings, run.as_of, run.settings.p_active_below
    buyers = run.members.dropna(subset=["last_purchase"]).reset_index(drop=True)  # in the order of run.gaps
    active = buyers["status"].isin(ACTIVE).to_numpy()
    table = buyers.loc[active, ["member_id", "last_purchase", "days_since", "p_active", "status"]].reset_index(
        drop=True
    )
    days = table["days_since"].to_numpy(dtype=float)
    verdicts = {}
    if "fixed 30 days" in methods:
        verdicts["fixed 30 days"] = Verdict(days, days > FIXED_RULE_DAYS, np.full(len(days), FIXED_RULE_DAYS + 1.0))
    if "1.5 x own median gap" in methods:
        median = own_median_gap(run.gaps, table["member_id"])
        ratio = days / median
        verdicts["1.5 x own median gap"] = Verdict(
            ratio, ratio > OWN_MEDIAN_FACTOR, np.floor(OWN_MEDIAN_FACTOR * median) + 1
        )
    if "interval model" in methods:
        verdicts["interval model"] = Verdict(
            1 - table["p_active"].to_numpy(dtype=float),
            (table["status"] == "alert").to_numpy(),
            run.model.alert_days(run.gaps, threshold)[active],
        )
    if "oracle" in methods:
        # Over every buyer, long gone ones included: the churn prior comes from every open gap, as segkit's does.
        p_active, alert_day = _oracle(buyers, truth, run.gaps, threshold)
        p_active, alert_day = p_active[active], alert_day[active]
        verdicts["oracle"] = Verdict(1 - p_active, (days >= alert_day) & (p_active < threshold), alert_day)
    btyd = [name for name in ("BG/NBD", "MBG/CNBD-k") if name in methods]
    if btyd:
        from ..clv import BetaGeoModel, MBGCNBDModel, btyd_summary

        summary = btyd_summary(seen, as_of, unit="W", con=con).set_index("member_id")
        scored = summary.loc[table["member_id"]]
        for name in btyd:
            model = {"BG/NBD": BetaGeoModel, "MBG/CNBD-k": MBGCNBDModel}[name]().fit(summary)
            alive = model.probability_alive(scored["frequency"], scored["recency"], scored["T"])
            verdicts[name] = Verdict(1 - alive, alive < threshold)
    if "propensity" in methods:
        from ..churn.propensity import ChurnPropensity, propensity_frame

        cutoffs = sorted(as_of - pd.Timedelta(days=horizon_days + 30 * i) for i in range(TRAINING_CUTOFFS))
        frames = [
            propensity_frame(seen, cutoff, horizon_days, members, settings, observed_until=as_of) for cutoff in cutoffs
        ]
        model = ChurnPropensity(horizon_days=horizon_days).fit(frames)
        now = propensity_frame(seen, as_of, horizon_days, members, settings, run=run).set_index("member_id")
        p_churn = model.predict_proba(now.loc[table["member_id"]])
        verdicts["propensity"] = Verdict(p_churn, p_churn > 0.5)
    return table[["member_id", "last_purchase", "days_since"]], {m: verdicts[m] for m in methods}


def own_median_gap(gaps: pd.DataFrame | GapTable, member_ids: pd.Series) -> np.ndarray:
    """Each member's median completed gap; the median of those for members with none."""
    own = pd.concat(
        [batch.loc[batch["event"]].groupby("member_id", observed=True)["days"].median() for batch in gap_batches(gaps)]
    )
    median = own.reindex(member_ids.astype(object)).to_numpy(dtype=float)
    return np.where(np.isnan(median), float(own.median()), median)


def _oracle(
    buyers: pd.DataFrame, truth: pd.DataFrame, gaps: GapTable, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """P(active) and the alert day of the threshold rule on each household's true rhythm (Gamma intervals
    around the true mean at the season of the last purchase), past the household's median interval as
    segkit's alerts are past their expected date; the churn prior estimated as segkit estimates it."""
    from ..synth.gas import season_factor

    rhythm = truth.set_index("member_id").reindex(buyers["member_id"])
    days = buyers["days_since"].to_numpy(dtype=float)
    k = rhythm["regularity_k"].to_numpy(dtype=float)
    mean = rhythm["true_mean_interval"].to_numpy(dtype=float) / season_factor(
        pd.to_datetime(buyers["last_purchase"]).dt.dayofyear.to_numpy()
    )
    survival = special.gammaincc(k, k * days / mean)
    q = cure_fraction(survival, gaps.n_completed)
    p_active = (1 - q) * survival / ((1 - q) * survival + q)
    target = min(q * threshold / ((1 - q) * (1 - threshold)), 1.0)
    median = np.round(mean / k * special.gammainccinv(k, 0.5))
    return p_active, np.maximum(mean / k * special.gammainccinv(k, target), median + 1)
