"""Each member's purchase rhythm as a survival model of the gaps between purchases.

The data: every gap between two consecutive purchase occasions of a member
is a completed duration (an *event*); the gap from the last purchase to the
as-of date is still open, a right-censored duration. ``purchase_gaps`` cuts
the transactions into that table in the engine (DuckDB or Spark).

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

The predictive distribution of a member's open gap is then a log-Student-t
with ``d0 + d_i`` degrees of freedom, centred on their pace at the season of
their last purchase, with scale ``sqrt(sigma_i^2 + var(u_i | data))``: wide
(cautious) for a member with one purchase, tight for one with fifty. It is
then **calibrated**: every completed gap is predicted from the member's other
gaps, and the distribution of those probability integral transforms (per band
of how many gaps a prediction rests on) corrects the tail (``Calibration``).

Churn enters as a cure fraction: with probability ``q`` a purchase is the
member's last (they switched). Given an open gap of ``t`` days,
``P(active | t) = (1 - q) S(t) / ((1 - q) S(t) + q)`` where ``S`` is the
member's calibrated predictive survival. ``q`` is estimated by EM over every
gap, completed and open (``cure_fraction``).
"""
from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import special, stats

from ..calendar import holiday_ahead, holidays
from ..features.member import _day_number, as_table, connect, daily_expr, is_purchase

YEAR_DAYS = 365.25
COVARIATES = ("household_size", "quantity", "product", "season", "holiday")
_MIN_PRODUCT_SHARE = 0.02
# Calibration bands by the number of completed gaps a prediction rests on: 0, 1, 2, 3-4, 5-8, 9-16, 17+.
CALIBRATION_BANDS = np.array([0, 1, 2, 3, 5, 9, 17])
_MIN_CALIBRATION_GAPS = 300
_MAX_CALIBRATION_GAPS = 50_000


def purchase_gaps(transactions: Any, as_of: Any, members: pd.DataFrame | None = None, backend: str = "duckdb",
                  con: ibis.BaseBackend | None = None) -> pd.DataFrame:
    """One row per gap between purchase occasions, plus each member's open gap, as of ``as_of``.

    Columns: ``member_id`` (categorical), ``start`` (the purchase that opened
    the gap), ``days``, ``event`` (True: the gap ended with a purchase; False:
    still open at ``as_of``), ``net`` spend of the opening purchase, ``quantity`` and ``product`` of the opening
    purchase when the transactions have them, ``household_size`` when
    ``members`` has it. Purchase occasions are those of ``segkit.features``.
    """
    con = con or connect(backend)
    as_of_day = _day_number(as_of)
    daily = daily_expr(as_table(transactions, con, "transactions", optional=("quantity", "product")), as_of,
                       items=True)
    occasions = con.to_pyarrow(daily.filter(is_purchase(daily)).drop("refunded", "refund_rows")
                               .order_by(["member_id", "day"]))

    ids = _dictionary(occasions.column("member_id"))
    code = ids.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    days = occasions.column("day").to_numpy().astype(np.int64)
    n = len(code)
    # The occasion that closes each member's history opens their censored gap.
    last = np.ones(n, dtype=bool)
    last[:-1] = code[1:] != code[:-1]
    length = np.empty(n, dtype=np.int64)
    length[:-1] = days[1:] - days[:-1]
    length[last] = as_of_day - days[last]
    gaps = pd.DataFrame({
        "member_id": pd.Categorical.from_codes(code, categories=pd.Index(ids.dictionary.to_pylist(), dtype=object)),
        "start": days.astype("datetime64[D]").astype("datetime64[ns]"),
        "days": length,
        "event": ~last,
        "net": occasions.column("net").to_numpy(zero_copy_only=False).astype(np.float32),
    })
    del ids, code, days, length
    if "quantity" in occasions.column_names:
        gaps["quantity"] = occasions.column("quantity").to_numpy(zero_copy_only=False)
    if "product" in occasions.column_names:
        product = _dictionary(occasions.column("product"))
        gaps["product"] = pd.Categorical.from_codes(product.indices.fill_null(-1).to_numpy(zero_copy_only=False),
                                                    categories=product.dictionary.to_pylist())
    del occasions
    if members is not None and "household_size" in members.columns:
        size = pd.to_numeric(members.drop_duplicates("member_id").set_index("member_id")["household_size"],
                             errors="coerce")
        per_member = size.reindex(gaps["member_id"].cat.categories).to_numpy(dtype=float)
        gaps["household_size"] = per_member[gaps["member_id"].cat.codes.to_numpy()]
    return gaps


