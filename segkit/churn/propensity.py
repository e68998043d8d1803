"""Churn propensity: gradient boosting on member features and rhythms, trained across past cutoffs.

The label at a cutoff date is **churned**: no purchase in the ``horizon_days``
after it. Features, as of the cutoff: recency, frequency, spend, tenure, gap
statistics and refunds (``segkit.features``); RFM scores (relative to the
members of that day); the lifecycle stage and overdue ratio
(``segkit.segment.lifecycle``); and the interval model's P(active), P(due),
days overdue, typical interval and regularity. Members who never bought or are long gone at the cutoff are left
out, as in the alerts.

Splits follow time, never random rows: the booster learns from the earlier
cutoffs and its probabilities are calibrated (isotonic) on the latest one;
``evaluate`` scores a later cutoff it has not seen. A frame carries the
``horizon_days`` its label was built for, and a model takes only frames of its own horizon.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..estimator import Estimator
from ..features import member_features, purchase_occasions
from ..segment import lifecycle_stages, rfm_scores
from .alerts import AlertRun, AlertSettings, churn_alerts

FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "gap_mean",
    "gap_median",
    "gap_std",
    "last_gap",
    "refunds",
    "r_score",
    "f_score",
    "m_score",
    "overdue_ratio",
    "stage_code",
    "p_active",
    "p_due",
    "days_overdue",
    "typical_interval",
    "regularity_cv",
]


def propensity_frame(
    transactions: pd.DataFrame,
    cutoff: Any,
    horizon_days: int,
    members: pd.DataFrame | None = None,
    settings: AlertSettings | None = None,
    observed_until: Any = None,
    run: AlertRun | None = None,
) -> pd.DataFrame:
    """One row per member active at ``cutoff`` (bought within ``long_gone_days``): features, the
    ``horizon_days`` of the label and, when the data are observed ``horizon_days`` past the cutoff, the
    label ``churned`` (no purchase within them). ``observed_until``: the
    last day the transactions cover (default: their last date). ``run``: the alert run of that day,
    if already made.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Canonical transactions (``segkit.load_transactions``), including any after ``cutoff``
        (they make the label; the features see only those up to it).
    cutoff : str, date or Timestamp
        The day the features are taken on (``YYYY-MM-DD``).
    horizon_days : int
        Days after ``cutoff`` in which no purchase means ``churned``.
    members : pandas.DataFrame, optional
        Canonical members, for the covariates of the rhythm and the VIP rule.
    settings : AlertSettings, optional
        The alert's settings (default: ``AlertSettings()``).
    observed_until : str, date or Timestamp, optional
        The last day the transactions cover (default: their last date).
    run : AlertRun, optional
        The alert run of ``cutoff``, if already made (else it is made here).

    Returns
    -------
    pandas.DataFrame
        One row per member active at ``cutoff``: ``member_id``, ``cutoff``, ``horizon_days``,
        the ``FEATURES`` columns and, when the horizon is observed, ``churned`` (bool).

    Raises
    ------
    ValueError
        ``cutoff`` or ``observed_until`` is not a date.
    """
    settings = settings or AlertSettings()
    cutoff = parse_day(cutoff)
    seen = transactions.loc[transactions["date"] <= cutoff]
    if run is None or run.as_of != cutoff:
        run = churn_alerts(seen, cutoff, members, settings)
    rhythm = run.members.loc[run.members["status"].isin(["alert", "late", "not due"])]
    features = member_features(seen, cutoff)
    scores = rfm_scores(features).table.set_index("member_id")[["r_score", "f_score", "m_score"]]
    stages = lifecycle_stages(features).set_index("member_id")
    stages["stage_code"] = stages["stage"].cat.codes
    features = features.set_index("member_id").drop(columns=["first_purchase", "last_purchase"])
    frame = (
        rhythm[["member_id", "p_active", "p_due", "days_overdue", "typical_interval", "regularity_cv"]]
        .join(features, on="member_id")
        .join(scores, on="member_id")
        .join(stages[["overdue_ratio", "stage_code"]], on="member_id")
    )
    frame.insert(1, "cutoff", cutoff)
    frame.insert(2, "horizon_days", horizon_days)
    end = cutoff + pd.Timedelta(days=horizon_days)
    observed_until = parse_day(observed_until) if observed_until is not None else transactions["date"].max()
    if observed_until >= end:
        later = purchase_occasions(transactions, end)
        buyers = set(later.loc[later["date"] > cutoff, "member_id"])
        frame["churned"] = ~frame["member_id"].isin(buyers)
    return frame.reset_index(drop=True)


class ChurnPropensity(Estimator):
    """Calibrated gradient boosting of "no purchase in the next ``horizon_days``".

    ``fit(frames)`` takes ``propensity_frame`` outputs of two or more cutoffs, built with this model's
    ``horizon_days``; ``summary()`` is the training data by cutoff (members, churn rate, role).

    Parameters
    ----------
    horizon_days : int, default 60
        The label: churned means no purchase in this many days after the cutoff. The model takes only
        frames built for the same horizon.
    max_iter : int, default 200
        Boosting iterations (trees) of scikit-learn's ``HistGradientBoostingClassifier``.
    learning_rate : float, default 0.05
        Its learning rate (shrinkage of each tree).
    random_state : int, default 0
        Seed of the booster and of the permutation importance in ``evaluate``.

    Attributes
    ----------
    model_ : sklearn.calibration.CalibratedClassifierCV
        The booster, fitted on the earlier cutoffs and calibrated (isotonic) on the latest.
    cutoffs_ : list of datetime.date
        The training cutoffs, oldest first; the last one calibrates.
    base_rate_ : float
        The share of training rows that churned.
    training_ : pandas.DataFrame
        By cutoff: ``role`` (learn or calibrate), ``members`` and ``churn_rate`` (what ``summary``
        returns).

    Examples
    --------
    Frames are ``propensity_frame`` outputs, one per cutoff; these stand-ins have random features and
    a label that follows ``days_overdue``:

    >>> import numpy as np, pandas as pd
    >>> from segkit.churn.propensity import FEATURES, ChurnPropensity
    >>> rng = np.random.default_rng(0)
    >>> frames = []
    >>> for cutoff in ("2025-12-31", "2026-01-31", "2026-02-28"):
    ...     features = pd.DataFrame(rng.normal(size=(200, len(FEATURES))), columns=FEATURES)
    ...     churned = rng.random(200) < 1 / (1 + np.exp(-2 * features["days_overdue"]))
    ...     frames.append(features.assign(cutoff=pd.Timestamp(cutoff), horizon_days=30, churned=churned))
    >>> model = ChurnPropensity(horizon_days=30, max_iter=30).fit(frames[:2])
    >>> model
    <ChurnPropensity: no purchase within 30 days; trained on cutoffs 2025-12-31, 2026-01-31; base rate 51.0%>
    >>> model.summary()
                     role  members  churn_rate
    cutoff
    2025-12-31      learn      200       0.485
    2026-01-31  calibrate      200       0.535

    Scored on the later cutoff it has not seen:

    >>> scores = model.evaluate(frames[2], importance=False)
    >>> round(scores["auc"], 2), round(scores["top_decile_lift"], 2)
    (0.83, 1.72)
    """

    def __init__(self, horizon_days: int = 60, max_iter: int = 200, learning_rate: float = 0.05, random_state: int = 0):
        self.horizon_days = horizon_days
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, frames: pd.DataFrame | Iterable[pd.DataFrame]) -> "ChurnPropensity":
        """Learn from the earlier cutoffs, calibrate on the latest.

        Parameters
        ----------
        frames : pandas.DataFrame or iterable of pandas.DataFrame
            ``propensity_frame`` outputs (or their concatenation) of at least two cutoffs, built with
            this model's ``horizon_days`` and labelled (``churned``).

        Returns
        -------
        self
            The fitted model.

        Raises
        ------
        ValueError
            The frames have no ``horizon_days`` or another horizon than the model's, no ``churned``
            label (cutoffs too recent to know), or fewer than two cutoffs.
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import HistGradientBoostingClassifier

        data = frames if isinstance(frames, pd.DataFrame) else pd.concat(list(frames), ignore_index=True)
        churned = self._labels(data, "training")
        cutoffs = np.sort(data["cutoff"].unique())
        if len(cutoffs) < 2:
            raise ValueError("fit needs at least two cutoffs: the earlier to learn, the latest to calibrate")
        latest = (data["cutoff"] == cutoffs[-1]).to_numpy()
        split = [(np.flatnonzero(~latest), np.flatnonzero(latest))]
        booster = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.random_state
        )
        self.model_ = CalibratedClassifierCV(booster, method="isotonic", cv=split).fit(data[FEATURES], churned)
        self.cutoffs_ = [pd.Timestamp(c).date() for c in cutoffs]
        self.base_rate_ = float(churned.mean())
        self.training_ = (
            pd.DataFrame({"cutoff": data["cutoff"].dt.date, "churned": churned})
            .groupby("cutoff")["churned"]
            .agg(members="size", churn_rate="mean")
        )
        self.training_.insert(0, "role", np.where(self.training_.index == self.cutoffs_[-1], "calibrate", "learn"))
        return self

    def _labels(self, frame: pd.DataFrame, what: str) -> np.ndarray:
        """The 0/1 ``churned`` label of a ``propensity_frame`` built for this model's horizon."""
        if "horizon_days" not in frame:
            raise ValueError(f"the {what} frames have no 'horizon_days': build them with propensity_frame")
        horizons = sorted(frame["horizon_days"].unique())
        if horizons != [self.horizon_days]:
            raise ValueError(
                f"the {what} frames are labelled for {' and '.join(map(str, horizons))} days; this "
                f"model predicts no purchase within {self.horizon_days} days"
            )
        if "churned" not in frame:
            raise ValueError(f"the {what} frames have no 'churned' label: their cutoffs are too recent")
        return frame["churned"].astype(int).to_numpy()

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(churned) for each row of a ``propensity_frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            A ``propensity_frame`` output (its ``FEATURES`` columns; no label needed).

        Returns
        -------
        numpy.ndarray
            The calibrated probability that each member makes no purchase within ``horizon_days``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        return self.model_.predict_proba(frame[FEATURES])[:, 1]

    def evaluate(self, frame: pd.DataFrame, importance: bool = True) -> dict:
        """AUC, Brier score, lift in the top decile and (optionally) permutation importance on ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            A labelled ``propensity_frame`` of a cutoff the model was not trained on, built for its
            ``horizon_days``.
        importance : bool, default True
            Also compute the permutation importance of each feature (drop in AUC; three repeats,
            seconds on large frames).

        Returns
        -------
        dict
            ``members``, ``churn_rate``, ``auc``, ``brier``, ``top_decile_lift`` (churn rate in the top
            10 % of scores over the overall rate) and, with ``importance``, ``importance`` (a Series by
            feature, largest first).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            The frame has no label or another horizon than the model's.
        """
        from sklearn.inspection import permutation_importance
        from sklearn.metrics import brier_score_loss, roc_auc_score

        p = self.predict_proba(frame)
        y = self._labels(frame, "evaluation")
        top = p >= np.quantile(p, 0.9)
        scores = {
            "members": len(frame),
            "churn_rate": float(y.mean()),
            "auc": float(roc_auc_score(y, p)),
            "brier": float(brier_score_loss(y, p)),
            "top_decile_lift": float(y[top].mean() / y.mean()),
        }
        if importance:
            result = permutation_importance(
                self.model_, frame[FEATURES], y, scoring="roc_auc", n_repeats=3, random_state=self.random_state
            )
            scores["importance"] = pd.Series(result.importances_mean, index=FEATURES).sort_values(ascending=False)
        return scores

    def summary(self) -> pd.DataFrame:
        """The training data by cutoff: role (the earlier cutoffs teach the booster, the latest calibrates it),
        members and churn rate (the share with no purchase within ``horizon_days``).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``cutoff``: ``role``, ``members`` and ``churn_rate``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        return self.training_.copy()

    def _describe_fit(self) -> str:
        return (
            f"no purchase within {self.horizon_days} days; trained on cutoffs "
            f"{', '.join(map(str, self.cutoffs_))}; base rate {self.base_rate_:.1%}"
        )
