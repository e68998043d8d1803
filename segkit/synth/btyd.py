"""A world that follows the MBG/CNBD-k story exactly, to check that the model recovers what made it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.parse import parse_day
from . import people


def simulate_mbgcnbd(
    n_customers: int,
    k: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    seed: int = 0,
    start: str = "2024-01-01",
    days: int = 730,
    cohort_days: int = 90,
) -> pd.DataFrame:
    """Transactions (``member_id``, ``date``, ``amount``) of customers whose first purchase falls in the
    first ``cohort_days``: Erlang-``k`` gaps (in days) at rate ``lambda ~ Gamma(r, alpha)``, dropping out
    after each purchase with ``p ~ Beta(a, b)``."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, n_customers)
    drop = rng.beta(a, b, n_customers)
    clock = rng.uniform(0, cohort_days, n_customers)
    members, times = [], []
    active = np.arange(n_customers)
    while active.size:
        members.append(active)
        times.append(clock[active])
        stays = rng.random(active.size) >= drop[active]
        active = active[stays]
        clock[active] += rng.gamma(k, 1 / rate[active])
        active = active[clock[active] <= days]
    member = np.concatenate(members)
    day = np.concatenate(times)
    ids = people.zero_padded_ids(n_customers)
    return pd.DataFrame(
        {"member_id": ids[member], "date": parse_day(start) + pd.to_timedelta(np.floor(day), unit="D"), "amount": 50.0}
    ).sort_values(["member_id", "date"], ignore_index=True)
