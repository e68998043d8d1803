"""What every segkit model shares: scikit-learn's estimator contract and a summary that reads well.

A segkit model is a scikit-learn estimator for real: ``__init__`` only stores
its parameters (so ``get_params``, ``set_params`` and ``sklearn.base.clone``
work, and an unfitted model prints every parameter that differs from its
default), ``fit`` returns the model, learned attributes end in ``_``, using a
model before ``fit`` raises ``NotFittedError``, and a fit that did not
converge warns with ``ConvergenceWarning``. ``summary()`` is a DataFrame
(estimates, with standard errors and intervals where the model has them), which
a notebook shows as a table under a one-line description of the fit.
"""

from __future__ import annotations

import html
import warnings

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

from .result import table_html

__all__ = ["ConvergenceWarning", "Estimator", "NotFittedError", "warn_not_converged"]


class Estimator(BaseEstimator):
    """Base of segkit's models. Subclasses define ``fit``, ``summary`` and ``_describe_fit`` (one line on
    the fitted model, shown by ``repr``)."""

    def _check_fitted(self) -> None:
        """``NotFittedError`` (scikit-learn's) when ``fit`` has not run."""
        check_is_fitted(self)

    def summary(self) -> pd.DataFrame:
        raise NotImplementedError

    def _describe_fit(self) -> str:
        raise NotImplementedError

    def _is_fitted(self) -> bool:
        try:
            check_is_fitted(self)
        except NotFittedError:
            return False
        return True

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 (scikit-learn's signature)
        if self._is_fitted():
            return f"<{type(self).__name__}: {self._describe_fit()}>"
        return super().__repr__(N_CHAR_MAX)

    def _repr_html_(self) -> str:
        """In a notebook: the one-line description, then ``summary()`` as a table."""
        if not self._is_fitted():
            return f"<pre>{html.escape(repr(self))}</pre>"
        return f"<p><b>{html.escape(type(self).__name__)}</b>: {html.escape(self._describe_fit())}</p>" + table_html(
            self.summary()
        )

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """Notebooks take the HTML above rather than scikit-learn's estimator diagram."""
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


def warn_not_converged(model: Estimator, detail: str) -> None:
    """A ``ConvergenceWarning`` naming the model: its estimates may be off."""
    warnings.warn(
        f"{type(model).__name__} did not converge: {detail}; its estimates may be unreliable",
        ConvergenceWarning,
        stacklevel=3,
    )
