"""Synthetic member worlds, deterministic by seed, with the truth behind them.

``generate("gas" | "supplements", n_members, seed, as_of)`` returns a
``World``: canonical ``transactions``, ``members``, ``advisors`` and a
``truth`` table that models can be scored against.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..io import write_table
from ..progress import BIG, progress
from .gas import generate_gas
from .supplements import generate_supplements

__all__ = ["WORLDS", "World", "generate", "read_truth"]

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


def read_truth(path: str | Path) -> pd.DataFrame:
    """A world's ``truth`` file as written by ``World.write`` (CSV or Parquet), with its types back:
    ids as text, flags as booleans, dates as dates."""
    path = Path(path)
    if path.suffix.lower() in {".parquet", ".pq"}:
        truth = pd.read_parquet(path)
    else:
        truth = pd.read_csv(path, dtype={"member_id": str}, encoding="utf-8-sig", keep_default_na=True)
    for column in truth.columns:
        if truth[column].dtype == object and truth[column].dropna().isin(["True", "False"]).all():
            truth[column] = truth[column].map({"True": True, "False": False})
    for column in ("last_refill", "missed_refill_due"):
        if column in truth:
            truth[column] = pd.to_datetime(truth[column])
    return truth


def generate(kind: str, n_members: int, seed: int = 0, as_of: str = "2026-03-31", **options) -> World:
    """Generate a world; the same ``kind``, ``n_members``, ``seed`` and ``as_of`` give the same tables."""
    if kind not in WORLDS:
        raise ValueError(f"unknown world {kind!r}; choose one of {', '.join(WORLDS)}")
    if n_members < 1:
        raise ValueError("n_members must be at least 1")
    return World(kind, **WORLDS[kind](n_members, seed, as_of, **options))
