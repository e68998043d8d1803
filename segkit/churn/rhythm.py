"""Each member's purchase rhythm as a survival model of the gaps between purchases.

The data: every gap between two consecutive purchase occasions of a member
is a completed duration (an *event*); the gap from the last purchase to the
as-of date is still open, a right-censored duration
(``segkit.features.purchase_gaps`` cuts the transactions into that table in
the engine).

The model (``IntervalModel``), on the log scale, for gap ``j`` of member ``i``::

    log T_ij = x_ij' beta + u_i + sigma_i * e_ij,      e_ij ~ N(0, 1)

* ``x_ij' beta`` is the **group rhythm**: a log-normal accelerated failure
  time model (lifelines ``LogNormalAFTFitter``, censored open gaps included)
  on household size, units bought at the start of the gap (cylinders), main
  product, season (cosine and sine of the day of year the gap starts:
  winter burns more gas) and holidays (a Spring Festival within a typical
  interval of the start: families travel and refill later).
* ``u_i`` is the member's own **pace**: how much faster or slower than their
  group they buy. Prior ``u_i ~ N(delta, tau^2)``; the posterior mean shrinks
  the mean of their residuals toward ``delta`` by ``tau^2 / (tau^2 +
  sigma_i^2 / n_i)``, so one gap moves a member a little and twenty gaps
  move them almost all the way (empirical Bayes: ``delta`` and ``tau^2`` by
  the method of moments across members).
* ``sigma_i`` is the member's own **regularity**: some refill like clockwork,
  some do not. Their residual variance is moderated toward the population's
  ``s0^2`` with ``d0`` prior degrees of freedom, estimated from the spread of
  the members' variances (Smyth's empirical Bayes, as in limma):
  ``sigma_i^2 = (d0 s0^2 + d_i s_i^2) / (d0 + d_i)``, ``d_i = n_i - 1``.
  The priors are in ``segkit.churn.empirical_bayes``.

The predictive distribution of a member's open gap is then a log-Student-t
with ``d0 + d_i`` degrees of freedom, centred on their pace at the season of
their last purchase, with scale ``sqrt(sigma_i^2 + var(u_i | data))``: wide
(cautious) for a member with one purchase, tight for one with fifty. It is
then **calibrated**: every completed gap is predicted from the member's other
gaps, and the distribution of those probability integral transforms (per band
of how many gaps a prediction rests on) corrects the tail (``segkit.churn.predictive``).

Churn enters as a cure fraction: with probability ``q`` a purchase is the
member's last (they switched). Given an open gap of ``t`` days,
``P(active | t) = (1 - q) S(t) / ((1 - q) S(t) + q)`` where ``S`` is the
member's calibrated predictive survival. ``q`` is estimated by EM over every
gap, completed and open (``cure_fraction``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..calendar import holiday_ahead, holidays
from ..estimator import Estimator
from ..features.gaps import GapTable, gap_batches
from .empirical_bayes import cure_fraction, moderation_prior, pace_prior
from .predictive import Calibration, GapPredictive

YEAR_DAYS = 365.25
COVARIATES = ("household_size", "quantity", "product", "season", "holiday")
_MIN_PRODUCT_SHARE = 0.02
# Fewer completed gaps than this give no group rhythm: 3 gaps of 3 members, with five covariates, fitted a
# median of 1e45 days and alerted members who had bought four days before
MIN_COMPLETED_GAPS = 30
# Gaps built or scored at a time. A power of two: each row then meets the same vector arithmetic (SIMD lanes)
# as all at once, to the last bit (batches of 7 changed the last digit of 1 % of the typical intervals).
_BATCH_GAPS = 1 << 20
_MAX_DAYS_AHEAD = 36_525  # a predicted date further ahead than a century is missing


def _season(start: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    angle = 2 * np.pi * start.dt.dayofyear.to_numpy() / YEAR_DAYS
    return np.cos(angle), np.sin(angle)


class IntervalModel(Estimator):
    """Each member's rhythm: a group AFT model (lifelines) with empirical-Bayes member pace and regularity.

    The model is described in the module docstring. ``fit`` takes the gap table of
    ``segkit.features.purchase_gaps`` (one row per completed gap, ``event`` True, and
    one open gap per member up to the as-of date); ``predict`` scores the open gaps of
    a gap table cut the same way, on the day it was cut.

    Parameters
    ----------
    covariates : "auto" or list, default "auto"
        Group covariates among ``household_size``, ``quantity``, ``product``,
        ``season``, ``holiday``. "auto" uses those the gap table has.
    holidays : str, list of dates or None, default "spring_festival"
        The calendar of the ``holiday`` covariate: ``spring_festival`` (the
        default), your own dates, or None.
    max_open_gap_days : int, default 180
        Open gaps longer than this are taken as gone members: they are left
        out of the group fit.
    fit_sample_gaps : int, default 150_000
        The group model is fitted on the gaps of members chosen at random
        until about this many gaps; member effects always use every gap.
    churn_prior : float or None, default None
        ``q``, the prior probability that a last purchase was the final one.
        None: estimated by EM.
    random_state : int, default 0
        Seed of the member sample of the group fit and of the calibration's
        tie-breaking: the same data and seed give the same model.

    Attributes
    ----------
    covariates_ : list of str
        The group covariates used (those without a usable value are dropped).
    design_columns_ : list of str
        The group model's design columns (``log_household_size``, ``season_cos``,
        ``product[...]``, ...), without columns that say what an earlier one says.
    group_model_ : lifelines.LogNormalAFTFitter
        The fitted group rhythm.
    coef_ : pandas.Series
        Its coefficients on the log-interval scale, ``Intercept`` first.
    group_scale_ : float
        The spread of log gaps around the group rhythm (sigma).
    pace_mean_, pace_var_ : float
        The prior of member pace: ``delta`` and ``tau^2``.
    prior_df_, prior_var_ : float
        The prior of member regularity: ``d0`` and ``s0^2``.
    members_ : pandas.DataFrame
        One row per member (index ``member_id``): completed ``gaps``, posterior
        ``pace`` and ``pace_var``, ``regularity`` (sigma_i) and predictive ``df``.
    calibration_ : segkit.churn.Calibration
        The calibration of the predictive tail from leave-one-out PITs.
    churn_prior_ : float
        ``q``: ``churn_prior`` if given, else the EM estimate.
    median_interval_ : float
        The median of the members' typical intervals, in days.
    calendar_ : pandas.DatetimeIndex
        The holiday dates of the ``holiday`` covariate.
    holiday_window_ : float
        Days ahead in which a holiday counts: the median completed gap.
    fill_values_ : dict of str to float
        Medians that stand in for missing household sizes and quantities.
    product_levels_ : list of str
        Products with at least 2 % of the gaps, the first the baseline (only
        with the ``product`` covariate).
    n_gaps_ : int
        Completed gaps behind the member effects.
    n_members_ : int
        Members with at least one completed gap.

    Examples
    --------
    >>> from segkit.churn import IntervalModel, purchase_gaps
    >>> from segkit.synth import generate
    >>> world = generate("gas", 100, seed=1)
    >>> gaps = purchase_gaps(world.transactions, "2026-03-31", world.members)
    >>> model = IntervalModel().fit(gaps)
    >>> model
    <IntervalModel: 1,547 gaps of 97 members; covariates household_size, quantity, product, season, holiday; ...>
    >>> model.design_columns_
    ['log_household_size', 'log_quantity', 'season_cos', 'season_sin', 'holiday_ahead']

    Member 0000003 usually refills about every 31 days; 53 days after the last
    refill, 22 days overdue, they are probably still a customer:

    >>> row = model.predict(gaps).set_index("member_id").loc["0000003"]
    >>> round(float(row.typical_interval)), int(row.days_since), int(row.days_overdue), round(float(row.p_active), 2)
    (31, 53, 22, 0.78)
    """

    def __init__(
        self,
        covariates: str | list[str] = "auto",
        holidays: Any = "spring_festival",
        max_open_gap_days: int = 180,
        fit_sample_gaps: int = 150_000,
        churn_prior: float | None = None,
        random_state: int = 0,
    ):
        self.covariates = covariates
        self.holidays = holidays
        self.max_open_gap_days = max_open_gap_days
        self.fit_sample_gaps = fit_sample_gaps
        self.churn_prior = churn_prior
        self.random_state = random_state

    # -- design -------------------------------------------------------------
    def _resolve_covariates(self, gaps: pd.DataFrame) -> list[str]:
        if self.covariates == "auto":
            wanted = [c for c in COVARIATES if c in ("season", "holiday") or c in gaps.columns]
        else:
            wanted = list(self.covariates)
            unknown = sorted(set(wanted) - set(COVARIATES))
            if unknown:
                raise ValueError(f"unknown covariate(s) {', '.join(unknown)}; choose from {', '.join(COVARIATES)}")
            missing = [c for c in wanted if c not in ("season", "holiday") and c not in gaps.columns]
            if missing:
                raise ValueError(
                    f"covariate(s) {', '.join(missing)} not in the gap table; columns: {', '.join(gaps.columns)}"
                )
        return wanted

    def _design(self, gaps: pd.DataFrame) -> pd.DataFrame:
        """Covariate columns for the rows of ``gaps`` (fill values and product levels fixed at fit)."""
        columns: dict[str, np.ndarray] = {}
        for name in self.covariates_:
            if name == "household_size":
                size = gaps["household_size"].to_numpy(dtype=float)
                columns["log_household_size"] = np.log(
                    np.where(np.isfinite(size) & (size > 0), size, self.fill_values_["household_size"])
                )
            elif name == "quantity":
                quantity = gaps["quantity"].to_numpy(dtype=float)
                columns["log_quantity"] = np.log(
                    np.where(np.isfinite(quantity) & (quantity > 0), quantity, self.fill_values_["quantity"])
                )
            elif name == "product":
                product = gaps["product"].astype(object)
                for level in self.product_levels_[1:]:
                    columns[f"product[{level}]"] = (product == level).to_numpy(dtype=float)
            elif name == "season":
                columns["season_cos"], columns["season_sin"] = _season(gaps["start"])
            elif name == "holiday":
                columns["holiday_ahead"] = holiday_ahead(gaps["start"].to_numpy(), self.calendar_, self.holiday_window_)
        return pd.DataFrame(columns, index=gaps.index)

    def _group_log_interval_of(self, gaps: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
        """The group rhythm of the gaps at ``positions``, a batch at a time: the design of every gap of a
        large file at once would be several times the gap table."""
        out = np.empty(len(positions))
        for start in range(0, len(positions), _BATCH_GAPS):
            batch = positions[start : start + _BATCH_GAPS]
            out[start : start + len(batch)] = self._group_log_interval(self._design(gaps.iloc[batch]))
        return out

    def _group_log_interval(self, design: pd.DataFrame) -> np.ndarray:
        coef = self.coef_
        return coef["Intercept"] + design[coef.index.drop("Intercept")].to_numpy() @ coef.drop("Intercept").to_numpy()

    # -- fit ----------------------------------------------------------------
    def fit(self, gaps: pd.DataFrame | GapTable) -> "IntervalModel":
        """Fit the group model on a sample of members, then every member's pace and regularity.

        Three passes over the gaps, a range of members at a time when ``gaps`` is a ``GapTable``
        (one batch when it is a DataFrame): counts and medians; the group model's sample; every completed
        gap's residual, summed per member. What is held grows with the members, not with the gaps.

        Parameters
        ----------
        gaps : pandas.DataFrame or segkit.features.GapTable
            The gap table of ``segkit.features.purchase_gaps`` (or ``gap_table``): ``member_id``
            (categorical), ``start`` (the purchase opening the gap), ``days``,
            ``event`` (True for a completed gap, False for each member's open
            one), and the covariates' columns it has (``household_size``,
            ``quantity``, ``product``).

        Returns
        -------
        self
            The fitted model.

        Raises
        ------
        ValueError
            The gap table lacks ``member_id``, ``start``, ``days`` or ``event``;
            no member has two purchase occasions (no completed gap), or fewer than
            ``MIN_COMPLETED_GAPS`` gaps are completed; a covariate
            named in ``covariates`` is unknown or not in the gap table; an
            unknown holiday calendar; the group model did not converge (the
            message names the covariates).
        """
        from lifelines import LogNormalAFTFitter

        required = {"member_id", "start", "days", "event"}
        if missing := sorted(required - set(gaps.columns)):
            raise ValueError(f"gap table lacks {', '.join(missing)}; build it with purchase_gaps()")
        self.covariates_ = self._resolve_covariates(gaps)
        self.calendar_ = holidays(self.holidays)
        tally = self._tally(gaps)
        if not tally["completed"].any():
            raise ValueError("no member has two purchase occasions: there is no interval to learn a rhythm from")
        if (completed := int(tally["completed"].sum())) < MIN_COMPLETED_GAPS:
            raise ValueError(
                f"only {completed} completed gap(s) between purchases ({int((tally['completed'] > 0).sum())} "
                f"member(s) bought twice): too few to learn the group's rhythm (at least {MIN_COMPLETED_GAPS}); "
                "a later as-of date or a longer history gives more"
            )
        self.holiday_window_ = _median(*tally["days"])
        self.fill_values_ = {}
        for column in ("household_size", "quantity"):
            if column in self.covariates_:
                if tally[column][0].size:
                    self.fill_values_[column] = _median(*tally[column])
                else:  # no usable value at all: not a covariate
                    self.covariates_.remove(column)
        if "product" in self.covariates_:
            share = pd.Series(tally["product"], dtype=float)
            share = (share / share.sum()).sort_values(ascending=False, kind="stable")
            self.product_levels_ = list(share.index[share >= _MIN_PRODUCT_SHARE])

        # Group rhythm: lifelines on a sample of whole members (open gaps of gone members left out).
        n_members = len(tally["members"])
        order = np.random.default_rng(self.random_state).permutation(n_members)
        per_member = tally["usable"][order]
        chosen = np.zeros(n_members, dtype=bool)
        chosen[order[: np.searchsorted(np.cumsum(per_member), self.fit_sample_gaps) + 1]] = True
        sample, frame = self._group_fit_rows(gaps, chosen, every=max(1, tally["rows"] // 200_000))
        self.design_columns_ = _independent_columns(sample)
        frame = frame[self.design_columns_ + ["days", "event"]]
        try:
            self.group_model_ = LogNormalAFTFitter().fit(frame, "days", "event")
        except Exception as error:  # lifelines raises its own ConvergenceError, among others
            raise ValueError(
                f"the group rhythm model did not converge on {len(frame):,} gaps "
                f"(covariates {', '.join(self.design_columns_) or 'none'}): {error}"
            ) from error
        params = self.group_model_.params_.loc["mu_"]
        self.coef_ = params.reindex(["Intercept", *self.design_columns_])
        self.group_scale_ = float(np.exp(self.group_model_.params_.loc[("sigma_", "Intercept")]))

        # Member pace and regularity from every completed gap's residual; the calibration's rows drawn beforehand.
        kept = Calibration.kept_rows(tally["completed"], np.random.default_rng(self.random_state))
        n, mean, squares, held_out = self._member_residuals(gaps, n_members, kept)
        d = np.maximum(n - 1, 0)
        self.prior_df_, self.prior_var_ = moderation_prior(
            np.divide(squares, d, out=np.full(n_members, np.nan), where=d > 0), d
        )
        self.pace_mean_, self.pace_var_ = pace_prior(mean, n, self._regularity_var(n, squares))
        pace, pace_var, sigma2, df = self._posterior(n, mean, squares)
        self.members_ = pd.DataFrame(
            {"gaps": n.astype(np.int64), "pace": pace, "pace_var": pace_var, "regularity": np.sqrt(sigma2), "df": df},
            index=tally["members"].rename("member_id"),  # a new index: the gap table's categories keep no name
        )
        # Each kept completed gap predicted from the member's other gaps (see _leave_one_out_pit).
        self.calibration_ = Calibration.from_kept(
            {b: self._leave_one_out_pit(*rows, n, mean, squares) for b, rows in held_out.items()}
        )

        open_rows = _open_gaps(gaps)

        def typical_and_survival(rows, fitted, predictive: GapPredictive) -> dict[str, np.ndarray]:
            scores = {"typical": predictive.median()}
            if self.churn_prior is None:
                scores["survival"] = predictive.survival(rows["days"].to_numpy(dtype=float))
            return scores

        scores = self._scored(open_rows, typical_and_survival)
        self.median_interval_ = float(np.median(scores["typical"]))
        n_completed = int(tally["completed"].sum())
        if self.churn_prior is not None:
            self.churn_prior_ = float(self.churn_prior)
        else:
            self.churn_prior_ = cure_fraction(scores["survival"], n_completed=n_completed)
        self.n_gaps_ = n_completed
        self.n_members_ = int((n > 0).sum())
        return self

    def _tally(self, gaps: pd.DataFrame | GapTable) -> dict[str, Any]:
        """The first pass: the members in order, their completed and usable gaps (open gaps of gone members are
        not usable), the rows, and the value counts behind the medians and the product shares."""
        members, completed, usable, values = [], [], [], {"days": [], "household_size": [], "quantity": []}
        products: dict[Any, int] = {}
        rows = 0
        known, held = gaps.open["member_id"].cat.categories if isinstance(gaps, GapTable) else None, 0
        for batch in gap_batches(gaps):
            codes = batch["member_id"].cat.codes.to_numpy().astype(np.intp)  # int8 in a small batch
            categories = batch["member_id"].cat.categories
            size = len(categories)
            days = batch["days"].to_numpy(dtype=float)
            event = batch["event"].to_numpy()
            if known is not None:  # a range read back from disk brings its ids as new strings: members_ holds
                same = known[held : held + size]  # the open gaps' instead (a second copy: 680 MB on 10M)
                categories = same if same.equals(categories) else categories
                held += size
            members.append(categories)
            completed.append(np.bincount(codes[event], minlength=size))
            usable.append(np.bincount(codes[self._usable(days, event)], minlength=size))
            values["days"].append(np.unique(batch["days"].to_numpy()[event], return_counts=True))
            for column in ("household_size", "quantity"):
                if column in self.covariates_:
                    present = batch[column].to_numpy(dtype=float)
                    values[column].append(np.unique(present[np.isfinite(present) & (present > 0)], return_counts=True))
            if "product" in self.covariates_:
                for level, count in batch.loc[event, "product"].value_counts(sort=False).items():
                    products[level] = products.get(level, 0) + int(count)
            rows += len(batch)
        tally = {
            "members": members[0].append(members[1:]) if len(members) > 1 else members[0],
            "completed": np.concatenate(completed),
            "usable": np.concatenate(usable),
            "product": products,
            "rows": rows,
        }
        for column, counted in values.items():
            if counted:
                merged, where = np.unique(np.concatenate([v for v, _ in counted]), return_inverse=True)
                tally[column] = merged, np.bincount(where, weights=np.concatenate([c for _, c in counted]))
        return tally

    def _usable(self, days: np.ndarray, event: np.ndarray) -> np.ndarray:
        """The gaps the group model may use: completed ones, and open ones of members not yet gone."""
        return event | ((days > 0) & (days <= self.max_open_gap_days))

    def _group_fit_rows(
        self, gaps: pd.DataFrame | GapTable, chosen: np.ndarray, every: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The second pass: the design of every ``every``-th gap (to judge which columns are independent) and the
        group model's rows, the usable gaps of the ``chosen`` members, with ``days`` and ``event``."""
        sample, fit = [], []
        first_member = first_row = 0
        for batch in gap_batches(gaps):
            codes = batch["member_id"].cat.codes.to_numpy().astype(np.intp)  # int8 in a small batch
            days = batch["days"].to_numpy(dtype=float)
            event = batch["event"].to_numpy()
            rows = chosen[first_member + codes] & self._usable(days, event)
            sample.append(self._design(batch.iloc[(-first_row) % every :: every]))
            fit.append(self._design(batch.loc[rows]).assign(days=days[rows], event=event[rows]))
            first_member += len(batch["member_id"].cat.categories)
            first_row += len(batch)
        return pd.concat(sample, ignore_index=True), pd.concat(fit, ignore_index=True)

    def _member_residuals(
        self, gaps: pd.DataFrame | GapTable, n_members: int, kept: dict[int | None, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """The third pass: each member's completed gaps ``n``, mean log residual from the group rhythm and sum of
        squared deviations from it, and the residuals (with their member) of the completed gaps the
        calibration keeps (``kept``: rows numbered over every completed gap)."""
        n, total, squares = np.zeros(n_members), np.zeros(n_members), np.zeros(n_members)
        wanted = {b: np.sort(rows) for b, rows in kept.items()}
        held_out = {b: ([], []) for b in kept}
        first_member = first_completed = 0
        for batch in gap_batches(gaps):
            codes = batch["member_id"].cat.codes.to_numpy().astype(np.intp)  # int8 in a small batch
            size = len(batch["member_id"].cat.categories)
            event = batch["event"].to_numpy()
            residual = batch["days"].to_numpy(dtype=float)[event]  # a new array, worked in place
            np.log(residual, out=residual)
            residual -= self._group_log_interval_of(batch, np.flatnonzero(event))
            member = codes[event]
            members = slice(first_member, first_member + size)
            n[members] = np.bincount(member, minlength=size)
            total[members] = np.bincount(member, weights=residual, minlength=size)
            mean = np.divide(total[members], n[members], out=np.zeros(size), where=n[members] > 0)
            deviation = residual - mean[member]
            deviation **= 2
            squares[members] = np.bincount(member, weights=deviation, minlength=size)
            del deviation
            for b, rows in wanted.items():
                here = rows[
                    np.searchsorted(rows, first_completed) : np.searchsorted(rows, first_completed + len(member))
                ]
                here -= first_completed
                held_out[b][0].append(residual[here])
                held_out[b][1].append(first_member + member[here])
            first_member += size
            first_completed += len(member)
        mean = np.divide(total, n, out=np.zeros(n_members), where=n > 0)
        return n, mean, squares, {b: (np.concatenate(r), np.concatenate(m)) for b, (r, m) in held_out.items()}

    def _regularity_var(self, n: np.ndarray, squares: np.ndarray) -> np.ndarray:
        """Each member's log-gap variance, moderated toward the prior (Smyth)."""
        d = np.maximum(n - 1, 0)
        if not np.isfinite(self.prior_df_):
            return np.full(len(n), self.prior_var_)
        return (self.prior_df_ * self.prior_var_ + squares) / (self.prior_df_ + d)

    def _posterior(self, n: np.ndarray, mean: np.ndarray, squares: np.ndarray):
        """Pace (posterior mean and variance), regularity variance and predictive degrees of freedom."""
        sigma2 = self._regularity_var(n, squares)
        weight = np.where(n > 0, self.pace_var_ / (self.pace_var_ + sigma2 / np.maximum(n, 1)), 0.0)
        pace = self.pace_mean_ + weight * (mean - self.pace_mean_)
        df = self.prior_df_ + np.maximum(n - 1, 0)
        return pace, (1 - weight) * self.pace_var_, sigma2, np.minimum(df, 1e6)

    def _leave_one_out_pit(self, residual, member, n, mean, squares) -> np.ndarray:
        """Probability integral transforms of completed gaps (their log residuals), each predicted from the
        member's other gaps: the calibration's data.

        If the log-t predictive were exact these would be uniform; their
        empirical distribution ``H`` maps the model's survival ``S`` to the
        calibrated ``H(S)`` (Kuleshov et al. 2018). Log-gamma intervals,
        for instance, have a thinner right tail than log-t, so the raw model
        would alert late. Kept per band of how many gaps the prediction used.
        """
        n_i = n[member]
        others = n_i - 1
        mean_others = np.divide(n_i * mean[member] - residual, others, out=np.zeros_like(residual), where=others > 0)
        squares_others = np.maximum(squares[member] - (residual - mean[member]) ** 2 * n_i / np.maximum(others, 1), 0.0)
        pace, pace_var, sigma2, df = self._posterior(others, mean_others, squares_others)
        return stats.t.sf((residual - pace) / np.sqrt(sigma2 + pace_var), df)

    # -- predict ------------------------------------------------------------
    def predictive(self, gaps: pd.DataFrame | GapTable) -> GapPredictive:
        """The calibrated predictive distribution of every open gap in ``gaps`` (one per member).

        Parameters
        ----------
        gaps : pandas.DataFrame
            A gap table (``purchase_gaps``) of members the model was fitted on.

        Returns
        -------
        segkit.churn.GapPredictive
            The members' calibrated log-Student-t gap distributions, in the order of
            the open gaps: ``survival(days)``, ``median()``, ``days_at(survival)``,
            ``conditional_quantile(q, days)``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            A member with an open gap was not in the gaps the model was fitted on.
        """
        self._check_fitted()
        open_rows = _open_gaps(gaps)
        return self._predictive(open_rows, self._fitted_members(open_rows))

    def _fitted_members(self, open_rows: pd.DataFrame) -> pd.DataFrame:
        """``members_``' rows of the open gaps' members, in their order (looked up once: 10M ids take seconds)."""
        ids = open_rows["member_id"]
        if len(ids) == len(self.members_) and _in_order(ids) and ids.cat.categories.equals(self.members_.index):
            return self.members_  # the fitted members themselves, as fit and the alert run score them
        member = self.members_.reindex(ids.astype(object))
        if member["gaps"].isna().any():
            unknown = open_rows["member_id"].astype(object)[member["gaps"].isna().to_numpy()].iloc[:3].tolist()
            raise ValueError(f"member(s) {unknown} were not in the gaps the model was fitted on")
        return member

    def _predictive(self, open_rows: pd.DataFrame, member: pd.DataFrame) -> GapPredictive:
        """``predictive`` of ``open_rows``, whose members' fitted rows are ``member``."""
        design = self._design(open_rows)
        location = self._group_log_interval(design) + member["pace"].to_numpy()
        scale = np.sqrt(member["regularity"].to_numpy() ** 2 + member["pace_var"].to_numpy())
        return GapPredictive(location, scale, member["df"].to_numpy(), member["gaps"].to_numpy(), self.calibration_)

    def predict(self, gaps: pd.DataFrame | GapTable) -> pd.DataFrame:
        """One row per member with a purchase, as of the date ``gaps`` was cut at.

        ``typical_interval``: the member's median gap at the season of their
        last purchase; ``expected_next_purchase`` = last purchase + that.
        ``p_due``: probability that an active member would have bought again
        by now. ``p_active``: probability they are still a customer, given
        the gap so far. ``expected_if_active``: median next purchase date of
        an active member who has not bought yet (conditional survival). A date more than a century
        ahead (a rhythm far slower than the data) is missing (NaT).

        Parameters
        ----------
        gaps : pandas.DataFrame
            A gap table (``purchase_gaps``) cut at the day to score, of members the
            model was fitted on (the same table as ``fit``'s, or a later cut).

        Returns
        -------
        pandas.DataFrame
            One row per open gap: ``member_id``, ``last_purchase``, ``purchases``,
            ``days_since``, ``typical_interval``, ``expected_next_purchase``,
            ``days_overdue`` (negative: not due yet), ``p_due``, ``p_active``,
            ``expected_if_active`` and ``regularity_cv`` (the coefficient of variation
            of the member's gaps).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            A member with an open gap was not in the gaps the model was fitted on.
        """
        self._check_fitted()
        open_rows = _open_gaps(gaps)
        q = self.churn_prior_

        def scores(rows: pd.DataFrame, fitted: pd.DataFrame, predictive: GapPredictive) -> dict[str, np.ndarray]:
            days = rows["days"].to_numpy(dtype=float)
            survival = predictive.survival(days)
            typical = predictive.median()
            start = rows["start"].to_numpy()
            ahead = predictive.conditional_quantile(0.5, days)
            return {
                "last_purchase": start,
                "purchases": fitted["gaps"].to_numpy() + 1,
                "days_since": rows["days"].to_numpy(),
                "typical_interval": typical,
                "expected_next_purchase": _days_after(start, typical),
                "days_overdue": (days - np.round(typical)).astype(np.int64),
                "p_due": 1 - survival,
                "p_active": (1 - q) * survival / ((1 - q) * survival + q),
                "expected_if_active": _days_after(start, days + ahead),
                "regularity_cv": np.sqrt(np.expm1(fitted["regularity"].to_numpy() ** 2)),
            }

        columns = self._scored(open_rows, scores)
        return pd.DataFrame({"member_id": open_rows["member_id"].astype(object).to_numpy(), **columns}, copy=False)

    def _scored(
        self, open_rows: pd.DataFrame, score: Callable[[pd.DataFrame, pd.DataFrame, GapPredictive], dict[str, Any]]
    ) -> dict[str, np.ndarray]:
        """``score(rows, fitted, predictive)`` of every open gap (``fitted``: the members' rows of ``members_``),
        ``_BATCH_GAPS`` members at a time, into one array per score: scoring 10M members at once held some twenty
        temporary arrays of 10M values (1.7 GB)."""
        member = self._fitted_members(open_rows)
        columns: dict[str, np.ndarray] = {}
        n = len(open_rows)
        # The rest joins the last batch: a last batch of two or three rows took another path in numpy (its last
        # bits differed from all at once).
        ends = [*range(_BATCH_GAPS, n - _BATCH_GAPS + 1, _BATCH_GAPS), n]
        for start, end in zip([0, *ends[:-1]], ends):
            batch = slice(start, end)
            rows, fitted = open_rows.iloc[batch], member.iloc[batch]
            for name, values in score(rows, fitted, self._predictive(rows, fitted)).items():
                if name not in columns:
                    columns[name] = np.empty(n, dtype=values.dtype)
                columns[name][batch] = values
        return columns

    def alert_days(self, gaps: pd.DataFrame | GapTable, p_active_below: float) -> np.ndarray:
        """Days after the last purchase at which each member is first alerted: past their expected date
        and with ``p_active`` below the threshold.

        Parameters
        ----------
        gaps : pandas.DataFrame
            A gap table (``purchase_gaps``) of members the model was fitted on.
        p_active_below : float
            The alert threshold on ``p_active``, between 0 and 1 (``AlertSettings.p_active_below``).

        Returns
        -------
        numpy.ndarray
            Days after each member's last purchase (in the order of the open gaps) at which
            the alert would first fire.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            A member with an open gap was not in the gaps the model was fitted on.
        """
        self._check_fitted()
        q = self.churn_prior_
        # (1 - q) S / ((1 - q) S + q) < p  <=>  S < q p / ((1 - q) (1 - p))
        survival = min(q * p_active_below / ((1 - q) * (1 - p_active_below)), 1.0)
        predictive = self.predictive(gaps)
        return np.maximum(predictive.days_at(survival), np.round(predictive.median()) + 1)

    def summary(self) -> pd.DataFrame:
        """The group model's coefficients with lifelines' standard errors and 95 % intervals (``exp``: interval
        ratios), the spread of log gaps (its interval: lifelines' for log sigma, exponentiated) and the
        empirical-Bayes priors, which are point estimates (no standard error or interval).

        Returns
        -------
        pandas.DataFrame
            One row per term (index ``term``: ``group: ...``, ``pace: ...``,
            ``regularity: ...``, ``churn prior q ...``): ``estimate``, ``std_error``,
            ``lower_95``, ``upper_95`` and ``exp(estimate)``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        fitted = self.group_model_.summary
        mu = fitted.loc["mu_"].reindex(self.coef_.index)
        log_sigma = fitted.loc[("sigma_", "Intercept")]
        rows = [
            (
                f"group: {name}",
                value,
                mu.loc[name, "se(coef)"],
                mu.loc[name, "coef lower 95%"],
                mu.loc[name, "coef upper 95%"],
                np.exp(value),
            )
            for name, value in self.coef_.items()
        ]
        rows.append(
            (
                "group: spread of log gaps (sigma)",
                self.group_scale_,
                np.nan,
                np.exp(log_sigma["coef lower 95%"]),
                np.exp(log_sigma["coef upper 95%"]),
                np.nan,
            )
        )
        rows += [
            (term, value, np.nan, np.nan, np.nan, ratio)
            for term, value, ratio in [
                ("pace: prior mean (log)", self.pace_mean_, np.exp(self.pace_mean_)),
                ("pace: between-member sd (log)", np.sqrt(self.pace_var_), np.nan),
                ("regularity: prior sd (log)", np.sqrt(self.prior_var_), np.nan),
                ("regularity: prior degrees of freedom", self.prior_df_, np.nan),
                ("churn prior q (last purchase was final)", self.churn_prior_, np.nan),
            ]
        ]
        return pd.DataFrame(
            rows, columns=["term", "estimate", "std_error", "lower_95", "upper_95", "exp(estimate)"]
        ).set_index("term")

    def _describe_fit(self) -> str:
        return (
            f"{self.n_gaps_:,} gaps of {self.n_members_:,} members; "
            f"covariates {', '.join(self.covariates_)}; median member rhythm {self.median_interval_:.1f} days; "
            f"member pace sd {np.sqrt(self.pace_var_):.2f} (log); "
            f"regularity prior df {self.prior_df_:.1f}; churn prior {self.churn_prior_:.3f}"
        )


def _independent_columns(design: pd.DataFrame) -> list[str]:
    """Columns that vary and are not linear combinations of earlier ones (with the intercept), judged on
    ``design`` (the covariates of an even sample of the gaps): two cylinders and the "x2" product say the same
    thing; lifelines would not converge."""
    kept: list[str] = []
    basis = np.ones((len(design), 1))
    for column in design.columns:
        trial = np.column_stack([basis, design[column].to_numpy()])
        if np.linalg.matrix_rank(trial) > basis.shape[1]:
            kept.append(column)
            basis = trial
    return kept


def _days_after(start: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``start`` plus ``days`` rounded, as dates; missing (NaT) beyond ``_MAX_DAYS_AHEAD``, where pandas' dates
    end (year 2262) and no call is planned."""
    days = np.round(days)
    far = ~(days <= _MAX_DAYS_AHEAD)  # NaN too
    dates = start + np.where(far, 0, days).astype("timedelta64[D]")
    dates[far] = np.datetime64("NaT")
    return dates


def _in_order(values: pd.Series) -> bool:
    """Whether ``values`` are a categorical holding each of its categories once, in their order."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return False
    codes = values.cat.codes.to_numpy()
    return len(codes) == len(values.cat.categories) and bool((codes == np.arange(len(codes))).all())


def _open_gaps(gaps: pd.DataFrame | GapTable) -> pd.DataFrame:
    """Every member's open gap, one row per member: all that scoring reads."""
    return gaps.open if isinstance(gaps, GapTable) else gaps.loc[~gaps["event"]]


def _median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of ``values`` (sorted, distinct) each repeated ``counts`` times: ``np.median`` of them all."""
    ends = np.cumsum(counts)
    middle = values[np.searchsorted(ends, [(ends[-1] - 1) // 2, ends[-1] // 2], side="right")]
    return float((middle[0] + middle[1]) / 2)
