"""Synthetic member worlds, deterministic by seed, with the truth behind them.

``generate("gas" | "supplements", n_members, seed, as_of)`` returns a
``World``: canonical ``transactions``, ``members``, ``advisors`` and a
``truth`` table that models can be scored against (``segkit.evaluation``
reads it back and scores them). A leaf: nothing here calls segkit's models,
features or decisions, so a world stays the same when they change. The one
exception is ``synth.loop`` (not imported here): the closed loop that runs
segkit's alerts and call lists on a gas world, day by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data.parse import FIRST_DAY, parse_day
from ..io import write_tables
from ..progress import BIG, progress
from .gas import generate_gas
from .supplements import generate_supplements
from .survey import SURVEY_TABLES

__all__ = ["WORLDS", "World", "generate"]

WORLDS = {"gas": generate_gas, "supplements": generate_supplements}
MAX_MEMBERS = 50_000_000  # 10M gas households are 107M rows and 20 GB at their peak (docs/benchmarks.md)
MAX_HISTORY_DAYS = 7305  # 20 years; prices rise 4 % a year to the as-of year's: 25 years back they would be negative


@dataclass
class World:
    """A generated world: its canonical tables and the truth that produced them.

    Attributes
    ----------
    kind : str
        ``gas`` or ``supplements``.
    transactions : pandas.DataFrame
        Canonical transactions (``member_id``, ``date``, ``amount``, ``order_id``,
        ``quantity``, ``product``, ``channel``, ``status``).
    members : pandas.DataFrame
        Canonical members, with names, phones, tiers, household sizes, birthdays and
        advisors.
    advisors : pandas.DataFrame
        Canonical advisors, with teams, levels and capacities.
    truth : pandas.DataFrame
        One row per member: what generated their purchases. Gas: the household's true
        mean interval and regularity, whether and when it switched to a competitor
        (``switched``, ``last_refill``, ``missed_refill_due``); supplements: the purchase
        rate, dropout probability and ``alive_at_as_of``.
    """

    kind: str
    transactions: pd.DataFrame
    members: pd.DataFrame
    advisors: pd.DataFrame
    truth: pd.DataFrame

    def write(self, out: str | Path, fmt: str = "csv") -> dict[str, Path]:
        """Write every table as ``out/<table>.<fmt>``, as one set: all or none (a stop midway left a new
        transactions file beside the old members). A folder that holds a benefit survey is refused. Returns the
        paths."""
        if fmt not in {"csv", "parquet"}:
            raise ValueError(f"unknown format {fmt!r}; use csv or parquet")
        out = Path(out)
        if any((out / f"{name}.csv").exists() for name in SURVEY_TABLES):
            raise ValueError(f"{out} holds a benefit survey: give the world a folder of its own")
        tables = {
            "transactions": self.transactions,
            "members": self.members,
            "advisors": self.advisors,
            "truth": self.truth,
        }
        paths = {name: out / f"{name}.{fmt}" for name in tables}
        rows = sum(map(len, tables.values()))
        with progress(f"writing {out}", total=rows, unit="rows", show=rows >= BIG) as bar:
            write_tables({paths[name]: frame for name, frame in tables.items()}, lambda frame: bar.update(len(frame)))
        return paths

    def __repr__(self) -> str:
        return (
            f"World({self.kind!r}: {len(self.members):,} members, "
            f"{len(self.transactions):,} transactions, {len(self.advisors)} advisors)"
        )


def generate(kind: str, n_members: int, seed: int = 0, as_of: str = "2026-03-31", **options) -> World:
    """Generate a world; the same ``kind``, ``n_members``, ``seed`` and ``as_of`` give the same tables.

    Parameters
    ----------
    kind : {"gas", "supplements"}
        ``gas``: households refilling gas cylinders on a rhythm of their own (household
        size, season, Spring Festival travel), some switching to a competitor.
        ``supplements``: members buying supplements at BG/NBD-like random rates, some
        dropping out.
    n_members : int
        Members (households) to simulate, at least 1.
    seed : int, default 0
        The random seed.
    as_of : str, default "2026-03-31"
        The last day of the history.
    **options
        Passed to the world's generator: ``history_days`` (gas 730, supplements 1095).

    Returns
    -------
    World
        The canonical ``transactions``, ``members`` and ``advisors`` and the ``truth``;
        ``write(out)`` writes them as CSV or Parquet.

    Raises
    ------
    ValueError
        An unknown ``kind``, or ``n_members`` below 1.

    Examples
    --------
    >>> from segkit.synth import generate
    >>> world = generate("gas", 50, seed=3)
    >>> world
    World('gas': 50 members, 818 transactions, 3 advisors)
    >>> world.transactions[["member_id", "date", "amount", "quantity", "product"]].head(2)
      member_id       date  amount  quantity   product
    0   0000014 2024-03-31   110.8         1  LPG 15kg
    1   0000041 2024-03-31   105.8         1  LPG 15kg
    >>> world.transactions.equals(generate("gas", 50, seed=3).transactions)
    True
    >>> generate("gas", 50, seed=3, history_days=365)
    World('gas': 50 members, 451 transactions, 3 advisors)
    """
    if kind not in WORLDS:
        raise ValueError(f"unknown world {kind!r}; choose one of {', '.join(WORLDS)}")
    if n_members < 1:
        raise ValueError("n_members must be at least 1")
    if n_members > MAX_MEMBERS:
        raise ValueError(
            f"n_members {n_members:,} is more than {MAX_MEMBERS:,}: a world that size does not fit in memory"
        )
    history_days = options.get("history_days")
    if history_days is not None and history_days > MAX_HISTORY_DAYS:
        raise ValueError(f"history_days {history_days:,} is more than {MAX_HISTORY_DAYS:,} (20 years)")
    # without history_days, the longest a world's generator takes by default (supplements: 1095 days)
    first_day = parse_day(as_of) - pd.Timedelta(days=history_days or 3 * 365)
    if first_day < FIRST_DAY:
        raise ValueError(f"the history would start on {first_day.date()}, before {FIRST_DAY.date()}: a later as_of")
    return World(kind, **WORLDS[kind](n_members, seed, as_of, **options))
