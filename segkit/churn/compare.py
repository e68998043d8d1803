"""Every churn method on the same members, as-of dates and data, scored the same way.

Methods, each giving every member active at the as-of date (bought within
``long_gone_days``) a "gone" score and an alert:

==========================  ======================================================  ===========================
method                      score                                                   alert
==========================  ======================================================  ===========================
fixed 30 days               days since the last purchase                            more than 30
1.5 x own median gap        days since / own median gap                             more than 1.5
interval model              1 - P(active) (``IntervalModel``)                       P(active) below threshold
BG/NBD                      1 - P(alive) (``BetaGeoModel``, weeks)                  P(alive) below threshold
MBG/CNBD-k                  1 - P(alive) (``MBGCNBDModel``, weeks)                  P(alive) below threshold
propensity                  P(no purchase in ``horizon_days``) (``ChurnPropensity``  above 0.5
                            trained on earlier cutoffs)
==========================  ======================================================  ===========================

Two kinds of truth: a generated gas world's (``truth``: who switched, as in
``segkit.churn.backtest``), or a holdout period (``holdout_end``: churned =
no purchase in it, as on CDNOW). Scores: alerts, precision, recall, F1 and
the AUC of the score.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..features.member import purchase_occasions
from .alerts import AlertSettings, churn_alerts
from .backtest import FIXED_RULE_DAYS, OWN_MEDIAN_FACTOR, _own_median_gap, alert_scores, switch_labels

METHODS = ["fixed 30 days", "1.5 x own median gap", "interval model", "BG/NBD", "MBG/CNBD-k", "propensity"]


def churn_method_scores(transactions: pd.DataFrame, as_of: Any, members: pd.DataFrame | None = None,
                        settings: AlertSettings | None = None, horizon_days: int = 60, training_cutoffs: int = 3,
                        k_max: int = 12) -> pd.DataFrame:
    """One row per member active at ``as_of``: ``score[<method>]`` and ``alert[<method>]`` for every method."""
    from ..clv import BetaGeoModel, MBGCNBDModel, btyd_summary
    from .propensity import ChurnPropensity, propensity_frame

    settings = settings or AlertSettings()
    as_of = parse_day(as_of)
    seen = transactions.loc[transactions["date"] <= as_of]
    run = churn_alerts(seen, as_of, members, settings)
    table = run.members.loc[run.members["status"].isin(["alert", "late", "not due"]),
                            ["member_id", "days_since", "p_active", "status"]].reset_index(drop=True)
    days = table["days_since"].to_numpy(dtype=float)
    ratio = days / _own_median_gap(run.gaps, table["member_id"])
    thr = settings.p_active_below
    columns = {
        "fixed 30 days": (days, days > FIXED_RULE_DAYS),
        "1.5 x own median gap": (ratio, ratio > OWN_MEDIAN_FACTOR),
        "interval model": (1 - table["p_active"].to_numpy(dtype=float), (table["status"] == "alert").to_numpy()),
    }
    summary = btyd_summary(seen, as_of, unit="W").set_index("member_id")    # fitted on every customer
    active = summary.loc[table["member_id"]]
    for name, model in (("BG/NBD", BetaGeoModel()), ("MBG/CNBD-k", MBGCNBDModel(k_max=k_max))):
        alive = model.fit(summary).probability_alive(active["frequency"], active["recency"], active["T"])
        columns[name] = (1 - alive, alive < thr)
    cutoffs = [as_of - pd.Timedelta(days=horizon_days + 30 * i) for i in range(training_cutoffs)]
    frames = [propensity_frame(seen, c, horizon_days, members, settings, observed_until=as_of) for c in sorted(cutoffs)]
    propensity = ChurnPropensity(horizon_days).fit(frames)
    now = propensity_frame(seen, as_of, horizon_days, members, settings, run=run).set_index("member_id")
    p_churn = propensity.predict_proba(now.loc[table["member_id"]])
    columns["propensity"] = (p_churn, p_churn > 0.5)
    out = table[["member_id", "days_since"]].copy()
    for name, (score, alert) in columns.items():
        out[f"score[{name}]"] = score
        out[f"alert[{name}]"] = alert
    return out


def compare_churn_methods(transactions: pd.DataFrame, as_of_dates: Iterable, members: pd.DataFrame | None = None,
                          truth: pd.DataFrame | None = None, holdout_end: Any = None,
                          settings: AlertSettings | None = None, horizon_days: int = 60, recall_days: int = 14,
                          label: str = "") -> pd.DataFrame:
    """The backtest table: one row per (as-of date, method), against ``truth`` or a holdout."""
    from sklearn.metrics import roc_auc_score

    if (truth is None) == (holdout_end is None):
        raise ValueError("give either truth (a generated world's) or holdout_end (churned = no purchase in it)")
    rows = []
    for as_of in map(parse_day, as_of_dates):
        scores = churn_method_scores(transactions, as_of, members, settings, horizon_days)
        if truth is not None:
            gone, _, eligible = switch_labels(truth, scores["member_id"], as_of, recall_days)
        else:
            end = parse_day(holdout_end)
            later = purchase_occasions(transactions, end)
            buyers = set(later.loc[later["date"] > as_of, "member_id"])
            gone = ~scores["member_id"].isin(buyers).to_numpy()
            eligible = gone
        for method in METHODS:
            alert = scores[f"alert[{method}]"].to_numpy(dtype=bool)
            both = len(set(gone)) == 2
            rows.append({"data": label, "as_of": as_of.date(), "method": method, "members": len(scores),
                         "gone": int(gone.sum()), **alert_scores(alert, gone, eligible),
                         "auc": roc_auc_score(gone, scores[f"score[{method}]"]) if both else np.nan})
    return pd.DataFrame(rows)
