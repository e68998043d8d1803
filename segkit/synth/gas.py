"""The gas world: households refilling LPG cylinders, with the truth an oracle needs.

How a household behaves:

* **Rhythm.** Daily gas use grows with household size (a family of three
  burns about one 15 kg cylinder a month; use grows as ``size ** 0.6``),
  times a household factor (log-normal, sd 0.15). A refill buys 1 or 2
  cylinders; the true mean interval is ``cylinders / daily use`` at average
  season.
* **Regularity.** Each interval is the mean interval times a Gamma(k, 1/k)
  draw; k varies by household (log-normal around 12, clipped to 2..60), so
  some refill like clockwork (CV = 1/sqrt(k) ~ 0.13) and some do not (~ 0.7).
* **Season.** Winter burns more: use is scaled by
  ``1 + 0.25 cos(2 pi (day of year - 20) / 365.25)``, so intervals starting in
  January are ~ 20 % shorter than at average season and those in July longer.
* **Spring Festival.** A quarter of the households travel for 7-21 days
  around the festival; an interval spanning it is stretched by the trip.
* **Switching.** At each refill a household switches to a competitor with its
  own probability (Beta(1, 60), about 1.6 % per refill on average). A
  switched household never buys again; its missed refill was due one interval
  after its last refill.

``truth`` has one row per household: ``true_mean_interval`` (days),
``regularity_k`` (the Gamma shape), ``interval_cv``, ``travels_spring_festival``,
``switched``, ``last_refill`` and ``missed_refill_due`` (for switchers), and
``active_at_as_of`` (not switched by the as-of date).

``gas_history`` also returns the households as they stand at the as-of date
(``GasHouseholds``: each one's next refill on its rhythm, and whether it still
buys from us), so that a simulation (``synth.loop``) carries them on day by day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..calendar import SPRING_FESTIVAL
from ..data.parse import parse_day
from ..progress import progress
from . import people

CYLINDER_PRICE = 115.0
SEASON_AMPLITUDE = 0.25
SWITCH_BETA = (1.0, 60.0)


def season_factor(day_of_year: np.ndarray) -> np.ndarray:
    """Relative gas use by day of year: 1.25 in late January, 0.75 in late July."""
    return 1.0 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (day_of_year - 20) / 365.25)


@dataclass
class GasHouseholds:
    """The households of a gas world and where each one stands: rhythm, trips and switching propensity, the
    day (counted from ``start``) of its next refill on its rhythm, and whether it still buys from us. A
    household that switched keeps refilling on its rhythm, elsewhere: a simulation (``synth.loop``) can win
    it back."""

    ids: np.ndarray
    start: pd.Timestamp
    price_year: int  # the year in which a cylinder costs CYLINDER_PRICE (4 % more each later year)
    cylinders: np.ndarray
    mean_interval: np.ndarray
    k: np.ndarray
    travels: np.ndarray
    trip_days: np.ndarray
    switch_p: np.ndarray
    next_refill: np.ndarray
    with_us: np.ndarray

    def __post_init__(self):
        self.festival_days = ((SPRING_FESTIVAL - self.start).days).to_numpy(dtype=float)

    def intervals(self, who: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        """Days from each of ``who``'s refill at ``next_refill`` to the one after: the mean interval times
        ``gamma`` (one Gamma(k, 1/k) draw each), shorter in winter, stretched by a Spring Festival trip;
        at least 2."""
        t = self.next_refill[who]
        doy = (self.start.dayofyear + t) % 365.25
        interval = self.mean_interval[who] * gamma / season_factor(doy)
        ends = t + interval
        spans = (self.festival_days[None, :] > t[:, None] - 3) & (self.festival_days[None, :] < ends[:, None])
        interval += np.where(self.travels[who] & spans.any(axis=1), self.trip_days[who], 0.0)
        return np.maximum(interval, 2.0)

    def purchases(
        self, rng: np.random.Generator, member_idx: np.ndarray, day: np.ndarray, first_order: int = 1
    ) -> pd.DataFrame:
        """Transaction rows of the refills of households ``member_idx`` on days ``day`` (from ``start``),
        order ids numbered from ``first_order``; a delivery fee on 30 % of them."""
        dates = people.days_to_dates(self.start, day)
        qty = self.cylinders[member_idx]
        year_price = CYLINDER_PRICE * (1 + 0.04 * (pd.DatetimeIndex(dates).year - self.price_year))
        delivery = np.where(rng.random(member_idx.size) < 0.3, 5.0, 0.0)
        return pd.DataFrame(
            {
                "member_id": self.ids[member_idx],
                "date": dates,
                "amount": np.round(qty * year_price + delivery, 2),
                "order_id": [f"R{i:09d}" for i in range(first_order, first_order + member_idx.size)],
                "quantity": qty,
                "product": np.where(qty == 1, "LPG 15kg", "LPG 15kg x2"),
                "channel": rng.choice(["phone", "wechat", "app", "walk-in"], member_idx.size, p=[0.5, 0.3, 0.15, 0.05]),
                "status": "completed",
            }
        )


def generate_gas(
    n_members: int, seed: int, as_of: str | pd.Timestamp, history_days: int = 730
) -> dict[str, pd.DataFrame]:
    """Simulate ``n_members`` households over ``history_days`` up to ``as_of``."""
    return gas_history(n_members, seed, as_of, history_days)[0]


def gas_history(
    n_members: int, seed: int, as_of: str | pd.Timestamp, history_days: int = 730
) -> tuple[dict[str, pd.DataFrame], GasHouseholds]:
    """The gas world up to ``as_of`` (``generate_gas``'s tables) and its households as they stand at its end:
    where a simulation carries on (``synth.loop``)."""
    rng = np.random.default_rng(seed)
    as_of = parse_day(as_of)
    start = as_of - pd.Timedelta(days=history_days)
    n = n_members

    size = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.12, 0.24, 0.32, 0.19, 0.09, 0.04])
    cylinders = np.where(rng.random(n) < 0.08 + 0.04 * (size - 1), 2, 1)
    daily_use = (size / 3.0) ** 0.6 / 30.0 * rng.lognormal(0.0, 0.15, n)
    mean_interval = cylinders / daily_use
    k = np.clip(rng.lognormal(np.log(12.0), 0.6, n), 2.0, 60.0)
    travels = rng.random(n) < 0.25
    trip_days = rng.uniform(7, 21, n)
    switch_p = rng.beta(*SWITCH_BETA, n)

    # 70 % were customers before the history starts, 30 % join during it.
    joined_before = rng.random(n) < 0.7
    join_day = np.where(joined_before, -rng.uniform(0, 1500, n), rng.uniform(0, history_days, n))
    first_day = np.where(joined_before, rng.uniform(0, 1, n) * mean_interval, join_day + rng.uniform(0, 3, n))

    ids = people.zero_padded_ids(n)
    households = GasHouseholds(
        ids,
        start,
        as_of.year,
        cylinders,
        mean_interval,
        k,
        travels,
        trip_days,
        switch_p,
        next_refill=first_day.copy(),
        with_us=np.ones(n, dtype=bool),
    )
    t, alive = households.next_refill, households.with_us
    last_refill = np.full(n, np.nan)
    missed_due = np.full(n, np.nan)
    rows_member, rows_day = [], []
    active = np.flatnonzero(t <= history_days)
    with progress("simulating gas refills", unit="rows") as bar:
        while active.size:
            bar.update(active.size)
            rows_member.append(active)
            rows_day.append(t[active])
            last_refill[active] = t[active]
            interval = households.intervals(active, rng.gamma(k[active], 1.0 / k[active]))
            switching = rng.random(active.size) < switch_p[active]
            alive[active[switching]] = False
            missed_due[active[switching]] = t[active[switching]] + interval[switching]
            t[active] += interval
            active = active[~switching & (t[active] <= history_days)]

    member_idx = np.concatenate(rows_member)
    day = np.concatenate(rows_day)
    order = np.lexsort((member_idx, day))
    transactions = households.purchases(rng, member_idx[order], day[order])

    advisors = people.advisors(rng, n, teams={"regular service": 0.7, "new-member service": 0.15, "VIP service": 0.15})
    members = pd.DataFrame(
        {
            "member_id": ids,
            "name": people.chinese_names(rng, n),
            "phone": people.mobile_phones(rng, n),
            "join_date": people.days_to_dates(start, np.minimum(join_day, first_day)),
            "tier": None,
            "household_size": size,
            "birthday": people.birthdays(rng, n),
            "advisor_id": people.assign_advisors(rng, advisors, n),
            "do_not_call": people.flags(rng, n, 0.02),
            "wants_new_advisor": people.flags(rng, n, 0.01),
        }
    )
    switched = ~alive
    truth = pd.DataFrame(
        {
            "member_id": ids,
            "household_size": size,
            "cylinders": cylinders,
            "true_mean_interval": np.round(mean_interval, 3),
            "regularity_k": np.round(k, 3),
            "interval_cv": np.round(1 / np.sqrt(k), 4),
            "travels_spring_festival": travels,
            "switch_probability": np.round(switch_p, 5),
            "switched": switched,
            "last_refill": pd.Series(people.days_to_dates(start, np.nan_to_num(last_refill))).where(switched),
            "missed_refill_due": pd.Series(people.days_to_dates(start, np.nan_to_num(missed_due))).where(switched),
        }
    )
    truth["active_at_as_of"] = ~switched
    tables = {"transactions": transactions, "members": members, "advisors": advisors, "truth": truth}
    return tables, households
