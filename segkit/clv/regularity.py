"""Regular purchase timing: MBG/CNBD-k (Platzer and Reutterer 2016) and the Wheat-Morrison estimate.

Written from the paper's model definition (BTYDplus, the R implementation, is
GPL and was not looked at). The story, for a customer first seen at time 0:

* times between purchases are Erlang-k with rate ``lambda`` (mean ``k /
  lambda``), ``lambda ~ Gamma(r, alpha)`` across customers; k = 1 is the
  Poisson case of BG/NBD, larger k is clockwork;
* after every purchase, the first included, the customer drops out with
  probability ``p ~ Beta(a, b)`` (the "modified" BG: one-time buyers can be gone).

Given ``x`` repeat purchases at intervals ``t_1..t_x`` summing to ``t_x`` and
nothing since, up to ``T``, the likelihood integrates ``lambda`` and ``p`` in
closed form::

    L = prod t_i^(k-1) / Gamma(k)^x * alpha^r / Gamma(r)
        * [ B(a+1, b+x)/B(a,b) * Gamma(r+kx) / (alpha+t_x)^(r+kx)                        (dropped after t_x)
          + B(a, b+x+1)/B(a,b) * sum_{j<k} (T-t_x)^j / j! * Gamma(r+kx+j) / (alpha+T)^(r+kx+j) ]  (still there)

The first factor needs ``litt`` = sum of log intervals (``btyd_summary`` has
it). ``k`` is chosen by likelihood over ``1..k_max`` (stopping once the likelihood has fallen
twice in a row).

Forecast, exactly: a customer still there at ``T`` has completed ``j < k`` of the
Erlang's ``k`` phases (each a Poisson(``lambda``) event) since ``t_x``, with the
weights of the "still there" sum; given ``j``, ``lambda ~ Gamma(r + kx + j, alpha + T)``
and ``p ~ Beta(a, b + x + 1)``. The ``n``-th purchase after ``T`` comes at the
``(nk - j)``-th phase and counts if the customer stayed after the ``n - 1`` before it::

    E[Y(t) | x, t_x, T] = P(alive) * sum_j w_j * sum_{n>=1} B(a, b+x+n)/B(a, b+x+1) * P(N_j >= nk - j)

with ``N_j``, the phases in the next ``t``, negative binomial (shape ``r + kx + j``, ``q = t / (alpha + T + t)``):
``P(N_j >= m) = I_q(m, r + kx + j)``. For k = 1 this is the MBG/NBD's closed form (Batislam et al. 2007).

Wheat and Morrison (1990): for two consecutive intervals of an Erlang-k
process, ``M = t1 / (t1 + t2)`` is Beta(k, k) with variance ``1 / (4 (2k + 1))``;
Poisson purchasing (k = 1) gives the uniform's 1/12.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .base import BTYD_COLUMNS, MaximumLikelihoodModel, check_summary


class MBGCNBDModel(MaximumLikelihoodModel):
    """MBG/CNBD-k: ``MBGCNBDModel(k_max=12).fit(summary)``; ``k_`` and ``params_`` (``r``, ``alpha``,
    ``a``, ``b``); ``log_likelihoods_`` by k; P(alive) and conditional expected purchases.

    The model and its forecast are in the module docstring. ``fit`` needs the summary's ``litt``
    column (``btyd_summary`` has it) besides ``frequency``, ``recency`` and ``T``; it fits k = 1, 2, ...
    and keeps the k of the highest likelihood. ``fit`` is ``MaximumLikelihoodModel``'s.

    Parameters
    ----------
    k_max : int, default 12
        The largest regularity ``k`` tried (1 is Poisson purchasing, the MBG/NBD; larger is more
        regular). The search stops earlier once the likelihood has fallen twice in a row.
    penalizer : float, default 0.0
        Weight of an L2 penalty on the parameters: ``penalizer * sum(theta ** 2)`` is added to the mean
        negative log-likelihood per customer (0: plain maximum likelihood).

    Attributes
    ----------
    k_ : int
        The regularity chosen: the k of the highest log-likelihood.
    params_ : dict of str to float
        The estimates ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b`` at ``k_``.
    standard_errors_ : dict of str to float
        Their standard errors, from the inverse Hessian of the log-likelihood (NaN when it is singular).
    log_likelihood_ : float
        The log-likelihood at ``k_``.
    log_likelihoods_ : pandas.Series
        The log-likelihood of every k tried, indexed by k.
    n_ : int
        Customers the model was fitted on.
    converged_ : bool
        Whether the fit at ``k_`` converged; ``fit`` warns when it did not.

    Examples
    --------
    Gas households refill like clockwork: each larger k fits better (``k_max=4`` keeps the example fast;
    the default finds k = 8 on these households).

    >>> from segkit.clv import MBGCNBDModel, btyd_summary
    >>> from segkit.synth import generate
    >>> world = generate("gas", 200, seed=1)
    >>> summary = btyd_summary(world.transactions, "2026-03-31", unit="W")
    >>> model = MBGCNBDModel(k_max=4).fit(summary)
    >>> model.log_likelihoods_.round(0).tolist()
    [-7956.0, -7069.0, -6668.0, -6452.0]
    >>> int(model.k_)
    4

    Twenty refills in a year, the last in week 50 of 52, against the last in week 40: a regular buyer
    ten weeks late is almost surely gone.

    >>> [round(float(model.probability_alive(20, recency, 52)), 2) for recency in (50, 40)]
    [0.98, 0.0]
    """

    _parameter_names = ("r", "alpha", "a", "b")

    def __init__(self, k_max: int = 12, penalizer: float = 0.0):
        self.k_max = k_max
        self.penalizer = penalizer

    def _fit(self, summary: pd.DataFrame) -> None:
        if int(self.k_max) != self.k_max or self.k_max < 1:
            raise ValueError(f"k_max must be a whole number of at least 1, got {self.k_max}")
        data = check_summary(summary, (*BTYD_COLUMNS, "litt"))
        grouped = data.groupby(list(data.columns), sort=False).size().reset_index(name="weight")
        arrays = {c: grouped[c].to_numpy(dtype=float) for c in data.columns}
        weights = grouped["weight"].to_numpy(dtype=float)
        fits = {}
        for k in range(1, int(self.k_max) + 1):
            self.k_ = k
            self._maximize(arrays, weights)
            fits[k] = (self.log_likelihood_, self.params_, self.standard_errors_, self.converged_)
            if k >= 3 and fits[k][0] < fits[k - 1][0] < fits[k - 2][0]:
                break  # the likelihood has turned down twice: larger k only fits worse
        self.log_likelihoods_ = pd.Series({k: fit[0] for k, fit in fits.items()}, name="log_likelihood")
        self.k_ = int(self.log_likelihoods_.idxmax())
        self.log_likelihood_, self.params_, self.standard_errors_, self.converged_ = fits[self.k_]

    def _initial(self, data):
        previous = getattr(self, "params_", None)
        if previous is not None and self.k_ > 1:  # warm start from k - 1: the same mean interval
            r, alpha, a, b = previous.values()
            return np.array([r, alpha * (self.k_ - 1) / self.k_, a, b])
        return np.array([1.0, max(float(np.mean(data["T"])), 1.0) / 5, 1.0, 3.0])

    def _waiting(self, params, x, t_x, T):
        """log of the "still there" sum's terms, one per number ``j < k`` of phases completed since ``t_x``
        (first axis: ``j``)."""
        r, alpha, a, b = params
        shape = r + self.k_ * x
        j = np.arange(self.k_).reshape((-1,) + (1,) * np.ndim(x))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (
                np.where(j > 0, j * np.log(T - t_x), 0.0)
                - special.gammaln(j + 1)
                + special.gammaln(shape + j)
                - (shape + j) * np.log(alpha + T)
            )

    def _branches(self, params, x, t_x, T):
        """log of the "dropped after t_x" and "still there" terms of the likelihood (without the timing factor)."""
        r, alpha, a, b = params
        shape = r + self.k_ * x
        dropped = special.betaln(a + 1, b + x) + special.gammaln(shape) - shape * np.log(alpha + t_x)
        stayed = special.betaln(a, b + x + 1) + special.logsumexp(self._waiting(params, x, t_x, T), axis=0)
        return dropped, stayed

    def _log_likelihood(self, params, data):
        r, alpha, a, b = params
        k = self.k_
        x = data["frequency"]
        timing = (k - 1) * data["litt"] - x * special.gammaln(k) + r * np.log(alpha) - special.gammaln(r)
        dropped, stayed = self._branches(params, x, data["recency"], data["T"])
        return timing - special.betaln(a, b) + np.logaddexp(dropped, stayed)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still a customer | x, t_x, T): the "still there" share of the likelihood.

        Parameters
        ----------
        frequency : array_like
            ``x``, repeat purchases in the calibration period.
        recency : array_like
            ``t_x``, time from the first purchase to the last, in the unit the model was fitted in.
        T : array_like
            Time from the first purchase to the end of the calibration period, in the same unit.

        Returns
        -------
        numpy.ndarray
            The probability that each customer is still a customer.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        dropped, stayed = self._branches(np.array(list(self.params_.values())), x, t_x, T)
        return np.exp(stayed - np.logaddexp(dropped, stayed))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: purchases in the next ``t`` time units (the sum in the module notes, for
        each customer until a term adds less than 1e-12; computed once per distinct row).

        Parameters
        ----------
        t : array_like
            Length of the forecast period, in the unit the model was fitted in.
        frequency : array_like
            ``x``, repeat purchases in the calibration period.
        recency : array_like
            ``t_x``, time from the first purchase to the last.
        T : array_like
            Time from the first purchase to the end of the calibration period.

        Returns
        -------
        numpy.ndarray
            Expected purchases of each customer in the ``t`` time units after ``T``, in the broadcast
            shape of the four arguments.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        columns = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, frequency, recency, T)))
        frame = pd.DataFrame({name: c.ravel() for name, c in zip(("t", "x", "t_x", "T"), columns)})
        row_of = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
        t, x, t_x, T = frame.drop_duplicates().to_numpy().T  # in the order ngroup numbers them
        params = np.array(list(self.params_.values()))
        r, alpha, a, b = params
        k = self.k_
        dropped, stayed = self._branches(params, x, t_x, T)
        # P(alive) * w_j: each "still there after j phases" term's share of the likelihood
        alive_after = np.exp(
            special.betaln(a, b + x + 1) + self._waiting(params, x, t_x, T) - np.logaddexp(dropped, stayed)
        )
        j = np.arange(k)[:, None]
        shape, q = r + k * x + j, t / (alpha + T + t)
        stays = np.ones(len(t))  # E[(1 - p)^(n - 1)]: still a customer at the n-th purchase
        expected = np.zeros(len(t))
        active = np.arange(len(t))  # rows whose sum is still growing (terms only fall)
        n = 1
        while active.size:
            reached = special.betainc(n * k - j, shape[:, active], q[active])  # P(N_j >= nk - j)
            term = stays[active] * (alive_after[:, active] * reached).sum(axis=0)
            expected[active] += term
            stays[active] *= (b + x[active] + n) / (a + b + x[active] + n)
            active = active[term >= 1e-12]  # NaN rows drop out as NaN
            n += 1
        return expected[row_of].reshape(columns[0].shape)

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95 % intervals (normal approximation), and the ``k`` chosen.

        Returns
        -------
        pandas.DataFrame
            One row per parameter (index ``parameter``): ``estimate``, ``std_error``, ``lower_95`` and
            ``upper_95``; the last row is ``k``, without a standard error or interval.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        table = super().summary()
        table.loc["k"] = [self.k_, np.nan, np.nan, np.nan]
        return table

    def _describe_fit(self) -> str:
        return f"k={self.k_}, {super()._describe_fit()}"


def wheat_morrison(transactions: Any, as_of: Any, con=None) -> dict[str, float]:
    """The Wheat-Morrison regularity estimate from each customer's last two intervals before ``as_of``.

    Returns ``k`` (about 1 for Poisson-like buying, larger for regular),
    the variance of ``M`` and the number of customers with two intervals.

    Parameters
    ----------
    transactions : pandas.DataFrame, Parquet path or Ibis table
        Canonical transactions (``segkit.load_transactions``).
    as_of : str, date or Timestamp
        The day the intervals are counted up to (``YYYY-MM-DD``).
    con : ibis.BaseBackend, optional
        The engine connection to run the query on (default: a new DuckDB one).

    Returns
    -------
    dict
        ``k`` (float), ``variance_of_m`` (float) and ``customers`` (int).

    Raises
    ------
    ValueError
        Fewer than 10 customers have two intervals before ``as_of``.

    Examples
    --------
    >>> from segkit.clv import wheat_morrison
    >>> from segkit.synth import generate
    >>> estimate = wheat_morrison(generate("gas", 300, seed=1).transactions, "2026-03-31")
    >>> round(estimate["k"], 1), estimate["customers"]
    (8.4, 285)
    """
    from ..features import purchase_occasions

    occasions = purchase_occasions(transactions, as_of, con=con)
    days = occasions["date"].diff().dt.days.where(occasions["member_id"].eq(occasions["member_id"].shift()))
    occasions = occasions.assign(gap=days).dropna(subset=["gap"])
    last_two = occasions.groupby("member_id").tail(2)
    pairs = last_two.groupby("member_id")["gap"].agg(["first", "last", "size"])
    pairs = pairs[pairs["size"] == 2]
    if len(pairs) < 10:
        raise ValueError(f"the Wheat-Morrison estimate needs customers with two intervals; found {len(pairs)}")
    m = pairs["first"] / (pairs["first"] + pairs["last"])
    variance = float(m.var(ddof=1))
    return {"k": (1 / (4 * variance) - 1) / 2, "variance_of_m": variance, "customers": int(len(pairs))}
