"""Every segkit estimator keeps scikit-learn's contract: ``clone``, ``get_params``/``set_params``, an unfitted repr
with its non-default parameters, ``fit`` returning the model, ``NotFittedError`` before ``fit``, a ``summary()``
table after it, and a ``ConvergenceWarning`` when a fit did not converge."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
from conftest import AS_OF
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from segkit.churn import IntervalModel, purchase_gaps
from segkit.churn.propensity import FEATURES, ChurnPropensity
from segkit.clv import BetaGeoModel, GammaGammaModel, MBGCNBDModel, ParetoNBDModel, btyd_summary


@dataclass
class Case:
    """An estimator with non-default parameters, what it is fitted on, and a use that needs a fitted model."""

    model: Any
    changed: tuple[str, ...]  # its parameters that differ from their defaults
    data: str  # the name of the fixture it is fitted on
    use: Callable[[Any, Any], Any]


def _btyd(model: Any, changed: tuple[str, ...]) -> Case:
    return Case(
        model,
        changed,
        "btyd",
        lambda fitted, summary: fitted.probability_alive(*(summary[c] for c in ("frequency", "recency", "T"))),
    )


CASES = {
    "BetaGeoModel": _btyd(BetaGeoModel(penalizer=0.001), ("penalizer",)),
    "ParetoNBDModel": _btyd(ParetoNBDModel(penalizer=0.001), ("penalizer",)),
    "MBGCNBDModel": _btyd(MBGCNBDModel(k_max=3), ("k_max",)),
    "GammaGammaModel": Case(
        GammaGammaModel(penalizer=1e-7),
        ("penalizer",),
        "btyd",
        lambda fitted, summary: fitted.expected_spend(summary["frequency"], summary["monetary_value"]),
    ),
    "ChurnPropensity": Case(
        ChurnPropensity(horizon_days=30, max_iter=20),
        ("horizon_days", "max_iter"),
        "propensity",
        lambda fitted, frames: fitted.predict_proba(frames[-1]),
    ),
    "IntervalModel": Case(
        IntervalModel(max_open_gap_days=120), ("max_open_gap_days",), "gaps", lambda fitted, gaps: fitted.predict(gaps)
    ),
}
# the maximum-likelihood models, whose optimiser can be stopped before it converges
ITERATIVE = ["BetaGeoModel", "ParetoNBDModel", "MBGCNBDModel", "GammaGammaModel"]


@pytest.fixture(scope="module")
def btyd(supplements_world):
    return btyd_summary(supplements_world.transactions, AS_OF, unit="W")


@pytest.fixture(scope="module")
def propensity():
    """Two cutoffs of 30-day frames: random features, the label driven by days overdue."""
    rng = np.random.default_rng(0)
    frames = []
    for cutoff in ("2026-01-31", "2026-02-28"):
        features = pd.DataFrame(rng.normal(size=(300, len(FEATURES))), columns=FEATURES)
        churned = rng.random(300) < 1 / (1 + np.exp(-2 * features["days_overdue"]))
        frames.append(features.assign(cutoff=pd.Timestamp(cutoff), horizon_days=30, churned=churned))
    return frames


@pytest.fixture(scope="module")
def gaps(gas_world):
    return purchase_gaps(gas_world.transactions, AS_OF, gas_world.members)


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    return CASES[request.param]


def test_parameters_round_trip_and_show_in_the_repr(case):
    model = case.model
    params = model.get_params()
    # scikit-learn's repr: the class and only the parameters that differ from their defaults
    assert repr(model) == f"{type(model).__name__}({', '.join(f'{p}={params[p]!r}' for p in case.changed)})"
    fresh = type(model)()
    assert fresh.set_params(**model.get_params()) is fresh and fresh.get_params() == model.get_params()
    assert repr(fresh) == repr(model)
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()


def test_fit_returns_the_model_and_nothing_works_before_it(case, request):
    data = request.getfixturevalue(case.data)
    model = clone(case.model)
    for use in (case.use, lambda fitted, _: fitted.summary()):
        with pytest.raises(NotFittedError, match=type(model).__name__):
            use(model, data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert model.fit(data) is model
    summary = model.summary()
    assert isinstance(summary, pd.DataFrame) and len(summary) > 0
    assert np.size(case.use(model, data)) > 0
    assert repr(model).startswith(f"<{type(model).__name__}: ")
    assert "<table" in model._repr_html_()
    # the parameters carry everything: a clone, fitted again, is the same model; and a clone starts unfitted
    copy = clone(model)
    with pytest.raises(NotFittedError):
        copy.summary()
    pd.testing.assert_frame_equal(copy.fit(data).summary(), summary)


@pytest.mark.parametrize("name", ITERATIVE)
def test_a_fit_stopped_early_warns(name, btyd, monkeypatch):
    minimize = scipy.optimize.minimize

    def one_step(*args, options=None, **kwargs):
        return minimize(*args, options={**(options or {}), "maxiter": 1}, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", one_step)
    model = clone(CASES[name].model)
    with pytest.warns(ConvergenceWarning, match=f"{name} did not converge"):
        model.fit(btyd)
    assert not model.converged_ and "NOT converged" in repr(model)
