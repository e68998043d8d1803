"""What the buy-till-you-die models share: maximum likelihood on log parameters, standard errors,
a readable summary, and checks of the BTYD summary table."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize

from ..estimator import Estimator, warn_not_converged

BTYD_COLUMNS = ("frequency", "recency", "T")


def check_summary(summary: pd.DataFrame, columns=BTYD_COLUMNS) -> pd.DataFrame:
    """The BTYD columns as floats, with a clear error for missing or impossible values."""
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ValueError(
            f"the summary lacks {', '.join(missing)}; build it with segkit.clv.btyd_summary "
            f"(columns found: {', '.join(map(str, summary.columns))})"
        )
    data = summary[list(columns)].astype(float)
    if data.isna().any().any():
        raise ValueError(f"the summary has missing values in {', '.join(data.columns[data.isna().any()])}")
    if "recency" in data and "T" in data:
        bad = (
            (data["frequency"] < 0)
            | (data["recency"] < 0)
            | (data["recency"] > data["T"])
            | ((data["frequency"] == 0) & (data["recency"] != 0))
        )
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} rows are not valid BTYD summaries (need 0 <= recency <= T, "
                f"recency 0 when frequency is 0), e.g. row {data.index[bad][0]!r}"
            )
    return data


class MaximumLikelihoodModel(Estimator):
    """Base of the BTYD estimators: subclasses define ``_parameter_names``, ``_fit`` (which calls
    ``_maximize``) and ``_log_likelihood``. ``penalizer`` adds ``penalizer * sum(theta ** 2)`` to the
    mean negative log-likelihood (0: plain maximum likelihood).

    Parameters
    ----------
    penalizer : float, default 0.0
        Weight of the L2 penalty on the parameters, added to the mean negative log-likelihood per
        customer. 0 is plain maximum likelihood; a small value (0.001) keeps the estimates finite on
        data that barely identify them, at the cost of a little bias toward 0.

    Attributes
    ----------
    params_ : dict of str to float
        The estimates, by parameter name (``_parameter_names``).
    standard_errors_ : dict of str to float
        Their standard errors, from the inverse Hessian of the log-likelihood (NaN when it is singular).
    log_likelihood_ : float
        The log-likelihood at the estimates, summed over customers.
    n_ : int
        Customers the model was fitted on.
    converged_ : bool
        Whether the likelihood's gradient at the estimates is near zero; ``fit`` warns when it is not.
    """

    _parameter_names: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> "MaximumLikelihoodModel":
        """Fit on a BTYD summary (``btyd_summary``: one row per customer); returns the model. Warns with
        ``ConvergenceWarning`` when the likelihood's gradient at the estimates is not near zero.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer, as ``segkit.clv.btyd_summary`` makes it: ``frequency`` (repeat
            purchases), ``recency`` (first to last purchase) and ``T`` (first purchase to the end of the
            calibration period), in one time unit; Gamma-Gamma reads ``frequency`` and
            ``monetary_value``, MBG/CNBD-k also ``litt``. Other columns are ignored. Identical rows are
            fitted once, with a weight.

        Returns
        -------
        self
            The fitted model, with ``params_``, ``standard_errors_``, ``log_likelihood_``, ``n_`` and
            ``converged_``.

        Raises
        ------
        ValueError
            The summary has no customer, lacks a column the model needs or has missing values in
            one; a row is not a valid BTYD summary (negative frequency or recency, recency after
            ``T``, or a recency without a repeat purchase); the likelihood is not finite at the
            starting point or could not be maximized. Gamma-Gamma: fewer than 2 repeat buyers with
            a positive mean spend.
            MBG/CNBD-k: ``k_max`` is not a whole number of at least 1.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When the likelihood's gradient at the estimates is not near zero: the estimates may be
            unreliable (``converged_`` is False).
        """
        if not len(summary):
            raise ValueError(f"{type(self).__name__}: no customer to fit: nobody bought by the end of the calibration")
        self._fit(summary)
        if not self.converged_:
            warn_not_converged(self, "the likelihood's gradient at the estimates is not near zero")
        unknown = [name for name, error in self.standard_errors_.items() if np.isnan(error)]
        if unknown:
            warnings.warn(
                f"{type(self).__name__}: {self.n_:,} customer(s) do not pin down {', '.join(unknown)} (the "
                "likelihood is flat there: no standard error); the estimates and what they predict may mean "
                "nothing",
                stacklevel=2,
            )
        return self

    def _fit(self, summary: pd.DataFrame) -> None:
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once it has estimates (``params_``): other learned attributes (``left_out_``, ``k_``)
        are set while fitting."""
        return hasattr(self, "params_")

    def _log_likelihood(self, params: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _initial(self, data: dict[str, np.ndarray]) -> np.ndarray:
        return np.ones(len(self._parameter_names))

    def _gradient(self, params: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray | None:
        """Per-row derivatives of the log-likelihood by each parameter (rows x parameters), or None
        to let the optimizer difference the likelihood."""
        return None

    def _maximize(self, data: dict[str, np.ndarray], weights: np.ndarray | None = None) -> None:
        """Maximize the (weighted) log-likelihood over log parameters; standard errors from the Hessian."""
        weights = np.ones(len(next(iter(data.values())))) if weights is None else weights
        total = weights.sum()
        analytic = self._gradient(self._initial(data), data) is not None

        def objective(log_params):
            params = np.exp(log_params)
            value = -(weights * self._log_likelihood(params, data)).sum() / total + self.penalizer * (params**2).sum()
            if not analytic:
                return value
            gradient = -(weights @ self._gradient(params, data)) / total + 2 * self.penalizer * params
            return value, gradient * params  # chain rule: d/d log(theta) = theta d/d theta

        start = np.log(self._initial(data))
        if not np.isfinite(objective(start) if not analytic else objective(start)[0]):
            raise ValueError(f"{type(self).__name__}: the likelihood is not finite at the starting point")
        result = optimize.minimize(objective, start, jac=analytic, method="BFGS", options={"gtol": 1e-8})
        if _gradient_norm(objective, result.x, analytic) > 1e-4:  # not at a maximum: a slower, surer path
            result = optimize.minimize(
                lambda p: objective(p)[0] if analytic else objective(p),
                result.x,
                method="Nelder-Mead",
                options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 2_000, "maxfev": 4_000},
            )
            result = optimize.minimize(objective, result.x, jac=analytic, method="BFGS", options={"gtol": 1e-8})
        params = np.exp(result.x)
        if not np.all(np.isfinite(params)) or not np.isfinite(result.fun):
            raise ValueError(f"{type(self).__name__}: the likelihood could not be maximized ({result.message})")
        self.params_ = dict(zip(self._parameter_names, params))
        self.log_likelihood_ = float((weights * self._log_likelihood(params, data)).sum())
        self.n_ = int(total)
        self.converged_ = _gradient_norm(objective, result.x, analytic) < 1e-4
        if analytic:
            hessian = _jacobian(lambda p: -(weights @ self._gradient(p, data)), params)
        else:
            hessian = _hessian(lambda p: -(weights * self._log_likelihood(p, data)).sum(), params)
        try:
            variances = np.diag(np.linalg.inv((hessian + hessian.T) / 2))
        except np.linalg.LinAlgError:
            variances = np.full(len(self._parameter_names), np.nan)
        with np.errstate(invalid="ignore"):  # a variance that is not positive: the likelihood is flat there
            errors = np.where(np.isfinite(variances) & (variances > 0), np.sqrt(variances), np.nan)
        self.standard_errors_ = dict(zip(self._parameter_names, errors))

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95 % intervals (normal approximation).

        Returns
        -------
        pandas.DataFrame
            One row per parameter (index ``parameter``): ``estimate``, ``std_error``, ``lower_95``
            and ``upper_95`` (estimate -/+ 1.96 standard errors).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        self._check_fitted()
        table = pd.DataFrame({"estimate": self.params_, "std_error": self.standard_errors_})
        table["lower_95"] = table["estimate"] - 1.96 * table["std_error"]
        table["upper_95"] = table["estimate"] + 1.96 * table["std_error"]
        table.index.name = "parameter"
        return table

    def _describe_fit(self) -> str:
        params = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (
            f"{params}; {self.n_:,} customers; "
            f"log-likelihood {self.log_likelihood_:,.2f}{'' if self.converged_ else '; NOT converged'}"
        )


def _gradient_norm(objective, x: np.ndarray, analytic: bool) -> float:
    if analytic:
        return float(np.linalg.norm(objective(x)[1]))
    return float(np.linalg.norm(optimize.approx_fprime(x, objective, 1e-7)))


def _jacobian(gradient, x: np.ndarray, relative_step: float = 1e-5) -> np.ndarray:
    """Central-difference Jacobian of an analytic ``gradient`` at ``x`` (the Hessian of its function)."""
    columns = []
    for i in range(len(x)):
        step = relative_step * max(abs(x[i]), 1e-3)
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        columns.append((gradient(up) - gradient(down)) / (2 * step))
    return np.column_stack(columns)


def _hessian(function, x: np.ndarray, relative_step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``function`` at ``x``."""
    n = len(x)
    step = relative_step * np.maximum(np.abs(x), 1e-3)
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):

            def shifted(di, dj, i=i, j=j):
                point = x.copy()
                point[i] += di * step[i]
                point[j] += dj * step[j]
                return function(point)

            value = (shifted(1, 1) - shifted(1, -1) - shifted(-1, 1) + shifted(-1, -1)) / (4 * step[i] * step[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian
