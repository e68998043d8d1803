"""Backtest of the overdue alert on a generated gas world, whose truth says who switched and when.

The world is cut at each as-of date (transactions after it are unseen) and
four rules alert the members who bought within ``long_gone_days``:

* **segkit**: ``p_active`` from ``IntervalModel`` below the threshold;
* **oracle**: the same threshold rule on the *true* rhythm: each
  household's true mean interval and regularity (Gamma shape) and the
  generator's season, with the churn prior estimated the same way;
* **fixed 30 days**: the distributor's rule, more than 30 days since the
  last refill;
* **1.5 x own median gap**: more than 1.5 times the member's median gap
  (the population's median for members with one purchase).

Scores: **precision** = alerted members who really switched / alerted;
**recall** = alerted switchers / switchers whose missed refill was due
``recall_days`` or more before the as-of date and who bought within
``long_gone_days``; **F1**; and the median days from the missed refill to
the alert (the day the rule would first have fired).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd
from scipy import special

from ..data.parse import parse_day
from ..progress import progress
from .alerts import AlertRun, AlertSettings, churn_alerts
from .intervals import cure_fraction

RULES = ["segkit", "oracle", "fixed 30 days", "1.5 x own median gap"]
FIXED_RULE_DAYS = 30
OWN_MEDIAN_FACTOR = 1.5


def truth_as_of(truth: pd.DataFrame, as_of) -> pd.DataFrame:
    """The truth seen from ``as_of``: a household has switched by then if its final refill was on or before it."""
    as_of = parse_day(as_of)
    out = truth.copy()
    out["switched"] = truth["switched"].astype(bool) & (pd.to_datetime(truth["last_refill"]) <= as_of)
    out["missed_refill_due"] = pd.to_datetime(truth["missed_refill_due"]).where(out["switched"])
    return out


def switch_labels(truth: pd.DataFrame, member_ids: pd.Series, as_of: pd.Timestamp,
                  recall_days: int = 14) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``member_ids`` at ``as_of``: switched (by then), their missed refill's due date, and whether
    it was due ``recall_days`` or more before the as-of date (the switchers an alert should have caught)."""
    seen = truth_as_of(truth, as_of).set_index("member_id").reindex(member_ids)
    if seen["switched"].isna().any():
        raise ValueError("the truth table lacks some of the members who bought: is it the same world?")
    switched = seen["switched"].to_numpy(dtype=bool)
    due = seen["missed_refill_due"].to_numpy()
    return switched, due, switched & ((as_of.to_datetime64() - due) >= np.timedelta64(recall_days, "D"))


def alert_scores(alerted: np.ndarray, gone: np.ndarray, eligible: np.ndarray) -> dict:
    """Alerts, precision (alerted members who are gone), recall (of ``eligible``) and F1."""
    precision = (alerted & gone).sum() / alerted.sum() if alerted.sum() else np.nan
    recall = (alerted & eligible).sum() / eligible.sum() if eligible.sum() else np.nan
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"alerts": int(alerted.sum()), "precision": precision, "recall": recall, "f1": f1}


def backtest(transactions: pd.DataFrame, members: pd.DataFrame | None, truth: pd.DataFrame, as_of_dates: Iterable,
             settings: AlertSettings | None = None, recall_days: int = 14, label: str = "") -> pd.DataFrame:
    """Cut the world at each as-of date, run the alert and score the four rules: one row per (as_of, rule)."""
    settings = settings or AlertSettings()
    dates = [parse_day(d) for d in as_of_dates]
    tables = []
    with progress(f"backtest {label}".strip(), total=len(dates), unit="as-of") as bar:
        for as_of in dates:
            run = churn_alerts(transactions.loc[transactions["date"] <= as_of], as_of, members, settings)
            tables.append(score_rules(run, truth, recall_days).assign(world=label))
            bar.update()
    table = pd.concat(tables, ignore_index=True)
    return table[["world", *table.columns.drop("world")]]


