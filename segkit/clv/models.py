"""BG/NBD, Pareto/NBD and Gamma-Gamma by maximum likelihood, in log space (no overflow on large frequencies).

Notation (Fader, Hardie and Lee 2005): a customer made ``x`` repeat purchases
(``frequency``), the last at ``t_x`` (``recency``), and has been observed for
``T`` time units since their first purchase.

* **BG/NBD** (Fader, Hardie and Lee 2005, "Counting your customers the easy
  way"): purchases at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each
  purchase the customer drops out with probability ``p ~ Beta(a, b)``.
* **Pareto/NBD** (Schmittlein, Morrison and Colombo 1987; likelihood as in
  Fader and Hardie 2005, "A note on deriving the Pareto/NBD model"):
  purchases at ``lambda ~ Gamma(r, alpha)``, lifetime exponential with rate
  ``mu ~ Gamma(s, beta)``.
* **Gamma-Gamma** (Fader, Hardie and Lee 2005, "RFM and CLV"): a customer's
  mean spend per transaction ``m_x`` over ``x`` repeat transactions, with
  spend ``~ Gamma(p, nu)`` and ``nu ~ Gamma(q, v)``.

Identical summary rows are fitted once, with a weight: a million customers
often have far fewer distinct (x, t_x, T).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .base import BTYD_COLUMNS, MaximumLikelihoodModel, check_summary


def _distinct_rows(data: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    grouped = data.groupby(list(data.columns), sort=False).size().reset_index(name="weight")
    return {c: grouped[c].to_numpy(dtype=float) for c in data.columns}, grouped["weight"].to_numpy(dtype=float)


def _arrays(frequency, recency, T):
    return (np.asarray(frequency, dtype=float), np.asarray(recency, dtype=float), np.asarray(T, dtype=float))


_LAGUERRE_NODES, _LAGUERRE_WEIGHTS = np.polynomial.laguerre.laggauss(48)
_SERIES_MAX_A = 50.0


def _log_hyp2f1_a_b_a1(a, b, z):
    """``log 2F1(a, b; a + 1; z)`` for ``z < 1``, stable for large ``a`` and for negative ``z``.

    ``2F1(a, b; a+1; z) = a * int_0^1 t^(a-1) (1 - z t)^(-b) dt``; with ``t = exp(-w / a)``
    this is ``int_0^inf exp(-w) (1 - z exp(-w / a))^(-b) dw``, a smooth integrand for
    Gauss-Laguerre quadrature when ``a`` is large. scipy's ``hyp2f1`` is exact for small
    ``a`` and ``|z| < 1`` but overflows when ``a`` is in the hundreds; each is used where
    it is accurate (checked against adaptive quadrature in the tests), and the quadrature,
    48 evaluations a value, only where the series cannot serve: most customers buy a few times.
    """
    shape = np.broadcast_shapes(np.shape(a), np.shape(b), np.shape(z))
    a, b, z = (np.broadcast_to(np.asarray(v, dtype=float), shape).ravel() for v in (a, b, z))
    out = np.full(a.shape, np.nan)
    series = (a < _SERIES_MAX_A) & (np.abs(z) < 1)
    if series.any():
        with np.errstate(all="ignore"):
            out[series] = np.log(special.hyp2f1(a[series], b[series], a[series] + 1, z[series]))
    rest = ~np.isfinite(out)
    if rest.any():
        terms = -b[rest, None] * np.log1p(-z[rest, None] * np.exp(-_LAGUERRE_NODES / a[rest, None]))
        top = terms.max(axis=-1)  # log-sum-exp by hand: special.logsumexp's overhead outweighs these few rows
        out[rest] = top + np.log(np.exp(terms - top[:, None]) @ _LAGUERRE_WEIGHTS)
    return out.reshape(shape) if shape else out[0]


class BetaGeoModel(MaximumLikelihoodModel):
    """BG/NBD: ``BetaGeoModel().fit(summary)``; ``params_`` has ``r``, ``alpha``, ``a``, ``b``.

    Purchases at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each purchase the customer drops out
    with probability ``p ~ Beta(a, b)`` (Fader, Hardie and Lee 2005; the module docstring has the
    notation). ``fit`` and ``summary`` are ``MaximumLikelihoodModel``'s.

    Parameters
    ----------
    penalizer : float, default 0.0
        Weight of an L2 penalty on the parameters: ``penalizer * sum(theta ** 2)`` is added to the mean
        negative log-likelihood per customer. 0 is plain maximum likelihood; a small value (0.001) keeps
        the estimates finite on data that barely identify them, at the cost of a little bias toward 0.

    Attributes
    ----------
    params_ : dict of str to float
        The estimates ``r``, ``alpha``, ``a``, ``b`` (``alpha`` in the summary's time unit).
    standard_errors_ : dict of str to float
        Their standard errors, from the inverse Hessian of the log-likelihood (NaN when it is singular).
    log_likelihood_ : float
        The log-likelihood at the estimates, summed over customers.
    n_ : int
        Customers the model was fitted on.
    converged_ : bool
        Whether the likelihood's gradient at the estimates is near zero; ``fit`` warns when it is not.

    Examples
    --------
    >>> from segkit.clv import BetaGeoModel, btyd_summary
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> summary = btyd_summary(world.transactions, "2026-03-31", unit="W")
    >>> model = BetaGeoModel().fit(summary)
    >>> model
    <BetaGeoModel: r=0.7006, alpha=6.07, a=0.459, b=2.769; 264 customers; log-likelihood -4,210.88>
    >>> model.summary()[["estimate", "std_error"]].round(2)
               estimate  std_error
    parameter
    r              0.70       0.08
    alpha          6.07       0.90
    a              0.46       0.15
    b              2.77       1.36

    Two repeat purchases in a year of weeks: the one whose last came in week 30 is more likely still a
    customer than the one who has not bought since week 5.

    >>> [round(float(model.probability_alive(2, recency, 52)), 2) for recency in (30, 5)]
    [0.69, 0.09]
    """

    _parameter_names = ("r", "alpha", "a", "b")

    def _fit(self, summary: pd.DataFrame) -> None:
        data, weights = _distinct_rows(check_summary(summary))
        # the costly functions (log-gamma, digamma, logs) are evaluated once per distinct x, T and t_x
        for column in ("frequency", "recency", "T"):
            data[f"{column}_values"], data[f"{column}_index"] = np.unique(data[column], return_inverse=True)
        self._maximize(data, weights)

    def _initial(self, data):
        return np.array([0.5, max(float(np.mean(data["T"])), 1.0) / 5, 1.0, 2.0])

    def _terms(self, params, data):
        """The pieces the likelihood and its gradient share."""
        r, alpha, a, b = params
        x = data["frequency"]
        ux, ix = data["frequency_values"], data["frequency_index"]
        log_alpha_T = np.log(alpha + data["T_values"])[data["T_index"]]
        log_alpha_tx = np.log(alpha + data["recency_values"])[data["recency_index"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_b_x1 = np.where(ux > 0, np.log(np.maximum(b + ux - 1, 1e-300)), 0.0)[ix]
            stayed = -(r + x) * log_alpha_T
            # dropped out right after the last purchase (only possible with a repeat purchase)
            dropped = np.where(x > 0, np.log(a) - log_b_x1 - (r + x) * log_alpha_tx, -np.inf)
        return x, ux, ix, log_alpha_T, log_alpha_tx, stayed, dropped

    def _log_likelihood(self, params, data):
        r, alpha, a, b = params
        x, ux, ix, _, _, stayed, dropped = self._terms(params, data)
        per_x = special.gammaln(r + ux) + special.gammaln(b + ux) - special.gammaln(a + b + ux)
        common = per_x[ix] - special.gammaln(r) + r * np.log(alpha) - special.gammaln(b) + special.gammaln(a + b)
        return common + np.logaddexp(stayed, dropped)

    def _gradient(self, params, data):
        r, alpha, a, b = params
        x, ux, ix, log_alpha_T, log_alpha_tx, stayed, dropped = self._terms(params, data)
        w_drop = special.expit(dropped - stayed)  # share of the likelihood from dropping out
        w_stay = 1 - w_drop
        digamma = special.digamma
        d_r = digamma(r + ux)[ix] - digamma(r) + np.log(alpha) - w_stay * log_alpha_T - w_drop * log_alpha_tx
        d_alpha = r / alpha - (r + x) * (w_stay / (alpha + data["T"]) + w_drop / (alpha + data["recency"]))
        d_a = digamma(a + b) - digamma(a + b + ux)[ix] + w_drop / a
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_b_x1 = np.where(ux > 0, 1 / np.maximum(b + ux - 1, 1e-300), 0.0)[ix]
        d_b = (digamma(b + ux) - digamma(a + b + ux))[ix] - digamma(b) + digamma(a + b) - w_drop * inverse_b_x1
        return np.column_stack([d_r, d_alpha, d_a, d_b])

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still a customer | x, t_x, T).

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
            The probability that each customer is still a customer (1 for a customer without a repeat
            purchase: under BG/NBD nobody drops out before a repeat purchase).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        r, alpha, a, b = self.params_.values()
        x, t_x, T = _arrays(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
        return np.where(x > 0, special.expit(-log_odds), 1.0)

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: repeat purchases of a new customer within ``t`` time units of their first.

        Parameters
        ----------
        t : array_like
            Time since the first purchase, in the unit the model was fitted in.

        Returns
        -------
        numpy.ndarray
            Expected repeat purchases by ``t``, one per value of ``t``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        r, alpha, a, b = self.params_.values()
        t = np.asarray(t, dtype=float)
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: purchases in the next ``t`` time units.

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
            Expected purchases of each customer in the ``t`` time units after ``T`` (P(alive) times the
            purchases of a customer still there).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        r, alpha, a, b = self.params_.values()
        x, t_x, T = _arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        z = t / (alpha + T + t)
        with np.errstate(divide="ignore", invalid="ignore"):  # a = 1 (left where it started, not identified): NaN
            head = (a + b + x - 1) / (a - 1)
            tail = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * special.hyp2f1(
                r + x, b + x, a + b + x - 1, z
            )
            expected = head * tail * self.probability_alive(x, t_x, T)
        return np.where(np.isfinite(expected), expected, np.nan)


class ParetoNBDModel(MaximumLikelihoodModel):
    """Pareto/NBD: ``ParetoNBDModel().fit(summary)``; ``params_`` has ``r``, ``alpha``, ``s``, ``beta``.

    Purchases at Poisson rate ``lambda ~ Gamma(r, alpha)`` while alive; the lifetime is exponential with
    rate ``mu ~ Gamma(s, beta)`` (Schmittlein, Morrison and Colombo 1987; the module docstring has the
    notation). Unlike BG/NBD, a customer can be gone before a repeat purchase. ``fit`` and ``summary``
    are ``MaximumLikelihoodModel``'s.

    Parameters
    ----------
    penalizer : float, default 0.0
        Weight of an L2 penalty on the parameters: ``penalizer * sum(theta ** 2)`` is added to the mean
        negative log-likelihood per customer. 0 is plain maximum likelihood; a small value (0.001) keeps
        the estimates finite on data that barely identify them, at the cost of a little bias toward 0.

    Attributes
    ----------
    params_ : dict of str to float
        The estimates ``r``, ``alpha``, ``s``, ``beta`` (``alpha`` and ``beta`` in the summary's time unit).
    standard_errors_ : dict of str to float
        Their standard errors, from the inverse Hessian of the log-likelihood (NaN when it is singular).
    log_likelihood_ : float
        The log-likelihood at the estimates, summed over customers.
    n_ : int
        Customers the model was fitted on.
    converged_ : bool
        Whether the likelihood's gradient at the estimates is near zero; ``fit`` warns when it is not.

    Examples
    --------
    >>> from segkit.clv import ParetoNBDModel, btyd_summary
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> summary = btyd_summary(world.transactions, "2026-03-31", unit="W")
    >>> model = ParetoNBDModel().fit(summary)
    >>> list(model.params_)
    ['r', 'alpha', 's', 'beta']
    >>> round(float(model.probability_alive(2, 30, 52)), 2)
    0.7
    >>> round(float(model.conditional_expected_purchases(13, 2, 30, 52)), 2)    # in the next quarter
    0.43
    """

    _parameter_names = ("r", "alpha", "s", "beta")

    def _fit(self, summary: pd.DataFrame) -> None:
        data, weights = _distinct_rows(check_summary(summary))
        # log-gamma is evaluated once per distinct x, and the hypergeometric terms once per distinct
        # (x, t_x) or (x, T) pair: on CDNOW 2,149 pairs instead of 2 x 8,685 rows
        data["frequency_values"], data["frequency_index"] = np.unique(data["frequency"], return_inverse=True)
        index, pairs = pd.MultiIndex.from_arrays(
            [np.tile(data["frequency"], 2), np.concatenate([data["recency"], data["T"]])]
        ).factorize()
        data["pair_frequency"], data["pair_time"] = (pairs.get_level_values(i).to_numpy() for i in (0, 1))
        data["recency_pair"], data["T_pair"] = np.split(index, 2)
        self._maximize(data, weights)

    def _initial(self, data):
        scale = max(float(np.mean(data["T"])), 1.0) / 4
        return np.array([0.5, scale, 0.5, scale])

    @staticmethod
    def _log_a(params, x, t):
        """log of 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t)) / (alpha+t)^(r+s+x); A0 is its fall from t_x to T."""
        r, alpha, s, beta = params
        rsx = r + s + x
        return _log_hyp2f1_a_b_a1(rsx, s + 1, (alpha - beta) / (alpha + t)) - rsx * np.log(alpha + t)

    @staticmethod
    def _log_died(params, x, log_a_tx, log_a_T):
        """log of s / (r+s+x) * A0 (Fader and Hardie 2005, eq. 19): having died between t_x and T."""
        r, alpha, s, beta = params
        with np.errstate(divide="ignore"):
            log_a0 = log_a_tx + np.log1p(-np.exp(np.minimum(log_a_T - log_a_tx, 0.0)))
        return np.log(s) - np.log(r + s + x) + log_a0

    def _log_likelihood(self, params, data):
        r, alpha, s, beta = params
        x, T = data["frequency"], data["T"]
        log_a = self._log_a(params, data["pair_frequency"], data["pair_time"])
        head = (
            special.gammaln(r + data["frequency_values"])[data["frequency_index"]]
            - special.gammaln(r)
            + r * np.log(alpha)
            + s * np.log(beta)
        )
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        return head + np.logaddexp(alive, self._log_died(params, x, log_a[data["recency_pair"]], log_a[data["T_pair"]]))

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still a customer | x, t_x, T) = (alive term) / L.

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
        params = np.array(list(self.params_.values()))
        r, alpha, s, beta = params
        x, t_x, T = _arrays(frequency, recency, T)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died = self._log_died(params, x, self._log_a(params, x, t_x), self._log_a(params, x, T))
        return np.exp(alive - np.logaddexp(alive, died))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T] (Schmittlein, Morrison and Colombo 1987).

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
            Expected purchases of each customer in the ``t`` time units after ``T`` (P(alive) times the
            purchases of a customer still there).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        r, alpha, s, beta = self.params_.values()
        x, t_x, T = _arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        rate = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        return rate * (1 - ((beta + T) / (beta + T + t)) ** (s - 1)) * self.probability_alive(x, t_x, T)


class GammaGammaModel(MaximumLikelihoodModel):
    """Gamma-Gamma spend: ``GammaGammaModel().fit(summary)``; ``params_`` has ``p``, ``q``, ``v``.

    Spend is Gamma-distributed, so only repeat buyers with a positive mean spend can be fitted;
    ``left_out_`` counts the repeat buyers whose mean spend is zero or negative (free items, refunds).

    Parameters
    ----------
    penalizer : float, default 0.0
        Weight of an L2 penalty on the parameters: ``penalizer * sum(theta ** 2)`` is added to the mean
        negative log-likelihood per customer. 0 is plain maximum likelihood; a small value (0.001) keeps
        the estimates finite on data that barely identify them, at the cost of a little bias toward 0.

    Attributes
    ----------
    params_ : dict of str to float
        The estimates ``p``, ``q``, ``v`` (``v`` in money).
    standard_errors_ : dict of str to float
        Their standard errors, from the inverse Hessian of the log-likelihood (NaN when it is singular).
    log_likelihood_ : float
        The log-likelihood at the estimates, summed over customers.
    n_ : int
        Customers the model was fitted on.
    converged_ : bool
        Whether the likelihood's gradient at the estimates is near zero; ``fit`` warns when it is not.
    left_out_ : int
        Repeat buyers left out of the fit because their mean spend is zero or negative.

    Examples
    --------
    >>> from segkit.clv import GammaGammaModel, btyd_summary
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> summary = btyd_summary(world.transactions, "2026-03-31", unit="W")
    >>> model = GammaGammaModel().fit(summary)
    >>> model.n_, model.left_out_
    (202, 0)

    A customer without a repeat purchase gets the population mean; one mean spend of 500 is shrunk
    toward it, and ten purchases averaging 500 much less:

    >>> model.expected_spend([0, 1, 10], [0, 500, 500]).round(0).tolist()
    [330.0, 380.0, 467.0]
    """

    _parameter_names = ("p", "q", "v")

    def _fit(self, summary: pd.DataFrame) -> None:
        data = check_summary(summary, ("frequency", "monetary_value"))
        repeat = data[data["frequency"] > 0]
        usable = repeat[repeat["monetary_value"] > 0]
        if len(usable) < 2:
            raise ValueError(
                f"Gamma-Gamma needs at least 2 repeat buyers with a positive mean spend, found "
                f"{len(usable)} ({len(repeat) - len(usable):,} more with zero or negative spend)"
            )
        self.left_out_ = len(repeat) - len(usable)
        self._maximize(*_distinct_rows(usable))

    def _initial(self, data):
        return np.array([1.0, 1.0, float(np.mean(data["monetary_value"]))])

    def _log_likelihood(self, params, data):
        p, q, v = params
        x, m = data["frequency"], data["monetary_value"]
        return (
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(x * m + v)
        )

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E[mean spend | x, m_x]: the population mean, shrunk toward the customer's own by x.

        NaN for a repeat buyer whose mean spend is negative or missing: the formula needs spend >= 0.

        Parameters
        ----------
        frequency : array_like
            ``x``, repeat purchases in the calibration period.
        monetary_value : array_like
            ``m_x``, the customer's mean spend per repeat purchase (ignored where ``frequency`` is 0).

        Returns
        -------
        numpy.ndarray
            Expected mean spend per future transaction of each customer.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        p, q, v = self.params_.values()
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        population = p * v / (q - 1)
        weight = p * x / (p * x + q - 1)
        with np.errstate(invalid="ignore"):
            own = np.where(m >= 0, (1 - weight) * population + weight * m, np.nan)
        return np.where(x > 0, own, population)

    def _describe_fit(self) -> str:
        text = super()._describe_fit()
        return (
            text
            if not self.left_out_
            else f"{text}; {self.left_out_:,} repeat buyer(s) with no positive spend left out"
        )


def net_expected_spend(spend_model: "GammaGammaModel", summary: pd.DataFrame) -> np.ndarray:
    """Each customer's expected spend per purchase, less the share they return on later days (``kept_share`` of
    ``btyd_summary``, where the summary has it): a customer who returned everything spends nothing."""
    spend = spend_model.expected_spend(summary["frequency"], summary["monetary_value"])
    return spend * (summary["kept_share"].to_numpy(dtype=float) if "kept_share" in summary else 1.0)


def customer_lifetime_value(
    transactions_model,
    spend_model: GammaGammaModel,
    summary: pd.DataFrame,
    periods: int = 12,
    period_length: float = 4.345,
    discount_rate: float = 0.01,
) -> np.ndarray:
    """Discounted expected spend over the next ``periods`` (each ``period_length`` time units, e.g. months
    of 4.345 weeks), at ``discount_rate`` per period: purchases from the transactions model (BG/NBD,
    Pareto/NBD or MBG/CNBD-k), spend per purchase from Gamma-Gamma.

    Parameters
    ----------
    transactions_model : BetaGeoModel, ParetoNBDModel or MBGCNBDModel
        A fitted purchases model.
    spend_model : GammaGammaModel
        A fitted spend model.
    summary : pandas.DataFrame
        The BTYD summary (``btyd_summary``): ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    periods : int, default 12
        Discounting periods.
    period_length : float, default 4.345
        Length of one period in the models' time unit (4.345 weeks: a month).
    discount_rate : float, default 0.01
        Discount rate per period.

    Returns
    -------
    numpy.ndarray
        Each customer's discounted expected spend over ``periods x period_length`` (NaN where the spend
        model has no expected spend: a negative mean spend).

    Raises
    ------
    ValueError
        The summary lacks a column, has missing values or impossible rows.
    sklearn.exceptions.NotFittedError
        A model is not fitted.

    Examples
    --------
    >>> from segkit.clv import BetaGeoModel, GammaGammaModel, btyd_summary, customer_lifetime_value
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> summary = btyd_summary(world.transactions, "2026-03-31", unit="W")
    >>> value = customer_lifetime_value(BetaGeoModel().fit(summary), GammaGammaModel().fit(summary), summary)
    >>> value[:3].round(0).tolist()
    [148.0, 2387.0, 0.0]
    """
    data = check_summary(summary, (*BTYD_COLUMNS, "monetary_value"))
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    spend = net_expected_spend(spend_model, summary)
    value = np.zeros(len(data))
    previous = np.zeros(len(data))
    for k in range(1, periods + 1):
        cumulative = transactions_model.conditional_expected_purchases(k * period_length, x, t_x, T)
        with np.errstate(over="ignore"):  # a factor beyond floats discounts to nothing (Python's ** raised)
            value += (cumulative - previous) * spend / np.power(1.0 + discount_rate, k)
        previous = cumulative
    return value
