"""Demo inputs for notebooks run without data (the tests, the docs gallery, a first look in JupyterLab)."""

from __future__ import annotations

from pathlib import Path


def demo_inputs(world: str, members: int, as_of, folder: Path) -> dict[str, Path]:
    """Generate a small world (seed 1) into ``folder/demo_world``; returns the paths of its tables
    (``transactions``, ``members``, ``advisors``, ``truth``)."""
    from ..synth import generate

    return generate(world, members, seed=1, as_of=as_of).write(folder / "demo_world")
