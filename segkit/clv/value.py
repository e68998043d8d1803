"""Per-customer value from a fitted purchases model: what ``segkit clv`` and the customer-value notebook share.

Whatever cannot be computed is said in ``notes`` instead of silently left out:
a model that forecasts no purchases, a spend model that cannot be fitted, and
the customers a model cannot serve. The customers it can serve still get their values.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .base import BTYD_COLUMNS, check_summary
from .models import GammaGammaModel, customer_lifetime_value


@dataclass
class CustomerValue:
    """The summary with ``p_alive``, ``expected_purchases``, ``expected_spend`` and ``clv`` (those that could
    be computed), the fitted spend model (None if none) and one line per thing that could not be computed."""

    table: pd.DataFrame
    spend: GammaGammaModel | None = None
    notes: list[str] = field(default_factory=list)


def customer_value(summary: pd.DataFrame, purchases, horizon: float, periods: int = 12,
                   discount_rate: float = 0.01) -> CustomerValue:
    """P(alive) from ``purchases`` (a fitted BG/NBD, Pareto/NBD or MBG/CNBD-k); expected purchases over
    ``horizon`` units if the model can forecast them; Gamma-Gamma spend and CLV (``periods`` discounting
    periods within the horizon) for every customer its formula serves."""
    check_summary(summary, (*BTYD_COLUMNS, "monetary_value"))
    table = summary.copy()
    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    table["p_alive"] = purchases.probability_alive(x, t_x, T)
    name = type(purchases).__name__
    notes = [] if purchases.converged_ else [f"{name} did not converge: its estimates are uncertain"]
    if not hasattr(purchases, "conditional_expected_purchases"):
        notes.append(f"{name} gives P(alive) only: no expected_purchases, expected_spend or clv "
                     "(BG/NBD or Pareto/NBD forecast them)")
        return CustomerValue(table, None, notes)
    table["expected_purchases"] = purchases.conditional_expected_purchases(horizon, x, t_x, T)
    try:
        spend = GammaGammaModel().fit(summary)
    except ValueError as error:
        notes.append(f"no expected_spend or clv: {error}")
        return CustomerValue(table, None, notes)
    if not spend.converged_:
        notes.append("GammaGammaModel did not converge: its estimates are uncertain")
    if spend.left_out_:
        notes.append(f"Gamma-Gamma fitted on {spend.n_:,} repeat buyers with a positive mean spend; "
                     f"{spend.left_out_:,} with zero or negative spend left out of the fit")
    table["expected_spend"] = spend.expected_spend(x, summary["monetary_value"])
    table["clv"] = customer_lifetime_value(purchases, spend, summary, periods=periods,
                                           period_length=horizon / periods, discount_rate=discount_rate)
    no_value = int(np.isnan(table["clv"].to_numpy(dtype=float)).sum())
    if no_value:
        no_spend = int(np.isnan(table["expected_spend"].to_numpy(dtype=float)).sum())
        notes.append(f"{no_value:,} customer(s) get no clv ({no_spend:,} of them have no expected_spend: "
                     "a negative mean spend, refunds above purchases)")
    return CustomerValue(table, spend, notes)
