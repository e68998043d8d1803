"""The churn backtest: every method on the same members and as-of dates, scored the same way, in one table.

The transactions are cut at each as-of date (what came after is unseen),
the overdue alert runs, and each method (``segkit.evaluation.methods``) gives
every active member a score and an alert. Two kinds of truth:

* a generated gas world's ``truth``: **gone** = switched to a competitor by
  the as-of date; recall counts the switchers whose missed refill was due
  ``recall_days`` or more before it (those an alert should have caught), and
  **median days to alert** runs from that missed refill to the day the
  method's alert first fired;
* a holdout period (``holdout_end``, for real data such as CDNOW): **gone** =
  no purchase between the as-of date and ``holdout_end``.

Scores: **precision** = alerted members who are gone / alerted; **recall** =
alerted / catchable; **F1**; **AUC** of the score (how well it ranks gone
above staying, whatever the threshold).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import ibis
import numpy as np
import pandas as pd

from ..churn.alerts import AlertSettings, churn_alerts
from ..data.parse import parse_day
from ..engine import connection
from ..features import purchase_occasions
from ..progress import progress
from ..result import Result, rounded
from ..settings import resolve_settings
from .methods import METHODS, Verdict, method_verdicts
from .truth import check_gas_truth, check_truth_of, switch_labels

BACKTEST_COLUMNS = [
    "data",
    "as_of",
    "method",
    "members",
    "gone",
    "catchable",
    "alerts",
    "precision",
    "recall",
    "f1",
    "auc",
    "median_days_to_alert",
]
NAIVE_RULES = ["fixed 30 days", "1.5 x own median gap"]


@dataclass(repr=False)
class ChurnBacktest(Result):
    """The backtest table (``BACKTEST_COLUMNS``): one row per data set, as-of date and method.

    ``summary()`` is each method's mean scores; ``write(out)`` writes ``backtest.csv``.

    Attributes
    ----------
    table : pandas.DataFrame
        ``backtest.csv``: ``data``, ``as_of``, ``method``, ``members`` (active at the
        as-of date), ``gone``, ``catchable``, ``alerts``, ``precision``, ``recall``,
        ``f1``, ``auc`` and ``median_days_to_alert`` (NaN without a truth or for a
        method without alert days).
    """

    table: pd.DataFrame

    def _describe(self) -> str:
        return (
            f"{self.table['method'].nunique()} methods at {self.table['as_of'].nunique()} as-of date(s) "
            f"on {self.table['data'].nunique()} data set(s)"
        )

    def summary(self) -> pd.DataFrame:
        """Mean scores of each method over the data sets and as-of dates."""
        scores = ["alerts", "precision", "recall", "f1", "auc", "median_days_to_alert"]
        return self.table.groupby("method", sort=False)[scores].mean().reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"backtest.csv": rounded(self.table)}


def backtest_churn(
    transactions: pd.DataFrame,
    as_of_dates: Iterable,
    members: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    holdout_end: Any = None,
    settings: AlertSettings | str | Path | dict | None = None,
    horizon_days: int = 60,
    methods: Iterable[str] | None = None,
    recall_days: int = 14,
    label: str = "",
    backend: str = "duckdb",
    con: ibis.BaseBackend | None = None,
) -> ChurnBacktest:
    """Every churn method on the members active at each as-of date, scored against a gas world's ``truth``
    or a holdout period ending ``holdout_end`` (give one). ``methods``: a subset of ``METHODS`` (default: all
    that the truth allows; the oracle needs a gas world's). ``settings``: the alert's (``AlertSettings``, a YAML
    path or a mapping); ``horizon_days``: the propensity model's label; ``label`` names the data in the table.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions, including those after the as-of dates (a holdout's
        purchases; each as-of date sees only those up to it).
    as_of_dates : iterable of str, date or Timestamp
        The days to run the alert and the methods on.
    members : pandas.DataFrame, optional
        Canonical members (covariates and the VIP rule of the alert).
    truth : pandas.DataFrame, optional
        A generated gas world's truth (``World.truth``): gone = switched to a
        competitor by the as-of date. Give this or ``holdout_end``.
    holdout_end : str, date or Timestamp, optional
        For real data: gone = no purchase between the as-of date and this day.
    settings : AlertSettings, str, Path or dict, optional
        The overdue alert's settings (``churn_alerts``). None: the defaults.
    horizon_days : int, default 60
        The propensity method's label: no purchase in this many days.
    methods : iterable of str, optional
        A subset of ``METHODS`` ("fixed 30 days", "1.5 x own median gap", "interval
        model", "oracle", "BG/NBD", "MBG/CNBD-k", "propensity"); default: all that the
        truth allows (the oracle needs a gas world's truth).
    recall_days : int, default 14
        With a truth: a switcher is catchable when their missed refill was due this
        many days or more before the as-of date.
    label : str, default ""
        The name of the data in the table's ``data`` column.
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the queries run on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).

    Returns
    -------
    ChurnBacktest
        One row per as-of date and method with precision, recall, F1, AUC and the median
        days to alert.

    Raises
    ------
    ValueError
        Neither or both of ``truth`` and ``holdout_end`` given, a truth that is not a gas
        world's, an unknown method, the oracle without a truth, an as-of date that is not
        a date, or a setting unknown or out of range.

    Examples
    --------
    >>> import segkit
    >>> from segkit.synth import generate
    >>> world = generate("gas", 100, seed=1)
    >>> backtest = segkit.backtest_churn(world.transactions, ["2026-02-28"], world.members, truth=world.truth,
    ...                                  methods=["interval model", "fixed 30 days"], label="gas")
    >>> backtest
    <ChurnBacktest 2 methods at 1 as-of date(s) on 1 data set(s)>
    >>> backtest.summary()[["method", "alerts", "precision", "recall", "f1"]].round(2)
               method  alerts  precision  recall    f1
    0   fixed 30 days    15.0       0.27    1.00  0.42
    1  interval model     3.0       1.00    0.75  0.86
    """
    if (truth is None) == (holdout_end is None):
        raise ValueError("give either truth (a generated world's) or holdout_end (churned = no purchase in it)")
    if truth is not None:
        check_gas_truth(truth)
        check_truth_of(truth, transactions)
    methods = _chosen(methods, truth is not None)
    settings = resolve_settings(AlertSettings, settings)
    con = connection(backend, con)
    dates = list(dict.fromkeys(parse_day(day) for day in as_of_dates))  # a date given twice is scored once
    _check_dates(transactions, dates)
    if holdout_end is not None:
        _check_holdout(transactions, dates, parse_day(holdout_end))
    later = None if holdout_end is None else purchase_occasions(transactions, holdout_end, con=con)
    rows = []
    with progress(f"backtest {label}".strip(), total=len(dates), unit="as-of") as bar:
        for as_of in dates:
            seen = transactions.loc[transactions["date"] <= as_of]
            run = churn_alerts(seen, as_of, members, settings, con=con)
            active, verdicts = method_verdicts(run, seen, methods, members, truth, horizon_days, con)
            if truth is not None:
                gone, due, catchable = switch_labels(truth, active["member_id"], as_of, recall_days)
            else:
                buyers = set(later.loc[later["date"] > as_of, "member_id"])
                gone, due = ~active["member_id"].isin(buyers).to_numpy(), None
                catchable = gone
            for method, verdict in verdicts.items():
                rows.append(
                    {
                        "data": label,
                        "as_of": as_of.date(),
                        "method": method,
                        "members": len(active),
                        "gone": int(gone.sum()),
                        "catchable": int(catchable.sum()),
                        **alert_scores(verdict.alert, gone, catchable),
                        "auc": _auc(gone, verdict.score),
                        "median_days_to_alert": _median_days_to_alert(verdict, catchable, active, due),
                    }
                )
            bar.update()
    return ChurnBacktest(pd.DataFrame(rows, columns=BACKTEST_COLUMNS))


LATE_DAYS = 7  # an as-of date this many days past the transactions' last day is the file's last quiet days


def _check_dates(transactions: pd.DataFrame, dates: list[pd.Timestamp]) -> None:
    """An as-of date well past the transactions' last day reads every member as silent in days the file does not
    cover: every member alerted, every method scored on nothing (found by a helper: precision 0.015, exit 0)."""
    if not len(transactions):
        return
    last = pd.Timestamp(transactions["date"].max()).normalize()
    late = [day for day in dates if (day - last).days > LATE_DAYS]
    if late:
        raise ValueError(
            f"as-of date {late[0].date()} is {(late[0] - last).days} days after the transactions' last day "
            f"{last.date()}: every member would look silent in days the file does not cover; back-test on dates "
            "within the data"
        )


def _check_holdout(transactions: pd.DataFrame, dates: list[pd.Timestamp], holdout_end: pd.Timestamp) -> None:
    """A holdout that ends on or before an as-of date has no days to buy in, and one that runs past the data
    has days nobody could buy in: either way every member reads as gone, and every method scores perfectly.
    Found by a helper (precision 1.0 for every method, exit 0)."""
    if holdout_end <= max(dates):
        raise ValueError(
            f"holdout_end {holdout_end.date()} must be after every as-of date (the last: {max(dates).date()})"
        )
    last = pd.Timestamp(transactions["date"].max()).normalize()
    if (holdout_end - last).days > max(7, 0.1 * (holdout_end - max(dates)).days):
        warnings.warn(
            f"the holdout runs to {holdout_end.date()}, past the transactions' last day {last.date()}: members "
            "who would have bought after it count as gone",
            stacklevel=3,
        )


def _chosen(methods: Iterable[str] | None, has_truth: bool) -> list[str]:
    """The methods to run, in the order of ``METHODS``."""
    if methods is None:
        return [m for m in METHODS if has_truth or m != "oracle"]
    methods = set(methods)
    if unknown := sorted(methods - set(METHODS)):
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if "oracle" in methods and not has_truth:
        raise ValueError("the oracle needs a generated world's truth (each household's true rhythm)")
    return [m for m in METHODS if m in methods]


def alert_scores(alerted: np.ndarray, gone: np.ndarray, catchable: np.ndarray) -> dict:
    """Alerts, precision (alerted members who are gone), recall (of ``catchable``) and F1."""
    precision = (alerted & gone).sum() / alerted.sum() if alerted.sum() else np.nan
    recall = (alerted & catchable).sum() / catchable.sum() if catchable.sum() else np.nan
    # with nobody to catch F1 is unknown (NaN), not 0, which would pull an average across dates down; no alert
    # with somebody to catch is 0: the method missed them all
    if np.isnan(recall):
        f1 = np.nan
    elif np.isnan(precision) or precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {"alerts": int(alerted.sum()), "precision": precision, "recall": recall, "f1": f1}


def _auc(gone: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(gone, score)) if len(set(gone)) == 2 else np.nan


def _median_days_to_alert(
    verdict: Verdict, catchable: np.ndarray, active: pd.DataFrame, due: np.ndarray | None
) -> float:
    """Median days from the missed purchase's due date to the alert, over the caught members (truth only)."""
    if due is None or verdict.alert_day is None:
        return np.nan
    caught = verdict.alert & catchable
    fired = active["last_purchase"].to_numpy()[caught] + np.round(verdict.alert_day[caught]).astype("timedelta64[D]")
    delay = (fired - due[caught]) / np.timedelta64(1, "D")
    return float(np.median(delay)) if delay.size else np.nan


def backtest_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per data set and as-of date: the interval model's F1 as a share of the oracle's, its margin over the
    better naive rule, and its precision."""
    f1 = table.pivot_table(index=["data", "as_of"], columns="method", values="f1")
    precision = table.loc[table["method"] == "interval model"].set_index(["data", "as_of"])["precision"]
    return pd.DataFrame(
        {
            "segkit_f1": f1["interval model"],
            "oracle_f1": f1["oracle"],
            "share_of_oracle": f1["interval model"] / f1["oracle"],
            "best_naive_f1": f1[NAIVE_RULES].max(axis=1),
            "margin_over_naive": f1["interval model"] - f1[NAIVE_RULES].max(axis=1),
            "segkit_precision": precision,
        }
    )
