"""Cohort retention: members grouped by the month of their first purchase."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.parse import parse_day


def _month_number(dates: pd.Series) -> np.ndarray:
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()


def cohort_retention(occasions: pd.DataFrame, as_of) -> pd.DataFrame:
    """Share of each first-purchase cohort that buys in month k after it (k = 0 is the first month).

    ``occasions`` comes from ``segkit.features.purchase_occasions``. Rows are
    cohorts (``YYYY-MM``), columns k = 0, 1, ...; months after ``as_of`` are
    empty (not yet observed), never zero. The cohort sizes are in ``.attrs["sizes"]``.
    """
    month = _month_number(occasions["date"])
    first = pd.Series(month).groupby(occasions["member_id"].to_numpy()).transform("min").to_numpy()
    active = pd.DataFrame({"cohort": first, "k": month - first, "member_id": occasions["member_id"].to_numpy()})
    counts = active.drop_duplicates().groupby(["cohort", "k"]).size().unstack(fill_value=0)
    sizes = counts[0]
    retention = counts.div(sizes, axis=0)
    last_month = _month_number(pd.Series([parse_day(as_of)]))[0]
    observed = np.arange(retention.shape[1])[None, :] <= (last_month - retention.index.to_numpy())[:, None]
    retention = retention.where(observed)
    retention.index = [f"{m // 12}-{m % 12 + 1:02d}" for m in retention.index]
    retention.index.name, retention.columns.name = "cohort", "months_after_first_purchase"
    retention.attrs["sizes"] = sizes.set_axis(retention.index)
    return retention
