"""Progress bars for long work: shown on a terminal, silent in logs and tests."""

from __future__ import annotations

from tqdm import tqdm  # not tqdm.auto: in notebooks it wants ipywidgets and warns without them

BIG = 1_000_000  # rows from which loading and writing show a bar


def progress(desc: str, total: int | None = None, unit: str = "it", show: bool = True):
    """A tqdm bar, off when ``show`` is false or output is not a terminal."""
    return tqdm(desc=desc, total=total, unit=unit, unit_scale=True, leave=False, disable=None if show else True)