def _dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """Strings as integer codes plus their distinct values (in order of first appearance)."""
    return column.combine_chunks().cast(pa.string()).dictionary_encode()


def _season(start: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    angle = 2 * np.pi * start.dt.dayofyear.to_numpy() / YEAR_DAYS
    return np.cos(angle), np.sin(angle)


class IntervalModel:
    """Each member's rhythm: a group AFT model (lifelines) with empirical-Bayes member pace and regularity.

    Parameters
    ----------
    covariates : "auto" or list
        Group covariates among ``household_size``, ``quantity``, ``product``,
        ``season``, ``holiday``. "auto" uses those the gap table has.
    holidays : str, list of dates or None
        The calendar of the ``holiday`` covariate: ``spring_festival`` (the
        default), your own dates, or None.
    max_open_gap_days : int
        Open gaps longer than this are taken as gone members: they are left
        out of the group fit and of the churn prior.
    fit_sample_gaps : int
        The group model is fitted on the gaps of members chosen at random
        until about this many gaps; member effects always use every gap.
    churn_prior : float or None
        ``q``, the prior probability that a last purchase was the final one.
        None: estimated by EM.
    random_state : int
    """

    def __init__(self, covariates: str | list[str] = "auto", holidays: Any = "spring_festival",
                 max_open_gap_days: int = 180,
                 fit_sample_gaps: int = 150_000, churn_prior: float | None = None, random_state: int = 0):
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
                raise ValueError(f"covariate(s) {', '.join(missing)} not in the gap table; "
                                 f"columns: {', '.join(gaps.columns)}")
        return wanted

    def _design(self, gaps: pd.DataFrame) -> pd.DataFrame:
        """Covariate columns for the rows of ``gaps`` (fill values and product levels fixed at fit)."""
        columns: dict[str, np.ndarray] = {}
        for name in self.covariates_:
            if name == "household_size":
                size = gaps["household_size"].to_numpy(dtype=float)
                columns["log_household_size"] = np.log(np.where(np.isfinite(size) & (size > 0), size,
                                                                self.fill_values_["household_size"]))
            elif name == "quantity":
                quantity = gaps["quantity"].to_numpy(dtype=float)
                columns["log_quantity"] = np.log(np.where(np.isfinite(quantity) & (quantity > 0), quantity,
                                                          self.fill_values_["quantity"]))
            elif name == "product":
                product = gaps["product"].astype(object)
                for level in self.product_levels_[1:]:
                    columns[f"product[{level}]"] = (product == level).to_numpy(dtype=float)
            elif name == "season":
                columns["season_cos"], columns["season_sin"] = _season(gaps["start"])
            elif name == "holiday":
                columns["holiday_ahead"] = holiday_ahead(gaps["start"].to_numpy(), self.calendar_,
                                                         self.holiday_window_)
        return pd.DataFrame(columns, index=gaps.index)

    def _group_log_interval(self, design: pd.DataFrame) -> np.ndarray:
        coef = self.coef_
        return coef["Intercept"] + design[coef.index.drop("Intercept")].to_numpy() @ coef.drop("Intercept").to_numpy()

    # -- fit ----------------------------------------------------------------
    def fit(self, gaps: pd.DataFrame) -> "IntervalModel":
        """Fit the group model on a sample of members, then every member's pace and regularity."""
        from lifelines import LogNormalAFTFitter

        required = {"member_id", "start", "days", "event"}
        if missing := sorted(required - set(gaps.columns)):
            raise ValueError(f"gap table lacks {', '.join(missing)}; build it with purchase_gaps()")
        if not gaps["event"].any():
            raise ValueError("no member has two purchase occasions: there is no interval to learn a rhythm from")
        self.covariates_ = self._resolve_covariates(gaps)
        self.calendar_ = holidays(self.holidays)
        self.holiday_window_ = float(np.median(gaps.loc[gaps["event"], "days"]))
        self.fill_values_ = {}
        for column in ("household_size", "quantity"):
            if column in self.covariates_:
                values = gaps[column].to_numpy(dtype=float)
                values = values[np.isfinite(values) & (values > 0)]
                if values.size:
                    self.fill_values_[column] = float(np.median(values))
                else:                                 # no usable value at all: not a covariate
                    self.covariates_.remove(column)
        if "product" in self.covariates_:
            share = gaps.loc[gaps["event"], "product"].value_counts(normalize=True)
            self.product_levels_ = list(share.index[share >= _MIN_PRODUCT_SHARE])
        design = self._design(gaps)
        self.design_columns_ = _independent_columns(design)
        design = design[self.design_columns_]

        # Group rhythm: lifelines on a sample of whole members (open gaps of gone members left out).
        codes = gaps["member_id"].cat.codes.to_numpy()
        n_members = len(gaps["member_id"].cat.categories)
        days = gaps["days"].to_numpy(dtype=float)
        event = gaps["event"].to_numpy()
        usable = event | ((days > 0) & (days <= self.max_open_gap_days))
        order = np.random.default_rng(self.random_state).permutation(n_members)
        per_member = np.bincount(codes[usable], minlength=n_members)[order]
        chosen = np.zeros(n_members, dtype=bool)
        chosen[order[: np.searchsorted(np.cumsum(per_member), self.fit_sample_gaps) + 1]] = True
        rows = chosen[codes] & usable
        frame = design.loc[rows].assign(days=days[rows], event=event[rows])
        try:
            self.group_model_ = LogNormalAFTFitter().fit(frame, "days", "event")
        except Exception as error:  # lifelines raises its own ConvergenceError, among others
            raise ValueError(f"the group rhythm model did not converge on {len(frame):,} gaps "
                             f"(covariates {', '.join(self.design_columns_) or 'none'}): {error}") from error
        params = self.group_model_.params_.loc["mu_"]
        self.coef_ = params.reindex(["Intercept", *self.design_columns_])
        self.group_scale_ = float(np.exp(self.group_model_.params_.loc[("sigma_", "Intercept")]))

        # Member pace and regularity from every completed gap's residual.
        residual = np.log(days[event]) - self._group_log_interval(design.loc[event])
        member = codes[event]
        n = np.bincount(member, minlength=n_members).astype(float)
        total = np.bincount(member, weights=residual, minlength=n_members)
        mean = np.divide(total, n, out=np.zeros(n_members), where=n > 0)
        squares = np.bincount(member, weights=(residual - mean[member]) ** 2, minlength=n_members)
        d = np.maximum(n - 1, 0)
        self.prior_df_, self.prior_var_ = _moderation_prior(np.divide(squares, d, out=np.full(n_members, np.nan),
                                                                      where=d > 0), d)
        self.pace_mean_, self.pace_var_ = _pace_prior(mean, n, self._regularity_var(n, squares))
        pace, pace_var, sigma2, df = self._posterior(n, mean, squares)
        self.members_ = pd.DataFrame({"gaps": n.astype(np.int64), "pace": pace, "pace_var": pace_var,
                                      "regularity": np.sqrt(sigma2), "df": df},
                                     index=gaps["member_id"].cat.categories)
        self.members_.index.name = "member_id"
        self.calibration_ = self._calibrate(residual, member, n, mean, squares)

        predictive = self.predictive(gaps)
        self.median_interval_ = float(np.median(predictive.median()))
        if self.churn_prior is not None:
            self.churn_prior_ = float(self.churn_prior)
        else:
            survival = predictive.survival(gaps.loc[~gaps["event"], "days"].to_numpy(dtype=float))
            self.churn_prior_ = cure_fraction(survival, n_completed=int(event.sum()))
        self.n_gaps_ = int(event.sum())
        self.n_members_ = int((n > 0).sum())
        return self

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

    def _calibrate(self, residual, member, n, mean, squares) -> "Calibration":
        """Probability integral transforms of every completed gap, each predicted from the member's other gaps.

        If the log-t predictive were exact these would be uniform; their
        empirical distribution ``H`` maps the model's survival ``S`` to the
        calibrated ``H(S)`` (Kuleshov et al. 2018). Log-gamma intervals,
        for instance, have a thinner right tail than log-t, so the raw model
        would alert late. Kept per band of how many gaps the prediction used.
        """
        n_i = n[member]
        others = n_i - 1
        mean_others = np.divide(n_i * mean[member] - residual, others, out=np.zeros_like(residual), where=others > 0)
        squares_others = np.maximum(squares[member] - (residual - mean[member]) ** 2 * n_i
                                    / np.maximum(others, 1), 0.0)
        pace, pace_var, sigma2, df = self._posterior(others, mean_others, squares_others)
        pit = stats.t.sf((residual - pace) / np.sqrt(sigma2 + pace_var), df)
        return Calibration.from_pits(pit, others, np.random.default_rng(self.random_state))

    # -- predict ------------------------------------------------------------
    def predictive(self, gaps: pd.DataFrame) -> "GapPredictive":
        """The calibrated predictive distribution of every open gap in ``gaps`` (one per member)."""
        if not hasattr(self, "members_"):
            raise ValueError("this IntervalModel is not fitted yet: call fit(gaps) first")
        open_rows = gaps.loc[~gaps["event"]]
        member = self.members_.reindex(open_rows["member_id"].astype(object))
        if member["gaps"].isna().any():
            unknown = open_rows["member_id"].astype(object)[member["gaps"].isna().to_numpy()].iloc[:3].tolist()
            raise ValueError(f"member(s) {unknown} were not in the gaps the model was fitted on")
        design = self._design(open_rows)
        location = self._group_log_interval(design) + member["pace"].to_numpy()
        scale = np.sqrt(member["regularity"].to_numpy() ** 2 + member["pace_var"].to_numpy())
        return GapPredictive(location, scale, member["df"].to_numpy(), member["gaps"].to_numpy(), self.calibration_)

    def predict(self, gaps: pd.DataFrame) -> pd.DataFrame:
        """One row per member with a purchase, as of the date ``gaps`` was cut at.

        ``typical_interval``: the member's median gap at the season of their
        last purchase; ``expected_next_purchase`` = last purchase + that.
        ``p_due``: probability that an active member would have bought again
        by now. ``p_active``: probability they are still a customer, given
        the gap so far. ``expected_if_active``: median next purchase date of
        an active member who has not bought yet (conditional survival).
        """
        open_rows = gaps.loc[~gaps["event"]]
        predictive = self.predictive(gaps)
        days = open_rows["days"].to_numpy(dtype=float)
        survival = predictive.survival(days)
        q = self.churn_prior_
        typical = predictive.median()
        start = open_rows["start"].to_numpy()
        member = self.members_.reindex(open_rows["member_id"].astype(object))
        ahead = predictive.conditional_quantile(0.5, days)
        return pd.DataFrame({
            "member_id": open_rows["member_id"].astype(object).to_numpy(),
            "last_purchase": start,
            "purchases": member["gaps"].to_numpy() + 1,
            "days_since": open_rows["days"].to_numpy(),
            "typical_interval": typical,
            "expected_next_purchase": start + pd.to_timedelta(np.round(typical), unit="D").to_numpy(),
            "days_overdue": (days - np.round(typical)).astype(np.int64),
            "p_due": 1 - survival,
            "p_active": (1 - q) * survival / ((1 - q) * survival + q),
            "expected_if_active": start + pd.to_timedelta(np.round(days + ahead), unit="D").to_numpy(),
            "regularity_cv": np.sqrt(np.expm1(member["regularity"].to_numpy() ** 2)),
        })

    def alert_days(self, gaps: pd.DataFrame, p_active_below: float) -> np.ndarray:
        """Days after the last purchase at which each member is first alerted: past their expected date
        and with ``p_active`` below the threshold."""
        q = self.churn_prior_
        # (1 - q) S / ((1 - q) S + q) < p  <=>  S < q p / ((1 - q) (1 - p))
        survival = min(q * p_active_below / ((1 - q) * (1 - p_active_below)), 1.0)
        predictive = self.predictive(gaps)
        return np.maximum(predictive.days_at(survival), np.round(predictive.median()) + 1)

    def summary(self) -> pd.DataFrame:
        """The group model's coefficients (as interval ratios) and the empirical-Bayes priors."""
        rows = [(f"group: {name}", value, np.exp(value)) for name, value in self.coef_.items()]
        rows.append(("group: spread of log gaps (sigma)", self.group_scale_, np.nan))
        rows += [
            ("pace: prior mean (log)", self.pace_mean_, np.exp(self.pace_mean_)),
            ("pace: between-member sd (log)", np.sqrt(self.pace_var_), np.nan),
            ("regularity: prior sd (log)", np.sqrt(self.prior_var_), np.nan),
            ("regularity: prior degrees of freedom", self.prior_df_, np.nan),
            ("churn prior q (last purchase was final)", self.churn_prior_, np.nan),
        ]
        return pd.DataFrame(rows, columns=["term", "estimate", "exp(estimate)"]).set_index("term")

    def __repr__(self) -> str:
        if not hasattr(self, "coef_"):
            return (f"IntervalModel(covariates={self.covariates!r}, max_open_gap_days={self.max_open_gap_days}, "
                    f"churn_prior={self.churn_prior!r})")
        return (f"<IntervalModel: {self.n_gaps_:,} gaps of {self.n_members_:,} members; "
                f"covariates {', '.join(self.covariates_)}; median member rhythm {self.median_interval_:.1f} days; "
                f"member pace sd {np.sqrt(self.pace_var_):.2f} (log); "
                f"regularity prior df {self.prior_df_:.1f}; churn prior {self.churn_prior_:.3f}>")


def _independent_columns(design: pd.DataFrame) -> list[str]:
    """Columns that vary and are not linear combinations of earlier ones (with the intercept):
    two cylinders and the "x2" product say the same thing; lifelines would not converge."""
    kept: list[str] = []
    sample = design.iloc[:: max(1, len(design) // 200_000)]
    basis = np.ones((len(sample), 1))
    for column in design.columns:
        trial = np.column_stack([basis, sample[column].to_numpy()])
        if np.linalg.matrix_rank(trial) > basis.shape[1]:
            kept.append(column)
            basis = trial
    return kept


class Calibration:
    """``H``, per band of gaps used: the distribution of held-out probability integral transforms.

    ``forward(S)`` is the calibrated survival ``H(S)``; ``inverse`` undoes
    it. Piecewise linear through the sorted transforms, linear from 0 to the
    tenth smallest (so never exactly 0); the identity where a band had too
    few gaps and no neighbour.
    """

    def __init__(self, knots: dict[int, np.ndarray]):
        self.knots = knots

    @classmethod
    def from_pits(cls, pits: np.ndarray, gaps_used: np.ndarray, rng: np.random.Generator) -> "Calibration":
        band = _band(gaps_used)
        knots = {}
        for b in range(len(CALIBRATION_BANDS)):
            values = pits[band == b]
            if values.size >= _MIN_CALIBRATION_GAPS:
                if values.size > _MAX_CALIBRATION_GAPS:
                    values = rng.choice(values, _MAX_CALIBRATION_GAPS, replace=False)
                knots[b] = np.sort(values)
        if not knots and pits.size >= _MIN_CALIBRATION_GAPS:
            knots[0] = np.sort(pits)
        return cls(knots)

    def _curve(self, band: int) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.knots:
            return None
        values = self.knots[min(self.knots, key=lambda b: (abs(b - band), -b))]
        size = values.size
        levels = np.arange(1, size + 1) / size
        return np.r_[0.0, values[9:], 1.0], np.r_[0.0, levels[9:], 1.0]

    def forward(self, survival: np.ndarray, gaps_used: np.ndarray) -> np.ndarray:
        return self._apply(survival, gaps_used, inverse=False)

    def inverse(self, calibrated: np.ndarray, gaps_used: np.ndarray) -> np.ndarray:
        return self._apply(calibrated, gaps_used, inverse=True)

    def _apply(self, values: np.ndarray, gaps_used: np.ndarray, inverse: bool) -> np.ndarray:
        values = np.array(np.broadcast_to(np.asarray(values, dtype=float), np.shape(gaps_used)))
        band = _band(gaps_used)
        for b in np.unique(band):
            curve = self._curve(b)
            if curve is not None:
                rows = band == b
                x, y = curve if not inverse else curve[::-1]
                values[rows] = np.interp(values[rows], x, y)
        return values

    def __repr__(self) -> str:
        return f"Calibration({', '.join(f'band {b}: {v.size:,} gaps' for b, v in self.knots.items()) or 'identity'})"


def _band(gaps_used: np.ndarray) -> np.ndarray:
    return np.searchsorted(CALIBRATION_BANDS, np.asarray(gaps_used), side="right") - 1


class GapPredictive:
    """Each open gap's distribution if the member is still active: log-Student-t, then calibrated.

    ``log T ~ location + scale * t(df)``; survival ``S(t) = H(P_t(T > t))``
    with ``H`` the ``Calibration`` of the member's band (identity if None).
    """

    def __init__(self, location, scale, df, gaps_used, calibration: Calibration | None = None):
        self.location = np.asarray(location, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.df = np.asarray(df, dtype=float)
        self.gaps_used = np.asarray(gaps_used)
        self.calibration = calibration or Calibration({})

    def survival(self, days) -> np.ndarray:
        """``P(T > days)``; 1 for days <= 0. ``days`` broadcasts against the members."""
        days, location, scale, df, used = np.broadcast_arrays(np.asarray(days, dtype=float), self.location,
                                                              self.scale, self.df, self.gaps_used)
        with np.errstate(divide="ignore"):
            z = (np.log(np.where(days > 0, days, 1.0)) - location) / scale
        raw = np.where(days > 0, stats.t.sf(z, df), 1.0)
        return self.calibration.forward(raw, used)

    def days_at(self, survival) -> np.ndarray:
        """The day ``t`` with ``S(t) = survival`` (the survival quantile)."""
        survival, location, scale, df, used = np.broadcast_arrays(np.asarray(survival, dtype=float), self.location,
                                                                  self.scale, self.df, self.gaps_used)
        raw = self.calibration.inverse(survival, used)
        return np.exp(location + scale * stats.t.isf(raw, df))

    def median(self) -> np.ndarray:
        return self.days_at(0.5)

    def conditional_survival(self, extra, elapsed) -> np.ndarray:
        """``P(T > elapsed + extra | T > elapsed)``: for a member still waiting after ``elapsed`` days."""
        elapsed = np.asarray(elapsed, dtype=float)
        waited = self.survival(elapsed)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(waited > 0, self.survival(elapsed + np.asarray(extra, dtype=float)) / waited, 0.0)

    def conditional_quantile(self, p: float, elapsed) -> np.ndarray:
        """Days beyond ``elapsed`` within which a still-waiting active member buys with probability ``p``."""
        elapsed = np.asarray(elapsed, dtype=float)
        return np.maximum(self.days_at((1 - p) * self.survival(elapsed)) - elapsed, 0.0)


def _moderation_prior(s2: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """Smyth's (2004) prior degrees of freedom and variance from members' sample variances."""
    usable = (d >= 2) & (s2 > 0)
    if usable.sum() < 10:
        pooled = np.nansum(s2 * d) / max(d[d > 0].sum(), 1)
        return np.inf, float(pooled) if pooled > 0 else 0.25
    s2, d = s2[usable], d[usable]
    e = np.log(s2) - special.digamma(d / 2) + np.log(d / 2)
    prior_var = float(np.exp(e.mean()))
    excess = e.var(ddof=1) - special.polygamma(1, d / 2).mean()
    if excess <= 0:
        return np.inf, prior_var
    prior_df = 2 * _inverse_trigamma(excess)
    prior_var = float(np.exp(e.mean() + special.digamma(prior_df / 2) - np.log(prior_df / 2)))
    return float(prior_df), prior_var


def _inverse_trigamma(x: float) -> float:
    """y with trigamma(y) = x (Newton's method, as in limma)."""
    y = 0.5 + 1 / x
    for _ in range(50):
        tri = special.polygamma(1, y)
        step = tri * (1 - tri / x) / special.polygamma(2, y)
        y += step
        if -step / y < 1e-8:
            break
    return float(y)


def _pace_prior(mean: np.ndarray, n: np.ndarray, sigma2: np.ndarray) -> tuple[float, float]:
    """Mean and variance of member paces by the method of moments (members with two or more gaps)."""
    usable = n >= 2
    if usable.sum() < 10:
        usable = n >= 1
    noise = sigma2[usable] / n[usable]
    centre = float(np.average(mean[usable], weights=1 / (noise + np.var(mean[usable]))))
    between = float(np.mean((mean[usable] - centre) ** 2) - np.mean(noise))
    return centre, max(between, 1e-4)


def cure_fraction(survival: np.ndarray, n_completed: int, iterations: int = 200) -> float:
    """EM estimate of ``q``, the chance that a purchase is a member's last (a mixture cure model).

    Every purchase opens a gap: a completed gap is a purchase that was not
    the last (likelihood ``(1 - q) f(t)``); an open gap of ``t`` days has
    likelihood ``q + (1 - q) S(t)``. Open gaps alone cannot tell ``q``:
    leaving always explains them at least as well as staying.
    """
    q = 0.05
    for _ in range(iterations):
        gone = q / (q + (1 - q) * survival)
        new = float(gone.sum() / (survival.size + n_completed))
        if abs(new - q) < 1e-7:
            break
        q = new
    return min(max(q, 1e-6), 0.95)