def score_rules(run: AlertRun, truth: pd.DataFrame, recall_days: int = 14) -> pd.DataFrame:
    """Precision, recall, F1 and days to alert of segkit's alerts in ``run`` and of the other three
    rules on the same members, against a gas world's ``truth``: one row per rule."""
    from ..synth.gas import season_factor

    missing = {"true_mean_interval", "regularity_k", "switched", "last_refill", "missed_refill_due"} - set(truth)
    if missing:
        raise ValueError(f"the backtest needs a gas world's truth; missing {', '.join(sorted(missing))}")
    settings, as_of = run.settings, run.as_of
    pred = run.members.dropna(subset=["last_purchase"]).reset_index(drop=True)
    days = pred["days_since"].to_numpy(dtype=float)
    recent = days <= settings.long_gone_days
    switched, due, caught_late = switch_labels(truth, pred["member_id"], as_of, recall_days)
    eligible = caught_late & recent
    truth = truth.set_index("member_id").reindex(pred["member_id"])

    thr = settings.p_active_below
    alert_day = {"segkit": run.model.alert_days(run.gaps, thr)}
    alerted = {"segkit": (pred["status"] == "alert").to_numpy()}
    oracle_p, alert_day["oracle"] = _oracle(pred, truth, days, run.gaps, thr, season_factor)
    alerted["oracle"] = recent & (days >= alert_day["oracle"]) & (oracle_p < thr)
    alerted["fixed 30 days"] = recent & (days > FIXED_RULE_DAYS)
    alert_day["fixed 30 days"] = np.full(len(pred), FIXED_RULE_DAYS + 1.0)
    median_gap = _own_median_gap(run.gaps, pred["member_id"])
    alerted["1.5 x own median gap"] = recent & (days > OWN_MEDIAN_FACTOR * median_gap)
    alert_day["1.5 x own median gap"] = np.floor(OWN_MEDIAN_FACTOR * median_gap) + 1
    return pd.DataFrame([{"as_of": as_of.date(), "rule": rule,
                          **_scores(alerted[rule], switched, eligible, pred["last_purchase"].to_numpy(),
                                    alert_day[rule], due)} for rule in RULES])


def _oracle(pred, truth, days, gaps, thr, season_factor):
    """P(active) and the alert day of the threshold rule on each household's true rhythm (past the
    household's median interval, as segkit's alerts are past their expected date)."""
    k = truth["regularity_k"].to_numpy(dtype=float)
    mean = truth["true_mean_interval"].to_numpy(dtype=float) / season_factor(
        pd.to_datetime(pred["last_purchase"]).dt.dayofyear.to_numpy())
    survival = special.gammaincc(k, k * days / mean)
    q = cure_fraction(survival, int(gaps["event"].sum()))
    p_active = (1 - q) * survival / ((1 - q) * survival + q)
    target = min(q * thr / ((1 - q) * (1 - thr)), 1.0)
    median = np.round(mean / k * special.gammainccinv(k, 0.5))
    return p_active, np.maximum(mean / k * special.gammainccinv(k, target), median + 1)


def _own_median_gap(gaps: pd.DataFrame, member_ids: pd.Series) -> np.ndarray:
    completed = gaps.loc[gaps["event"]]
    own = completed.groupby("member_id", observed=True)["days"].median()
    median = own.reindex(member_ids.astype(object)).to_numpy(dtype=float)
    return np.where(np.isnan(median), float(own.median()), median)


def _scores(alerted, switched, eligible, last_purchase, alert_day, due) -> dict:
    caught = alerted & eligible
    fired = last_purchase[caught] + np.round(alert_day[caught]).astype("timedelta64[D]")
    delay = (fired - due[caught]) / np.timedelta64(1, "D")
    scores = alert_scores(alerted, switched, eligible)
    return {"alerts": scores.pop("alerts"), "switchers_due": int(eligible.sum()), **scores,
            "median_days_to_alert": float(np.median(delay)) if delay.size else np.nan}


def backtest_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per world and as-of date: segkit's F1 as a share of the oracle's, its margin over the better
    naive rule, and its precision."""
    f1 = table.pivot_table(index=["world", "as_of"], columns="rule", values="f1")
    precision = table.loc[table["rule"] == "segkit"].set_index(["world", "as_of"])["precision"]
    return pd.DataFrame({
        "segkit_f1": f1["segkit"],
        "oracle_f1": f1["oracle"],
        "share_of_oracle": f1["segkit"] / f1["oracle"],
        "best_naive_f1": f1[["fixed 30 days", "1.5 x own median gap"]].max(axis=1),
        "margin_over_naive": f1["segkit"] - f1[["fixed 30 days", "1.5 x own median gap"]].max(axis=1),
        "segkit_precision": precision,
    })
