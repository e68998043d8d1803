"""The empirical-Bayes pieces of the rhythm model: priors estimated from every member at once.

* ``moderation_prior``: Smyth's (2004) prior for members' variances (as in
  limma): degrees of freedom ``d0`` and variance ``s0^2`` from the spread of
  the members' sample variances, found with ``inverse_trigamma``.
* ``pace_prior``: mean and between-member variance of member paces (method of moments).
* ``cure_fraction``: ``q``, the chance that a purchase is a member's last (EM
  over every gap, completed and open).
"""

from __future__ import annotations

import numpy as np
from scipy import special


def moderation_prior(s2: np.ndarray, d: np.ndarray) -> tuple[float, float]:
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
    prior_df = 2 * inverse_trigamma(excess)
    prior_var = float(np.exp(e.mean() + special.digamma(prior_df / 2) - np.log(prior_df / 2)))
    return float(prior_df), prior_var


def inverse_trigamma(x: float) -> float:
    """y with trigamma(y) = x (Newton's method, as in limma)."""
    y = 0.5 + 1 / x
    for _ in range(50):
        tri = special.polygamma(1, y)
        step = tri * (1 - tri / x) / special.polygamma(2, y)
        y += step
        if -step / y < 1e-8:
            break
    return float(y)


def pace_prior(mean: np.ndarray, n: np.ndarray, sigma2: np.ndarray) -> tuple[float, float]:
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
