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

from ..io import write_table
from ..progress import BIG, progress
from .gas import generate_gas
from .supplements import generate_supplements

__all__ = ["WORLDS", "World", "generate"]

WORLDS = {"gas": generate_gas, "supplements": generate_supplements}


@dataclass
class World:
    """A generated world: its canonical tables and the truth that produced them."""

    kind: str
    transactions: pd.DataFrame
    members: pd.DataFrame
    advisors: pd.DataFrame
    truth: pd.DataFrame

    def write(self, out: str | Path, fmt: str = "csv") -> dict[str, Path]:
        """Write every table as ``out/<table>.<fmt>``; returns the paths."""
        if fmt not in {"csv", "parquet"}:
            raise ValueError(f"unknown format {fmt!r}; use csv or parquet")
        out = Path(out)
        tables = {"transactions": self.transactions, "members": self.members,
                  "advisors": self.advisors, "truth": self.truth}
        paths = {}
        rows = sum(map(len, tables.values()))
        with progress(f"writing {out}", total=rows, unit="rows", show=rows >= BIG) as bar:
            for name, frame in tables.items():
                paths[name] = write_table(frame, out / f"{name}.{fmt}")
                bar.update(len(frame))
        return paths

    def __repr__(self) -> str:
        return (f"World({self.kind!r}: {len(self.members):,} members, "
                f"{len(self.transactions):,} transactions, {len(self.advisors)} advisors)")


def generate(kind: str, n_members: int, seed: int = 0, as_of: str = "2026-03-31", **options) -> World:
    """Generate a world; the same ``kind``, ``n_members``, ``seed`` and ``as_of`` give the same tables."""
    if kind not in WORLDS:
        raise ValueError(f"unknown world {kind!r}; choose one of {', '.join(WORLDS)}")
    if n_members < 1:
        raise ValueError("n_members must be at least 1")
    return World(kind, **WORLDS[kind](n_members, seed, as_of, **options))
